// The checkout page's enhancement. The server-rendered form works without it (it posts and
// redirects); with it, each section is saved to the guest session as the shopper goes, a reload
// or the back button keeps what was typed, a retry after a gateway failure reuses the same
// Idempotency-Key, and the funnel events are sent with sendBeacon. The card is typed into the
// payment provider's own frame (Stripe.js, loaded before this script); this page only ever holds
// the pm_ id it gives back, and answers a 3-D Secure request with the provider's modal, then the
// same checkout again. Nothing here is trusted: the API validates everything again and its own
// messages are what the shopper reads.
(() => {
  'use strict';

  const STILL_AUTHENTICATING = 'Your bank still needs you to confirm this payment. Press Pay to open the check again.';
  const BRANDS = { visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express', discover: 'Discover', diners: 'Diners Club', jcb: 'JCB', unionpay: 'UnionPay' };
  const GATEWAY_TROUBLE = "We're having trouble processing your payment. Please try again in a moment.";
  const PAGE_TROUBLE = 'Something went wrong on this page. What you typed is kept; please try again.';
  const SECTIONS = ['shipping', 'payment', 'review'];

  const beacon = (name, props) => {
    const body = JSON.stringify(Object.assign({ name }, props));
    // text/plain keeps the beacon a simple request; the server reads it as JSON.
    if (!navigator.sendBeacon || !navigator.sendBeacon('/api/v2/analytics/events', new Blob([body], { type: 'text/plain' }))) {
      fetch('/api/v2/analytics/events', { method: 'POST', body, keepalive: true, headers: { 'Content-Type': 'text/plain' } }).catch(() => {});
    }
  };

  const read = (storage, key) => {
    try { return JSON.parse(storage.getItem(key)); } catch { return null; }
  };
  const write = (storage, key, value) => {
    try { value == null ? storage.removeItem(key) : storage.setItem(key, JSON.stringify(value)); } catch { /* storage full or off: the page still works */ }
  };

  /** The confirmation page: announce an account created from it. */
  const created = document.getElementById('account-created');
  if (created) {
    beacon('account_created', { order_id: created.dataset.orderId });
  }
  // Tell a screen reader where it landed, unless the page put the focus on an error itself.
  const confirmed = document.getElementById('confirmed');
  if (confirmed && !document.querySelector('[autofocus]')) {
    confirmed.focus();
  }

  /** A cart already ordered (this tab's back button, or another tab): link to its order when this browser knows it. */
  const showOrdered = (container, cartId) => {
    const order = read(localStorage, 'checkout-order:' + cartId);
    if (order && !container.querySelector('a[data-order]')) {
      const link = document.createElement('a');
      link.href = order.url;
      link.dataset.order = order.orderId;
      link.textContent = 'View your order ' + order.orderId;
      container.append(' ', link);
    }
  };
  const ordered = document.getElementById('ordered');
  if (ordered) {
    showOrdered(ordered, ordered.dataset.cartId);
  }

  const form = document.getElementById('checkout');
  if (!form) {
    return;
  }

  const cartId = form.dataset.cartId;
  const sessionKey = 'checkout-session:' + cartId; // shared by this browser's tabs: one session per cart
  const orderKey = 'checkout-order:' + cartId;
  const draftKey = 'checkout-draft:' + cartId; // this tab's typing, kept across reloads
  const idempotencyKey = 'checkout-idempotency:' + cartId; // this tab's pending payment
  const summary = document.getElementById('error-summary');
  const notice = document.getElementById('notice');
  const processing = document.getElementById('processing');
  const pay = document.getElementById('pay');
  const expectedTotal = document.getElementById('expected-total'); // the total on the page: the checkout charges it or nothing
  const inputs = [...form.querySelectorAll('input[data-field]')];
  const input = (field) => inputs.find((i) => i.dataset.field === field)
    || (field.startsWith('shipping_address') ? document.getElementById('line1') : null);
  const section = (name) => document.getElementById('section-' + name);
  const sectionOf = (element) => element.closest('details[data-section]').dataset.section;
  const value = (id) => document.getElementById(id).value.trim();
  let busy = false;

  // ---- the card: the provider's fields in its own frame, or its hosted page when they cannot load ----

  const cardField = document.getElementById('card-field');
  const cardElement = document.getElementById('card-element');
  const cardEntry = document.getElementById('card-entry');
  const cardSaved = document.getElementById('card-saved');
  const cardError = document.getElementById('card-error');
  const chosen = { id: document.getElementById('payment-method'), brand: document.getElementById('card-brand'), last4: document.getElementById('card-last4') };
  let stripe = null;
  let card = null;
  let refusal = null; // the change event's state when a refusal was shown: it stays until the card is edited
  if (window.Stripe) {
    try {
      stripe = window.Stripe(cardField.dataset.key);
      card = stripe.elements().create('card');
      card.mount(cardElement);
      document.getElementById('hosted-card').hidden = true;
    } catch (failure) { // the page still works: the hosted card page stays offered
      console.error(failure);
      stripe = card = null;
    }
  }

  const showCardError = (message, refused) => {
    cardError.textContent = message || '';
    cardElement.classList.toggle('invalid', Boolean(message));
    refusal = refused ? 'unchanged' : null;
  };
  card?.on('change', (event) => {
    const state = JSON.stringify([event.empty, event.complete, event.brand]);
    if (event.error) {
      showCardError(event.error.message);
    } else if (!refusal || (refusal !== 'unchanged' && refusal !== state)) {
      showCardError('');
    } else if (refusal === 'unchanged') {
      refusal = state; // the card as it was refused; the next edit clears the message
    }
  });

  /** The card to pay with ({id, brand, last4}) shown as "Visa •••• 4242" with Change, or none: the card fields again. */
  const chooseCard = (method) => {
    chosen.id.value = method?.id || '';
    chosen.brand.value = method?.brand || '';
    chosen.last4.value = method?.last4 || '';
    document.getElementById('card-summary').textContent =
      method?.last4 ? (BRANDS[method.brand] || 'Card') + ' \u2022\u2022\u2022\u2022 ' + method.last4 : 'Your card';
    cardSaved.hidden = !method;
    cardEntry.hidden = Boolean(method);
    form.dispatchEvent(new Event('input')); // kept with the draft
  };

  const focusCard = () => {
    section('payment').open = true;
    if (!cardEntry.hidden && card) {
      cardElement.querySelector('iframe')?.focus();
      card.focus();
    } else {
      (cardEntry.hidden ? document.getElementById('card-change') : document.getElementById('hosted-card')).focus();
    }
  };

  /**
   * The card's pm_ id: the one chosen, or a new one from what is typed in the provider's frame.
   * Undefined when the provider refused what was typed (it says why, at the field); '' when there
   * are no card fields, so the API names what is missing.
   */
  const paymentMethod = async () => {
    if (chosen.id.value || !card) {
      return chosen.id.value;
    }
    const result = await stripe.createPaymentMethod({ type: 'card', card });
    if (result.error) {
      showCardError(result.error.message);
      focusCard();
      return undefined;
    }
    const method = result.paymentMethod;
    chooseCard({ id: method.id, brand: method.card?.brand, last4: method.card?.last4 });
    return method.id;
  };

  const say = (text, ...nodes) => {
    notice.replaceChildren(text, ...nodes);
  };

  const address = () => ({
    line1: value('line1'), line2: value('line2') || null, city: value('city'),
    state: value('state'), zip: value('zip'), country: value('country'),
  });

  // ---- errors, shown as the server-rendered page shows them ----

  const clearErrors = (fields) => {
    for (const element of fields) {
      element.setAttribute('aria-invalid', 'false');
      element.removeAttribute('aria-describedby');
      document.getElementById(element.id + '-error')?.remove();
    }
    showCardError('');
    summary.replaceChildren();
  };

  const showErrors = (errors, problem) => {
    const heading = document.createElement('h2');
    heading.textContent = 'Please check your details';
    const list = document.createElement('ul');
    let first = null;
    for (const error of errors) {
      const element = input(error.field);
      const item = document.createElement('li');
      const link = document.createElement('a');
      link.textContent = error.message;
      if (error.field === 'payment_method_id') {
        link.href = '#card-field';
        showCardError(error.message, true);
        first ??= cardField;
      } else if (element) {
        link.href = '#' + element.id;
        if (!document.getElementById(element.id + '-error')) {
          const message = document.createElement('p');
          message.id = element.id + '-error';
          message.className = 'error';
          message.textContent = error.message;
          element.after(message);
          element.setAttribute('aria-invalid', 'true');
          element.setAttribute('aria-describedby', message.id);
        }
        first ??= element;
      }
      item.append(link);
      list.append(item);
    }
    const nodes = [heading];
    if (problem) {
      const text = document.createElement('p');
      text.textContent = problem;
      nodes.push(text);
    }
    if (errors.length) {
      nodes.push(list);
    }
    summary.replaceChildren(...nodes);
    if (first === cardField) {
      focusCard();
    } else if (first) {
      section(sectionOf(first)).open = true;
      first.focus();
    } else {
      summary.focus();
    }
  };

  // ---- the guest session: started with the email, then each section saved to it ----

  const api = async (method, url, body, headers = {}, withSession = true) => {
    const session = withSession && read(localStorage, sessionKey);
    const response = await fetch(url, {
      method,
      headers: Object.assign({ 'Content-Type': 'application/json' },
        session && !url.endsWith('/session') ? { Authorization: 'Bearer ' + session.token } : {}, headers),
      body: body && JSON.stringify(body),
    });
    const json = (response.headers.get('Content-Type') || '').includes('json') ? await response.json() : null;
    if (response.ok && !json) {
      throw new Error('The server answered ' + response.status + ' without JSON');
    }
    return { status: response.status, json, retryAfter: Number(response.headers.get('Retry-After')) || 2 };
  };

  const startSession = async () => {
    const email = value('email');
    const started = await api('POST', '/api/v2/checkout/guest/session', { cart_id: cartId, email });
    if (started.status === 201) {
      write(localStorage, sessionKey, { id: started.json.session_id, token: started.json.session_token, email });
    }
    return started;
  };

  /** Saves one section: starts (or restarts, if it expired) the session first, so the cart is always kept. */
  const saveSection = async (name) => {
    let session = read(localStorage, sessionKey);
    if (!session || session.email !== value('email')) {
      const started = await startSession();
      if (started.status !== 201) {
        return started;
      }
      session = read(localStorage, sessionKey);
    }
    const put = (part, body) => api('PUT', `/api/v2/checkout/guest/session/${session.id}/${part}`, body);
    const save = () => (name === 'shipping' ? put('shipping-address', address()) : put('payment-method', { payment_method_id: chosen.id.value }));
    let saved = await save();
    if (saved.status === 404 && saved.json?.error === 'SESSION_EXPIRED') {
      write(localStorage, sessionKey, null);
      const restarted = await startSession();
      if (restarted.status !== 201) {
        return restarted;
      }
      session = read(localStorage, sessionKey);
      say('Your session timed out, so we started a new one. Your cart and what you typed are kept.');
      if (name !== 'shipping') {
        await put('shipping-address', address());
      }
      saved = await save();
    }
    return saved;
  };

  const markSaved = (view) => {
    section('shipping').querySelector('.saved').hidden = !view.shipping_address_complete;
    section('payment').querySelector('.saved').hidden = !view.payment_method_attached;
  };

  /** Opens one step and folds the steps before it; the history entry is what the back button returns to. */
  const goTo = (name, push) => {
    SECTIONS.forEach((other, index) => {
      if (index < SECTIONS.indexOf(name)) {
        section(other).open = false;
      }
    });
    section(name).open = true;
    const target = section(name);
    (target.querySelector('input:not([type=hidden])') || target.querySelector('summary')).focus();
    if (push) {
      history.pushState({ step: name }, '');
    }
  };

  const onContinue = async (button) => {
    const name = button.dataset.continue;
    // The save validates this section, and the email too when it starts the session.
    clearErrors(inputs.filter((i) => sectionOf(i) === name || i.id === 'email'));
    button.disabled = true;
    try {
      if (name === 'payment' && await paymentMethod() === undefined) {
        return;
      }
      const saved = await saveSection(name);
      if (saved.status === 200) {
        markSaved(saved.json);
        beacon('section_completed', { cart_id: cartId, section: name });
        goTo(SECTIONS[SECTIONS.indexOf(name) + 1], true);
      } else {
        answer(saved);
      }
    } finally {
      button.disabled = false;
    }
  };

  // ---- paying: one Idempotency-Key per payment, kept until the API gives a final answer ----

  // aria-disabled, not disabled: the button keeps the keyboard focus while the payment runs.
  const setProcessing = (on) => {
    busy = on;
    processing.hidden = !on;
    pay.setAttribute('aria-disabled', String(on));
    form.setAttribute('aria-busy', String(on));
  };

  const done = () => {
    pay.disabled = true;
    say('This cart has been ordered. ');
    showOrdered(notice, cartId);
  };

  /** Shows the cart as the server has it now: its lines, its total, and that total on the Pay button and in what the next payment sends. */
  const showCart = (cart) => {
    const dollars = (amount) => '$' + Number(amount).toFixed(2);
    section('review').querySelector('tbody').replaceChildren(...cart.items.map((item) => {
      const row = document.createElement('tr');
      for (const text of [item.name, String(item.quantity), dollars(item.line_total)]) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }));
    document.getElementById('total').textContent = dollars(cart.total);
    pay.textContent = 'Pay ' + dollars(cart.total);
    expectedTotal.value = Number(cart.total).toFixed(2);
  };

  const validationFailed = (errors) => {
    for (const failed of errors) {
      const element = failed.field === 'payment_method_id' ? cardField : input(failed.field);
      beacon('validation_error', { cart_id: cartId, section: element ? sectionOf(element) : undefined, field: failed.field, code: failed.code });
    }
    showErrors(errors);
  };

  /** What the page does with an answer that is not a success; true when the same request may simply be sent again. */
  function answer(result) {
    const error = result.json?.error;
    if (result.status === 422 && result.json?.errors) {
      validationFailed(result.json.errors);
    } else if (error === 'AUTHENTICATION_REQUIRED') { // the challenge is still open: Pay offers it again, with the same key
      showErrors([{ field: 'payment_method_id', code: error, message: STILL_AUTHENTICATING }]);
    } else if (result.status === 402) { // declined, or the bank's check failed: another card, as a new payment
      chooseCard(null);
      showErrors([{ field: 'payment_method_id', code: error, message: result.json.message }]);
    } else if (error === 'CART_CHANGED') {
      showCart(result.json);
      section('review').open = true;
      showErrors([], result.json.message);
    } else if (error === 'CART_CHECKED_OUT') {
      clearErrors([]);
      done();
    } else if (error === 'CHECKOUT_IN_PROGRESS' || error === 'IDEMPOTENCY_KEY_IN_USE') {
      return true;
    } else if (error === 'CART_NOT_FOUND') {
      showErrors([], result.json.message);
      pay.disabled = true;
    } else if (result.status >= 500) {
      showErrors([], result.status === 502 ? GATEWAY_TROUBLE : PAGE_TROUBLE);
    } else {
      showErrors([], result.json?.message || PAGE_TROUBLE);
    }
    return false;
  }

  /**
   * The card fields refused what was typed: the API still checks everything else, so every problem
   * is listed at once. Sent with no card and no session, this request can never charge anything.
   */
  const checkDetails = async () => {
    const refused = { field: 'payment_method_id', code: 'CARD', message: cardError.textContent };
    const body = { cart_id: cartId, email: value('email'), shipping_address: address(), payment_method_id: null, expected_total: Number(expectedTotal.value) };
    const result = await api('POST', '/api/v2/checkout/guest', body, {}, false);
    const others = result.status === 422 && result.json?.errors ? result.json.errors.filter((e) => e.field !== 'payment_method_id') : [];
    validationFailed([...others, refused]);
  };

  const checkout = async () => {
    clearErrors(inputs);
    // The provider tokenizes the card first: a card it refuses is no payment, so it takes no key.
    const paymentMethodId = await paymentMethod();
    if (paymentMethodId === undefined) {
      await checkDetails();
      return;
    }
    let key = read(sessionStorage, idempotencyKey);
    if (!key) {
      key = 'idk_' + crypto.randomUUID().replaceAll('-', '');
      write(sessionStorage, idempotencyKey, key);
    }
    const body = {
      cart_id: cartId, email: value('email'), shipping_address: address(), payment_method_id: paymentMethodId || null,
      expected_total: Number(expectedTotal.value),
    };
    beacon('payment_submitted', { cart_id: cartId });
    for (let waits = 0, challenges = 0; ; waits++) {
      let result;
      try {
        result = await api('POST', '/api/v2/checkout/guest', body, { 'Idempotency-Key': key });
      } catch (failure) {
        if (failure instanceof TypeError) { // the network, not the server: the payment may have happened, so keep the key
          showErrors([], GATEWAY_TROUBLE);
          return;
        }
        throw failure;
      }
      if (result.status === 201) {
        const order = result.json;
        // The token goes to the confirmation page by POST (it sets an HttpOnly pass and redirects), never in a URL or storage.
        write(localStorage, orderKey, { orderId: order.order_id, url: '/checkout/guest/confirmation?order_id=' + encodeURIComponent(order.order_id) });
        write(localStorage, sessionKey, null);
        write(sessionStorage, draftKey, null);
        write(sessionStorage, idempotencyKey, null);
        beacon('order_completed', { cart_id: cartId, order_id: order.order_id });
        const handOver = document.createElement('form');
        handOver.method = 'post';
        handOver.action = '/checkout/guest/confirmation/open';
        handOver.hidden = true;
        for (const [name, value] of [['order_id', order.order_id], ['confirmation_token', order.confirmation_token]]) {
          const input = document.createElement('input');
          input.type = 'hidden';
          input.name = name;
          input.value = value;
          handOver.append(input);
        }
        document.body.append(handOver);
        handOver.submit();
        return 'leaving';
      }
      if (result.json?.error === 'AUTHENTICATION_REQUIRED' && challenges < 3) {
        // 3-D Secure: the bank's check in the provider's modal, then the same request with the same key,
        // however the check ended; the API says whether it paid (once), failed, or is still waiting.
        challenges++;
        if (!stripe) { // no provider script on this page: the server-rendered form takes the shopper to the check
          form.submit();
          return 'leaving';
        }
        await stripe.handleNextAction({ clientSecret: result.json.client_secret });
        continue;
      }
      if (result.status === 404 && result.json?.error === 'SESSION_EXPIRED') {
        // The checkout sent fields of its own; only the expired session stood in the way.
        write(localStorage, sessionKey, null);
        write(sessionStorage, idempotencyKey, null);
        say('Your session timed out, so we started a new one. Your cart and what you typed are kept; please pay again.');
        return;
      }
      // A final answer other than 5xx is stored against the key: the next payment needs a new one.
      // A changed cart is a new payment too, of another total.
      if ((result.status < 500 && result.status !== 409 && result.status !== 429 && result.json?.error !== 'AUTHENTICATION_REQUIRED')
        || result.json?.error === 'CART_CHANGED') {
        write(sessionStorage, idempotencyKey, null);
      }
      if (!answer(result) || waits >= 30) {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, result.retryAfter * 1000));
    }
  };

  // ---- error boundary: anything unexpected leaves the page usable and says so ----

  const recover = (failure) => {
    console.error(failure);
    setProcessing(false);
    showErrors([], PAGE_TROUBLE);
  };
  window.addEventListener('unhandledrejection', (event) => recover(event.reason));

  form.addEventListener('submit', (event) => {
    if (event.submitter?.value === 'hosted-card') {
      return; // the provider's hosted card page, as without JavaScript: the server keeps what was typed
    }
    event.preventDefault();
    if (busy) {
      return; // a double click pays once
    }
    setProcessing(true);
    checkout().then((outcome) => {
      if (outcome !== 'leaving') {
        setProcessing(false);
      }
    }, recover);
  });

  document.getElementById('card-change').addEventListener('click', (event) => {
    if (card) { // another card in the fields; without them, the button posts to the hosted card page
      event.preventDefault();
      chooseCard(null);
      focusCard();
    }
  });

  for (const button of form.querySelectorAll('button[data-continue]')) {
    button.hidden = false;
    button.addEventListener('click', () => onContinue(button).catch(recover));
  }

  // ---- what this tab typed survives a reload; another tab's order is seen at once ----

  const draft = read(sessionStorage, draftKey) || {};
  for (const element of inputs) {
    if (draft[element.id] != null) {
      element.value = draft[element.id];
    }
  }
  if (draft.card?.id && !chosen.id.value) {
    chooseCard(draft.card);
  }
  // The card as the provider described it (pm_ id, brand, last 4), never what was typed into its frame.
  form.addEventListener('input', () => {
    write(sessionStorage, draftKey, Object.assign(Object.fromEntries(inputs.map((i) => [i.id, i.value])), {
      card: chosen.id.value ? { id: chosen.id.value, brand: chosen.brand.value, last4: chosen.last4.value } : null,
    }));
  });

  window.addEventListener('storage', (event) => {
    if (event.key === orderKey && event.newValue) {
      done();
    }
  });
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) { // back from the confirmation, out of the page cache
      setProcessing(false);
      if (read(localStorage, orderKey)) {
        done();
      }
    }
  });

  window.addEventListener('popstate', (event) => {
    goTo(event.state?.step || 'shipping', false);
  });
  history.replaceState({ step: history.state?.step || 'shipping' }, '');

  if (read(localStorage, orderKey)) {
    done();
  }
  const session = read(localStorage, sessionKey);
  if (session) {
    api('GET', '/api/v2/checkout/guest/session/' + session.id).then((result) => {
      if (result.status === 200) {
        markSaved(result.json);
      } else if (result.status === 404) {
        write(localStorage, sessionKey, null);
      }
    }, () => {});
  }
  beacon('checkout_viewed', { cart_id: cartId, flow: 'guest_v2' });
})();

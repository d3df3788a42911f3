// A subset of Stripe.js v3 served by the gateway simulator: Stripe(key), elements().create('card'),
// createPaymentMethod and handleNextAction, following Stripe's documented API. The card inputs
// live in an iframe on this script's origin; only pm_ ids and events reach the page.
(function () {
  'use strict';
  var origin = new URL(document.currentScript.src).origin;
  var nextId = 0;

  // Messages count only from our own frame on our own origin.
  var listen = function (frame, kind, handler) {
    var listener = function (e) {
      if (e.origin === origin && e.source === frame.contentWindow && e.data && e.data.__sim === kind) { handler(e.data); }
    };
    window.addEventListener('message', listener);
    return function () { window.removeEventListener('message', listener); };
  };

  function CardElement(key) {
    this._key = key;
    this._handlers = {};
    this._pending = {};
    this._frame = null;
  }
  CardElement.prototype.mount = function (target) {
    var host = typeof target === 'string' ? document.querySelector(target) : target;
    if (!host) { throw new Error('mount(): no element matches ' + target); }
    var self = this, frame = document.createElement('iframe');
    frame.src = origin + '/v3/elements/card?origin=' + encodeURIComponent(location.origin) + '&key=' + encodeURIComponent(this._key);
    frame.title = 'Secure card payment input frame';
    frame.setAttribute('scrolling', 'no');
    frame.style.cssText = 'border:0;width:100%;height:160px;display:block;overflow:hidden';
    this._frame = frame;
    this._unlisten = listen(frame, 'card', function (d) {
      if (d.height) { frame.style.height = d.height + 'px'; }
      if (d.type === 'result') {
        var resolve = self._pending[d.id];
        delete self._pending[d.id];
        if (resolve) { resolve(d.error ? { error: d.error } : { paymentMethod: d.paymentMethod }); }
        return;
      }
      (self._handlers[d.type] || []).slice().forEach(function (h) { h(d.event); });
    });
    host.appendChild(frame);
    return this;
  };
  CardElement.prototype.on = function (type, handler) {
    (this._handlers[type] = this._handlers[type] || []).push(handler);
    return this;
  };
  CardElement.prototype.once = function (type, handler) {
    var self = this, wrapped = function (e) { self.off(type, wrapped); handler(e); };
    return this.on(type, wrapped);
  };
  CardElement.prototype.off = function (type, handler) {
    this._handlers[type] = handler ? (this._handlers[type] || []).filter(function (h) { return h !== handler; }) : [];
    return this;
  };
  CardElement.prototype._send = function (message) {
    if (this._frame) { this._frame.contentWindow.postMessage(message, origin); }
  };
  CardElement.prototype.focus = function () { this._send({ type: 'focus' }); };
  CardElement.prototype.clear = function () { this._send({ type: 'clear' }); };
  CardElement.prototype.unmount = function () {
    if (this._unlisten) { this._unlisten(); }
    if (this._frame) { this._frame.remove(); }
    this._frame = null;
  };
  CardElement.prototype.destroy = CardElement.prototype.unmount;

  function Stripe(key) {
    if (!(this instanceof Stripe)) { return new Stripe(key); }
    if (typeof key !== 'string' || key.indexOf('pk_') !== 0) { throw new Error('Stripe(): a publishable key (pk_...) is required.'); }
    this._key = key;
  }
  Stripe.prototype.elements = function () {
    var key = this._key, created = {};
    return {
      create: function (type) {
        if (type !== 'card') { throw new Error('elements.create(): only the card element is available.'); }
        return (created.card = new CardElement(key));
      },
      getElement: function (type) { return created[type] || null; }
    };
  };

  // Resolves {paymentMethod} or {error}, as Stripe's does; the card data goes from the frame to the gateway only.
  Stripe.prototype.createPaymentMethod = function (options) {
    var card = options && options.card;
    if (!options || options.type !== 'card' || !(card instanceof CardElement) || !card._frame) {
      return Promise.reject(new Error('createPaymentMethod(): {type: "card", card: <a mounted card element>} is required.'));
    }
    return new Promise(function (resolve) {
      var id = ++nextId;
      card._pending[id] = resolve;
      card._send({ type: 'tokenize', id: id });
    });
  };

  // Shows the 3-D Secure challenge in a modal frame; resolves {paymentIntent} once it succeeded, or {error}.
  Stripe.prototype.handleNextAction = function (options) {
    var secret = options && options.clientSecret;
    if (typeof secret !== 'string' || secret.indexOf('_secret_') < 0) {
      return Promise.reject(new Error('handleNextAction(): {clientSecret} is required.'));
    }
    return new Promise(function (resolve) {
      var dialog = document.createElement('dialog'), frame = document.createElement('iframe');
      dialog.setAttribute('aria-label', 'Confirm your payment with your bank');
      dialog.style.cssText = 'padding:0;border:0;width:min(440px,95vw);height:min(480px,90vh)';
      frame.title = '3-D Secure authentication';
      frame.style.cssText = 'border:0;width:100%;height:100%';
      frame.src = origin + '/v3/authenticate/' + encodeURIComponent(secret.split('_secret_')[0]) + '?client_secret=' +
        encodeURIComponent(secret) + '&origin=' + encodeURIComponent(location.origin);
      // The challenge must be answered inside it; Escape does not silently drop the payment.
      dialog.addEventListener('cancel', function (e) { e.preventDefault(); });
      var unlisten = listen(frame, '3ds', function (d) {
        unlisten();
        dialog.close();
        dialog.remove();
        var pi = d.paymentIntent;
        resolve(pi.status === 'succeeded' ? { paymentIntent: pi } : {
          error: {
            type: 'card_error', payment_intent: pi,
            code: (pi.last_payment_error || {}).code || 'payment_intent_authentication_failure',
            message: (pi.last_payment_error || {}).message || 'We are unable to authenticate your payment method.'
          }
        });
      });
      dialog.appendChild(frame);
      document.body.appendChild(dialog);
      dialog.showModal();
    });
  };

  window.Stripe = Stripe;
})();

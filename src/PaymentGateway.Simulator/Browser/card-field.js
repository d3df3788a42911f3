// The card field inside the gateway's iframe. Card data stays in this origin: the page that
// frames it gets events and, on createPaymentMethod, a pm_ id. The rules come from the server.
(function () {
  'use strict';
  var form = document.getElementById('card');
  var cfg = JSON.parse(form.dataset.config);
  var brands = cfg.brands.map(function (b) { return { name: b[0], re: new RegExp(b[1]), lengths: b[2], cvc: b[3] }; });
  var unknown = { name: 'unknown', lengths: [12, 13, 14, 15, 16, 17, 18, 19], cvc: 3 };
  var names = ['number', 'expiry', 'cvc', 'postal_code'];
  var labels = { visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express', discover: 'Discover', diners: 'Diners Club', jcb: 'JCB', unionpay: 'UnionPay' };
  var field = function (name) { return form.elements[name]; };
  var digits = function (s) { return s.replace(/\D/g, ''); };
  var brandOf = function (d) {
    for (var i = 0; i < brands.length; i++) { if (brands[i].re.test(d)) { return brands[i]; } }
    return unknown;
  };
  var luhn = function (d) {
    var sum = 0;
    for (var i = 0; i < d.length; i++) {
      var n = +d[d.length - 1 - i] * (i % 2 ? 2 : 1);
      sum += n > 9 ? n - 9 : n;
    }
    return d.length > 0 && sum % 10 === 0;
  };
  var expiry = function () {
    var m = /^(\d{2}) ?\/ ?(\d{2})$/.exec(field('expiry').value.trim());
    return m && { month: +m[1], year: 2000 + +m[2] };
  };

  // The field's error code, or null; before the shopper is done (final false) only what is already certain.
  var check = function (name, final) {
    var d = digits(field('number').value), b = brandOf(d), v = field(name).value.trim();
    if (name === 'number') {
      var max = b.lengths[b.lengths.length - 1];
      if (d.length < b.lengths[0]) { return final ? 'incomplete_number' : null; }
      if ((final || d.length >= max) && (b.lengths.indexOf(d.length) < 0 || !luhn(d))) { return 'invalid_number'; }
      return null;
    }
    if (name === 'expiry') {
      var e = expiry(), now = new Date();
      if (!e) { return final || v.length >= 7 ? 'incomplete_expiry' : null; }
      if (e.month < 1 || e.month > 12) { return 'invalid_expiry_month'; }
      if (e.year < now.getFullYear() || (e.year === now.getFullYear() && e.month < now.getMonth() + 1)) { return 'invalid_expiry_year_past'; }
      return e.year > now.getFullYear() + 50 ? 'invalid_expiry_year' : null;
    }
    if (name === 'cvc') { return final && (v.length !== b.cvc || /\D/.test(v)) ? 'incomplete_cvc' : null; }
    return final && !/^[A-Za-z0-9 -]{3,10}$/.test(v) ? 'incomplete_zip' : null;
  };
  var show = function (name, code) {
    field(name).setAttribute('aria-invalid', code ? 'true' : 'false');
    document.getElementById(name + '-error').textContent = code ? cfg.errors[code] || 'Please check this field.' : '';
  };
  var post = function (message) {
    message.__sim = 'card';
    message.height = document.documentElement.scrollHeight;
    parent.postMessage(message, cfg.origin);
  };
  var change = function () {
    var d = digits(field('number').value), error = null;
    names.forEach(function (n) {
      var code = field(n).getAttribute('aria-invalid') === 'true' && check(n, true);
      if (code && !error) { error = { type: 'validation_error', code: code, message: cfg.errors[code] }; }
    });
    var brand = d ? brandOf(d).name : 'unknown';
    document.getElementById('brand').textContent = labels[brand] ? '(' + labels[brand] + ')' : '';
    post({
      type: 'change',
      event: {
        elementType: 'card', brand: brand, error: error || undefined,
        empty: names.every(function (n) { return !field(n).value; }),
        complete: names.every(function (n) { return !check(n, true); }),
        value: { postalCode: field('postal_code').value.trim() }
      }
    });
  };

  // Number in groups of four (4-6-5 for American Express), expiry as MM / YY, CVC digits only.
  var format = {
    number: function (v) {
      var d = digits(v), b = brandOf(d), groups = b.name === 'amex' ? [4, 6, 5] : [4, 4, 4, 4, 3], out = [], i = 0;
      d = d.slice(0, b.lengths[b.lengths.length - 1]);
      for (var g = 0; i < d.length; g++) { out.push(d.slice(i, i + groups[g])); i += groups[g]; }
      return out.join(' ');
    },
    expiry: function (v, deleting) {
      var d = digits(v).slice(0, 4);
      if (d.length === 1 && d > '1') { d = '0' + d; }
      return d.length > 2 || (d.length === 2 && !deleting) ? d.slice(0, 2) + ' / ' + d.slice(2) : d;
    },
    cvc: function (v) { return digits(v).slice(0, 4); }
  };
  names.forEach(function (name) {
    var input = field(name);
    input.addEventListener('input', function (e) {
      if (format[name]) { input.value = format[name](input.value, /^delete/.test(e.inputType || '')); }
      show(name, check(name, false));
      change();
    });
    input.addEventListener('blur', function () {
      if (input.value) { show(name, check(name, true)); }
      change();
      post({ type: 'blur', event: { elementType: 'card' } });
    });
    input.addEventListener('focus', function () { post({ type: 'focus', event: { elementType: 'card' } }); });
  });
  form.addEventListener('submit', function (e) { e.preventDefault(); });

  var tokenize = function (id) {
    var first = null;
    names.forEach(function (n) {
      var code = check(n, true);
      show(n, code);
      if (code && !first) { first = { name: n, code: code }; }
    });
    change();
    if (first) {
      field(first.name).focus();
      post({ type: 'result', id: id, error: { type: 'validation_error', code: first.code, message: cfg.errors[first.code] } });
      return;
    }
    var e = expiry();
    var body = new URLSearchParams({
      type: 'card', 'card[number]': digits(field('number').value), 'card[exp_month]': e.month, 'card[exp_year]': e.year,
      'card[cvc]': field('cvc').value, 'billing_details[address][postal_code]': field('postal_code').value.trim()
    });
    fetch('/v1/payment_methods', { method: 'POST', headers: { Authorization: 'Bearer ' + cfg.key }, body: body })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        if (j.error && j.error.param) { show(j.error.param, j.error.code); }
        post(j.error ? { type: 'result', id: id, error: j.error } : { type: 'result', id: id, paymentMethod: j });
      }, function () {
        post({ type: 'result', id: id, error: { type: 'api_connection_error', message: 'The payment gateway could not be reached. Please try again.' } });
      });
  };

  window.addEventListener('message', function (e) {
    if (e.origin !== cfg.origin || e.source !== parent || !e.data) { return; }
    if (e.data.type === 'tokenize') { tokenize(e.data.id); }
    if (e.data.type === 'focus') { field('number').focus(); }
    if (e.data.type === 'clear') { form.reset(); names.forEach(function (n) { show(n, null); }); change(); }
  });
  post({ type: 'ready', event: { elementType: 'card' } });
})();

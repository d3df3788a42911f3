(function () {
  var m = document.querySelector('main');
  parent.postMessage({ __sim: '3ds', paymentIntent: JSON.parse(m.dataset.intent) }, m.dataset.origin);
})();

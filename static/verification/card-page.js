/* The online card page (/v/c/<code>): the server said the card's status; the QR's token,
 * in the URL fragment (never sent to the server), is verified here against the program's
 * keys embedded in the page, with the same verifier as the offline portal (verify.js).
 * The page's words are translated by the server (templates/verification/card.html). */
(function () {
  'use strict';
  var V = window.CampaignIDVerify;
  var result = document.getElementById('result');
  var token = window.location.hash.replace(/^#/, '');

  // The language links keep the token: switching language must not lose the signed details.
  var links = document.querySelectorAll('[data-lang-link]');
  for (var i = 0; i < links.length; i++) {
    if (token) links[i].setAttribute('href', links[i].getAttribute('href') + '#' + token);
  }
  if (!result) return;
  var serverStatus = result.getAttribute('data-server-status');
  var code = result.getAttribute('data-code');

  function done(verdict, engine) {
    result.setAttribute('data-verdict', verdict);
    if (engine) result.setAttribute('data-engine', engine);
    result.setAttribute('data-checked', 'true');
  }

  function showVerdict(name) {
    var template = document.getElementById('verdict-' + name);
    if (!template) return;
    result.innerHTML = '';
    result.appendChild(document.importNode(template.content, true));
  }

  function displayDate(iso) {
    var parts = iso.split('-');
    return parts[2] + '/' + parts[1] + '/' + parts[0];
  }

  function showDetails(check) {
    var labels = JSON.parse(document.getElementById('type-labels').textContent);
    var claims = check.claims;
    var values = {
      name: claims.name,
      birthDate: claims.birthDate && displayDate(claims.birthDate),
      campaignType: labels[claims.campaignType] || claims.campaignType,
      issuedOn: displayDate(claims.issuedOn),
      expiresOn: claims.expiresOn && displayDate(claims.expiresOn),
      kid: check.kid
    };
    var fields = document.querySelectorAll('#signed [data-field]');
    for (var j = 0; j < fields.length; j++) {
      var field = fields[j];
      var value = values[field.getAttribute('data-field')];
      field.textContent = value || field.getAttribute('data-empty') || '';
    }
    document.getElementById('signed').hidden = false;
  }

  // No token, or a code the server does not know: the server's answer is the whole answer.
  if (!token || serverStatus === 'unknown') {
    done(serverStatus);
    return;
  }
  var hint = document.getElementById('token-hint');
  if (hint) hint.hidden = true;
  var keys = JSON.parse(document.getElementById('program-keys').textContent);
  result.setAttribute('aria-busy', 'true');
  V.verifyCard(code, token, keys).then(function (check) {
    var verdict = V.verdict(serverStatus, check);
    if (verdict !== serverStatus) showVerdict(verdict);
    if (check.genuine) showDetails(check);
    result.removeAttribute('aria-busy');
    done(verdict, check.engine);
  });
})();

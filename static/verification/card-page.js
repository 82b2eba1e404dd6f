/* The online card page (/v/c/<code>): the server said the card's status; the QR's token,
 * in the URL fragment (never sent to the server), is verified here against the program's
 * keys embedded in the page, with the same verifier as the offline portal (verify.js).
 * The page's words are translated by the server (templates/verification/card.html).
 *
 * A new fragment (a second card's link pasted over the first, differing only after '#')
 * loads no new page: `hashchange` checks it again from the server's answer. */
(function () {
  'use strict';
  var V = window.CampaignIDVerify;
  var result = document.getElementById('result');
  var links = document.querySelectorAll('[data-lang-link]');
  var linkBases = [];
  for (var i = 0; i < links.length; i++) linkBases.push(links[i].getAttribute('href'));

  // The language links keep the token: switching language must not lose the signed details.
  function keepTokenInLinks(token) {
    for (var k = 0; k < links.length; k++) {
      links[k].setAttribute('href', linkBases[k] + (token ? '#' + token : ''));
    }
  }

  function currentToken() {
    return window.location.hash.replace(/^#/, '');
  }

  if (!result) {
    keepTokenInLinks(currentToken());
    window.addEventListener('hashchange', function () { keepTokenInLinks(currentToken()); });
    return;
  }
  var serverStatus = result.getAttribute('data-server-status');
  var code = result.getAttribute('data-code');
  var serverAnswer = result.innerHTML;
  var signed = document.getElementById('signed');
  var hint = document.getElementById('token-hint');
  var checks = 0;

  function done(verdict, engine) {
    result.setAttribute('data-verdict', verdict);
    if (engine) result.setAttribute('data-engine', engine);
    else result.removeAttribute('data-engine');
    result.removeAttribute('aria-busy');
    result.setAttribute('data-checked', 'true');
    // How many fragments were checked: tests wait for the second after a hashchange.
    result.setAttribute('data-checks', String(checks));
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
    signed.hidden = false;
  }

  /* Back to what the server said, with no signed details: the start of every check. */
  function reset() {
    result.innerHTML = serverAnswer;
    result.removeAttribute('data-checked');
    if (signed) {
      signed.hidden = true;
      var fields = signed.querySelectorAll('[data-field]');
      for (var j = 0; j < fields.length; j++) fields[j].textContent = '';
    }
  }

  function check() {
    var token = currentToken();
    var mine = ++checks;
    keepTokenInLinks(token);
    reset();
    if (hint) hint.hidden = Boolean(token);
    // No token, or a code the server does not know: the server's answer is the whole answer.
    if (!token || serverStatus === 'unknown') {
      done(serverStatus);
      return;
    }
    var keys = JSON.parse(document.getElementById('program-keys').textContent);
    result.setAttribute('aria-busy', 'true');
    V.verifyCard(code, token, keys).then(function (outcome) {
      if (mine !== checks) return;  // a newer fragment is being checked
      var verdict = V.verdict(serverStatus, outcome);
      if (verdict !== serverStatus) showVerdict(verdict);
      if (outcome.genuine) showDetails(outcome);
      done(verdict, outcome.engine);
    });
  }

  window.addEventListener('hashchange', check);
  check();
})();

/* CampaignID offline portal: answers valid / revoked / expired / unknown / forged for a typed
 * code, a pasted QR link or a scanned QR, from registry.js (a snapshot of the campaign's card
 * statuses, by code hash) and the program's public keys, with no network.
 * The page's words, in French, English and Wolof, are all here. */
(function () {
  'use strict';
  var V = window.CampaignIDVerify;
  var REGISTRY = window.CAMPAIGNID_REGISTRY || { cards: {}, keys: { keys: [] } };
  var LANGUAGES = ['fr', 'en', 'wo'];
  var STORAGE_KEY = 'campaignid-portal-language';
  // Sensitive campaigns' cards carry the type 'health'; older HIV cards carry 'hiv'. Both
  // read as this neutral label: a scan never tells what the holder is treated for
  // (verification/public.py; the Wolof wording awaits a native speaker's review).
  var NEUTRAL = {
    fr: 'Programme de santé', en: 'Health programme', wo: 'Porogaraamu wér-gi-yaram'
  };

  var STRINGS = {
    fr: {
      title: 'Vérification des cartes',
      info: '{program} · campagne {campaign} · registre du {date} · {count} cartes',
      statusAt: 'Statut au {date}',
      months: ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août',
        'septembre', 'octobre', 'novembre', 'décembre'],
      inputLabel: 'Code de la carte ou lien du QR code',
      check: 'Vérifier',
      scan: 'Scanner le QR code',
      stop: 'Arrêter',
      photo: 'Photo du QR code',
      cameraError: 'Caméra indisponible : tapez le code de la carte.',
      noQr: 'Aucun QR code trouvé sur la photo.',
      badInput: 'Tapez un code de carte (par exemple DKR-VAC-9XQ7LM2A) ou collez le lien du QR code.',
      footer: 'Fonctionne sans réseau : rien de ce que vous tapez ne quitte cet appareil.',
      noRegistry: 'Registre introuvable : gardez registry.js à côté de index.html.',
      valid: 'Carte valide',
      validText: 'Cette carte est valide aujourd’hui.',
      revoked: 'Carte révoquée',
      revokedText: 'Cette carte a été révoquée le {date}. Ne l’acceptez pas.',
      expired: 'Carte expirée',
      expiredText: 'Cette carte était valide jusqu’au {date}.',
      unknown: 'Carte inconnue',
      unknownText: 'Ce code n’est pas dans le registre de ce portail. Vérifiez le code, lettre par lettre.',
      unknownSigned: 'Le QR code est bien signé par le programme, mais la carte n’est pas dans ce portail (elle est peut-être plus récente) : vérifiez-la en ligne ou avec un portail à jour.',
      forged: 'Carte falsifiée',
      forgedText: 'Le QR code n’a pas été signé pour cette carte par son programme : ses informations ne sont pas fiables. N’acceptez pas cette carte.',
      code: 'Code',
      name: 'Nom',
      birthDate: 'Date de naissance',
      type: 'Type',
      issuedOn: 'Émise le',
      expiresOn: 'Valide jusqu’au',
      revokedOn: 'Révoquée le',
      noExpiry: 'Sans date de fin',
      unknownDate: 'Inconnue',
      signedNote: 'Nom, naissance et dates viennent du QR code ; sa signature a été vérifiée avec la clé publiée du programme ({kid}). Vérifiez qu’ils correspondent à la personne en face de vous.',
      noToken: 'Scannez le QR code de la carte pour voir le nom et la date de naissance pour lesquels elle a été émise.',
      types: {
        vaccination: 'Vaccination', mild: 'Moustiquaires (MILDA)', nutrition: 'Nutrition',
        antenatal: 'Consultation prénatale', hiv: NEUTRAL.fr, insurance: 'Assurance maladie',
        refugee: 'Réfugié', identity: 'Identité', lab: 'Laboratoire',
        cps: 'Chimioprévention du paludisme saisonnier (CPS)', farmercard: 'Carte d’agriculteur',
        health: NEUTRAL.fr
      }
    },
    en: {
      title: 'Card verification',
      info: '{program} · campaign {campaign} · registry of {date} · {count} cards',
      statusAt: 'Status as of {date}',
      months: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
        'September', 'October', 'November', 'December'],
      inputLabel: 'Card code or QR code link',
      check: 'Check',
      scan: 'Scan the QR code',
      stop: 'Stop',
      photo: 'Photo of the QR code',
      cameraError: 'Camera unavailable: type the card code.',
      noQr: 'No QR code found in the photo.',
      badInput: 'Type a card code (for example DKR-VAC-9XQ7LM2A) or paste the QR code link.',
      footer: 'Works without a network: nothing you type leaves this device.',
      noRegistry: 'Registry not found: keep registry.js next to index.html.',
      valid: 'Valid card',
      validText: 'This card is valid today.',
      revoked: 'Revoked card',
      revokedText: 'This card was revoked on {date}. Do not accept it.',
      expired: 'Expired card',
      expiredText: 'This card was valid until {date}.',
      unknown: 'Unknown card',
      unknownText: 'This code is not in this portal’s registry. Check the code, letter by letter.',
      unknownSigned: 'The QR code is signed by the program, but the card is not in this portal (it may be newer): check it online or with an up-to-date portal.',
      forged: 'Forged card',
      forgedText: 'The QR code was not signed for this card by its program: its details cannot be trusted. Do not accept this card.',
      code: 'Code',
      name: 'Name',
      birthDate: 'Date of birth',
      type: 'Type',
      issuedOn: 'Issued on',
      expiresOn: 'Valid until',
      revokedOn: 'Revoked on',
      noExpiry: 'No expiry',
      unknownDate: 'Unknown',
      signedNote: 'Name, birth date and dates come from the QR code; its signature was verified with the program’s published key ({kid}). Check that they match the person in front of you.',
      noToken: 'Scan the card’s QR code to see the name and birth date it was issued for.',
      types: {
        vaccination: 'Vaccination', mild: 'Bed nets (MILD)', nutrition: 'Nutrition',
        antenatal: 'Antenatal care', hiv: NEUTRAL.en, insurance: 'Health insurance',
        refugee: 'Refugee', identity: 'Identity', lab: 'Laboratory',
        cps: 'Seasonal malaria chemoprevention (CPS)', farmercard: 'Farmer card',
        health: NEUTRAL.en
      }
    },
    wo: {
      title: 'Seetlu kàrt yi',
      info: '{program} · kampaañ {campaign} · limu {date} · {count} kàrt',
      statusAt: 'Xibaar yi ba {date}',
      months: ['Samwiyee', 'Fewriyee', 'Mars', 'Awril', 'Me', 'Suwe', 'Sullet', 'Ut',
        'Sàttumbar', 'Oktoobar', 'Nowàmbar', 'Desàmbar'],
      inputLabel: 'Kodu kàrt bi walla lëkkalekaayu QR code bi',
      check: 'Seetlu',
      scan: 'Scanne QR code bi',
      stop: 'Taxawal',
      photo: 'Nataalu QR code bi',
      cameraError: 'Kamera bi jotul: bindal kodu kàrt bi.',
      noQr: 'Amul benn QR code ci nataal bi.',
      badInput: 'Bindal kodu kàrt (misaal DKR-VAC-9XQ7LM2A) walla nga taf lëkkalekaayu QR code bi.',
      footer: 'Dafay dox te soxlaawul internet: dara ci li ngay bind du génn ci jumtukaay bii.',
      noRegistry: 'Gisuñu lim bi: bàyyil registry.js ci wetu index.html.',
      valid: 'Kàrt bi baax na',
      validText: 'Kàrt bii baax na tey.',
      revoked: 'Kàrt bi dañu ko neenal',
      revokedText: 'Dañu neenal kàrt bii ci {date}. Bul ko nangu.',
      expired: 'Kàrt bi jeex na',
      expiredText: 'Kàrt bii baaxoon na ba {date}.',
      unknown: 'Kàrt bu ñu xamul',
      unknownText: 'Kod bii nekkul ci limu portail bii. Seetlul kod bi, araf ak araf.',
      unknownSigned: 'Porogaraam bi moo xaatim QR code bi, waaye kàrt bi nekkul ci portail bii (xéj na moo gën a bees): seetlu ko ci internet walla ak portail bu bees.',
      forged: 'Kàrt bu dul dëgg',
      forgedText: 'Porogaraam bi xaatimul QR code bi ngir kàrt bii: bul wóolu xibaar yi ci biir. Bul nangu kàrt bii.',
      code: 'Kod',
      name: 'Tur',
      birthDate: 'Bésu juddu',
      type: 'Xeet',
      issuedOn: 'Bés bi ñu ko joxe',
      expiresOn: 'Baax na ba',
      revokedOn: 'Bés bi ñu ko neenal',
      noExpiry: 'Du jeex',
      unknownDate: 'Xamuñu ko',
      signedNote: 'Tur, bésu juddu ak bés yi ñu ngi jóge ci QR code bi; xaatim bi dëgg la ci caabiu porogaraam bi ({kid}). Seetlul ndax dëppoo nañu ak nit ki nekk ci sa kanam.',
      noToken: 'Scanne QR code bu kàrt bi ngir gis tur ak bésu juddu yi ñu ko defal.',
      types: {
        vaccination: 'Pikiir (vaccination)', mild: 'Moustiquaire (MILDA)', nutrition: 'Lekk gu baax',
        antenatal: 'Topp ëmb (CPN)', hiv: NEUTRAL.wo, insurance: 'Assurance wérgu yaram',
        refugee: 'Réfugié', identity: 'Kàrt identité', lab: 'Laboratoire',
        cps: 'Aar sibiru (CPS)', farmercard: 'Kàrtu beykat',
        health: NEUTRAL.wo
      }
    }
  };

  var state = { language: initialLanguage(), answer: null, scanning: null };
  var el = function (id) { return document.getElementById(id); };

  function initialLanguage() {
    var stored = null;
    try { stored = window.localStorage.getItem(STORAGE_KEY); } catch (e) { /* file:// may refuse */ }
    if (LANGUAGES.indexOf(stored) >= 0) return stored;
    if (LANGUAGES.indexOf(REGISTRY.language) >= 0) return REGISTRY.language;
    return 'fr';
  }

  function t(key, values) {
    var text = STRINGS[state.language][key];
    if (text === undefined) text = STRINGS.fr[key];
    return String(text).replace(/\{(\w+)\}/g, function (_m, name) {
      return values && values[name] !== undefined ? values[name] : '';
    });
  }

  function displayDate(iso) {
    if (!iso) return '';
    var parts = iso.split('-');
    return parts[2] + '/' + parts[1] + '/' + parts[0];
  }

  /* registry.status_at, "YYYY-MM-DDTHH:MM" in the program's local time: "4 décembre 2026
   * 10:32". Written out by hand, not by Intl: the field's phones may lack Wolof. */
  function statusDate(local) {
    var match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2})/.exec(local || '');
    if (!match) return '';
    var months = STRINGS[state.language].months || STRINGS.fr.months;
    return Number(match[3]) + ' ' + months[Number(match[2]) - 1] + ' ' + match[1] + ' ' + match[4];
  }

  function setLanguage(language) {
    state.language = language;
    try { window.localStorage.setItem(STORAGE_KEY, language); } catch (e) { /* ignore */ }
    document.documentElement.lang = language;
    document.title = t('title') + ' · CampaignID';
    var nodes = document.querySelectorAll('[data-i18n]');
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = t(nodes[i].getAttribute('data-i18n'));
    var buttons = document.querySelectorAll('[data-lang]');
    for (var j = 0; j < buttons.length; j++) {
      var pressed = buttons[j].getAttribute('data-lang') === language;
      buttons[j].setAttribute('aria-pressed', pressed ? 'true' : 'false');
    }
    if (state.scanning) el('scan').textContent = t('stop');
    el('portal-info').textContent = window.CAMPAIGNID_REGISTRY
      ? t('info', {
        program: REGISTRY.program_name || REGISTRY.program,
        campaign: REGISTRY.campaign,
        date: displayDate((REGISTRY.generated_at || '').slice(0, 10)),
        count: Object.keys(REGISTRY.cards).length
      })
      : t('noRegistry');
    // Older portals (before status_at) show their registry date in the line below only.
    el('portal-status').textContent = REGISTRY.status_at
      ? t('statusAt', { date: statusDate(REGISTRY.status_at) })
      : '';
    if (state.answer) render(state.answer);
  }

  function addFact(list, label, value, field) {
    var dt = document.createElement('dt');
    var dd = document.createElement('dd');
    dt.textContent = label;
    dd.textContent = value;
    if (field) dd.setAttribute('data-field', field);
    list.appendChild(dt);
    list.appendChild(dd);
  }

  /* Everything shown comes from the answer object and is set with textContent. */
  function render(answer) {
    var result = el('result');
    result.hidden = false;
    result.setAttribute('data-verdict', answer.verdict);
    if (answer.engine) result.setAttribute('data-engine', answer.engine);
    else result.removeAttribute('data-engine');
    var entry = answer.entry;
    var claims = answer.check && answer.check.genuine ? answer.check.claims : null;
    var texts = {
      valid: t('validText'),
      revoked: t('revokedText', { date: displayDate(entry && entry.r) }),
      expired: t('expiredText', {
        date: displayDate((entry && entry.e) || (claims && claims.expiresOn))
      }),
      unknown: claims ? t('unknownSigned') : t('unknownText'),
      forged: t('forgedText'),
      bad: t('badInput')
    };
    el('verdict-title').textContent = answer.verdict === 'bad' ? t('unknown') : t(answer.verdict);
    el('verdict-text').textContent = texts[answer.verdict];

    var facts = el('facts');
    facts.innerHTML = '';
    var details = el('details');
    if (answer.verdict === 'bad' || answer.verdict === 'forged') {
      details.hidden = true;
      return;
    }
    details.hidden = !entry && !claims;
    if (details.hidden) return;
    addFact(facts, t('code'), answer.code, 'code');
    if (claims) {
      addFact(facts, t('name'), claims.name, 'name');
      addFact(facts, t('birthDate'), displayDate(claims.birthDate) || t('unknownDate'), 'birthDate');
      var types = STRINGS[state.language].types;
      addFact(facts, t('type'), types[claims.campaignType] || claims.campaignType, 'campaignType');
    }
    // The registry's dates are the server's truth; the token's are what was printed.
    var issued = entry ? entry.i : claims.issuedOn;
    var expires = entry ? entry.e : claims.expiresOn;
    addFact(facts, t('issuedOn'), displayDate(issued), 'issuedOn');
    addFact(facts, t('expiresOn'), expires ? displayDate(expires) : t('noExpiry'), 'expiresOn');
    if (entry && entry.r) addFact(facts, t('revokedOn'), displayDate(entry.r), 'revokedOn');
    el('details-note').textContent = claims
      ? t('signedNote', { kid: answer.check.kid })
      : t('noToken');
  }

  function finish(answer, started) {
    state.answer = answer;
    render(answer);
    var result = el('result');
    result.setAttribute('data-ms', (window.performance.now() - started).toFixed(2));
    result.setAttribute('data-checked', String(Date.now()));
  }

  function check(text) {
    var started = window.performance.now();
    el('result').removeAttribute('data-checked');
    var input = V.parseInput(text);
    if (!input.code || !V.isCode(input.code)) {
      finish({ verdict: 'bad', code: input.code }, started);
      return;
    }
    var day = V.today();
    var found = V.lookup(REGISTRY, input.code, day);
    var answer = { code: input.code, status: found.status, entry: found.entry, check: null };
    if (!input.token) {
      answer.verdict = V.verdict(found.status, null, day);
      finish(answer, started);
      return;
    }
    V.verifyCard(input.code, input.token, REGISTRY.keys).then(function (result) {
      answer.check = result;
      answer.engine = result.engine;
      answer.verdict = V.verdict(found.status, result, day);
      finish(answer, started);
    });
  }

  /* Camera and photo scanning where the browser has a QR detector (BarcodeDetector). */
  function stopScan() {
    if (!state.scanning) return;
    state.scanning.getTracks().forEach(function (track) { track.stop(); });
    state.scanning = null;
    el('video').hidden = true;
    el('scan').textContent = t('scan');
  }

  function scanned(raw) {
    stopScan();
    el('query').value = raw;
    check(raw);
  }

  function startScan(detector) {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false })
      .then(function (stream) {
        state.scanning = stream;
        var video = el('video');
        video.srcObject = stream;
        video.hidden = false;
        el('scan').textContent = t('stop');
        return video.play().then(function () {
          (function tick() {
            if (!state.scanning) return;
            detector.detect(video).then(function (codes) {
              if (codes.length) scanned(codes[0].rawValue);
              else window.setTimeout(tick, 200);
            }, function () { window.setTimeout(tick, 400); });
          })();
        });
      })
      .catch(function () {
        stopScan();
        finish({ verdict: 'bad', code: '' }, window.performance.now());
        el('verdict-text').textContent = t('cameraError');
      });
  }

  function setUpScanning() {
    if (!('BarcodeDetector' in window)) return;
    var detector;
    try {
      detector = new window.BarcodeDetector({ formats: ['qr_code'] });
    } catch (e) {
      return;
    }
    var canFilm = navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
    el('scan').hidden = !canFilm;
    el('photo-label').hidden = false;
    el('scan').addEventListener('click', function () {
      if (state.scanning) stopScan();
      else startScan(detector);
    });
    el('photo').addEventListener('change', function (event) {
      var file = event.target.files && event.target.files[0];
      if (!file) return;
      window.createImageBitmap(file)
        .then(function (bitmap) { return detector.detect(bitmap); })
        .then(function (codes) {
          if (codes.length) {
            scanned(codes[0].rawValue);
          } else {
            finish({ verdict: 'bad', code: '' }, window.performance.now());
            el('verdict-text').textContent = t('noQr');
          }
        });
      event.target.value = '';
    });
  }

  el('check-form').addEventListener('submit', function (event) {
    event.preventDefault();
    check(el('query').value);
  });
  var languageButtons = document.querySelectorAll('[data-lang]');
  for (var i = 0; i < languageButtons.length; i++) {
    languageButtons[i].addEventListener('click', function (event) {
      setLanguage(event.currentTarget.getAttribute('data-lang'));
    });
  }
  setUpScanning();
  setLanguage(state.language);
  document.body.setAttribute('data-ready', 'true');
})();

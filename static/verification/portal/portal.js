/* CampaignID offline portal: answers valid / revoked / withdrawn / expired / unknown / forged
 * for a typed code, a pasted QR link or a scanned QR, from a signed status list (registry.js:
 * the campaign's card statuses by code hash, signed by the program's key) and the program's
 * public keys, with no network.
 *
 * Which list answers: the portal's own, once its signature checks (a modified list is
 * refused, in plain words); a newer one kept in this browser (localStorage) from an earlier
 * visit or portal, if signed by a key this portal trusts; and, when online, the newest list
 * from the server (header.status_url, one cacheable request), same rule. A list never
 * replaces one with a higher sequence number (no rollback). A list older than its
 * max_age_days turns "valid" into "to confirm online".
 * The page's words, in French, English and Wolof, are all here. */
(function () {
  'use strict';
  var V = window.CampaignIDVerify;
  var BUNDLED = window.CAMPAIGNID_STATUS_LIST || '';
  var STORE_PREFIX = 'campaignid-status-list:';
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
      withdrawn: 'Non valide : clé retirée',
      withdrawnText: 'Le programme a retiré la clé qui a signé cette carte : elle n’est plus valide, même si ses informations semblent justes. Ne l’acceptez pas ; son titulaire recevra une nouvelle carte.',
      confirm: 'À confirmer en ligne',
      confirmText: 'Cette carte était valide le {date}, mais la liste de ce portail a plus de {days} jours : vérifiez-la en ligne ou avec un portail à jour avant de l’accepter.',
      refused: 'Liste des cartes refusée',
      refusedText: 'La liste des cartes de ce portail a été modifiée : sa signature ne correspond pas à celle du programme. N’utilisez pas ce portail ; demandez-en un nouveau au programme.',
      fetchedRefused: 'Une liste reçue du serveur a été refusée : elle n’est pas signée par une clé que ce portail connaît. Ce portail garde sa liste ; demandez un portail à jour.',
      listLine: 'Liste n° {sequence}, signée par la clé {kid}',
      verdictStatus: 'Statut au {date} (liste n° {sequence})',
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
      withdrawn: 'Not valid: key withdrawn',
      withdrawnText: 'The program withdrew the key that signed this card: it is not valid any more, even if its details look right. Do not accept it; its holder will receive a new card.',
      confirm: 'To confirm online',
      confirmText: 'This card was valid on {date}, but this portal’s list is more than {days} days old: check it online or with an up-to-date portal before accepting it.',
      refused: 'Card list refused',
      refusedText: 'This portal’s card list was modified: its signature does not match the program’s. Do not use this portal; ask the program for a new one.',
      fetchedRefused: 'A list received from the server was refused: it is not signed by a key this portal knows. This portal keeps its list; ask for an up-to-date portal.',
      listLine: 'List no. {sequence}, signed by key {kid}',
      verdictStatus: 'Status as of {date} (list no. {sequence})',
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
      withdrawn: 'Baaxul: caabi bi dindees na',
      withdrawnText: 'Porogaraam bi dindi na caabi bi xaatim kàrt bii: baaxatul, doonte xibaar yi dafa mel ni dëgg. Bul ko nangu; boroom kàrt bi dina jot kàrt bu bees.',
      confirm: 'Seetlu ko ci internet',
      confirmText: 'Kàrt bii baaxoon na ci {date}, waaye limu portail bii ëpp na {days} fan: seetlu ko ci internet walla ak portail bu bees balaa nga koy nangu.',
      refused: 'Limu kàrt yi, ñu bañ ko',
      refusedText: 'Dañu soppi limu kàrt yi ci portail bii: xaatim bi dëppoowul ak bu porogaraam bi. Bul jëfandikoo portail bii; laajal porogaraam bi bu bees.',
      fetchedRefused: 'Lim bu jóge ci serwëer bi, dañu ko bañ: caabi bu portail bii xam xaatimu ko. Portail bi dina denc limam; laajal portail bu bees.',
      listLine: 'Lim n° {sequence}, caabi {kid} moo ko xaatim',
      verdictStatus: 'Xibaar yi ba {date} (lim n° {sequence})',
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

  var state = {
    language: 'fr', answer: null, scanning: null,
    list: null, trusted: null, problem: '', notice: ''
  };
  var el = function (id) { return document.getElementById(id); };

  function initialLanguage() {
    var stored = null;
    try { stored = window.localStorage.getItem(STORAGE_KEY); } catch (e) { /* file:// may refuse */ }
    if (LANGUAGES.indexOf(stored) >= 0) return stored;
    var header = state.list && state.list.header;
    if (header && LANGUAGES.indexOf(header.language) >= 0) return header.language;
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

  function setLanguage(language, remember) {
    state.language = language;
    if (remember !== false) {
      try { window.localStorage.setItem(STORAGE_KEY, language); } catch (e) { /* ignore */ }
    }
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
    showListInfo();
    if (state.answer) render(state.answer);
  }

  /* The top lines: which list answers (its number, date and key), or why none does. */
  function showListInfo() {
    var header = state.list && state.list.header;
    if (header) {
      el('portal-info').textContent = t('info', {
        program: header.program_name || header.program,
        campaign: header.campaign,
        date: displayDate((header.status_at || '').slice(0, 10)),
        count: header.count
      }) + ' · ' + t('listLine', { sequence: header.sequence, kid: header.kid });
      el('portal-status').textContent = t('statusAt', { date: statusDate(header.status_at) });
    } else if (state.problem) {
      el('portal-info').textContent = state.problem === 'refused' ? t('refusedText') : t('noRegistry');
      el('portal-status').textContent = '';
    } else {
      el('portal-info').textContent = '';
      el('portal-status').textContent = '';
    }
    var notice = el('portal-notice');
    notice.hidden = !state.notice;
    notice.textContent = state.notice ? t(state.notice) : '';
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
    var header = state.list && state.list.header;
    var texts = {
      valid: t('validText'),
      withdrawn: t('withdrawnText'),
      confirm: t('confirmText', {
        date: header ? statusDate(header.status_at) : '', days: header && header.max_age_days
      }),
      refused: t('refusedText'),
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
    // Every verdict says how old the knowledge behind it is.
    el('verdict-status').textContent = header && answer.verdict !== 'bad'
      ? t('verdictStatus', { date: statusDate(header.status_at), sequence: header.sequence })
      : '';

    var facts = el('facts');
    facts.innerHTML = '';
    var details = el('details');
    if (answer.verdict === 'bad' || answer.verdict === 'forged' || answer.verdict === 'refused') {
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
    ready.then(function () { answerFor(input, started); });
  }

  function answerFor(input, started) {
    if (!state.list) {
      finish({ verdict: 'refused', code: input.code }, started);
      return;
    }
    var list = state.list;
    var day = V.today();
    var found = V.statusLookup(list, input.code, day);
    var answer = { code: input.code, status: found.status, entry: found.entry, check: null };
    var conclude = function () {
      // An old list cannot vouch for a card today: "valid" must be confirmed online.
      if (answer.verdict === 'valid' && V.isStale(list)) answer.verdict = 'confirm';
      finish(answer, started);
    };
    if (!input.token) {
      answer.verdict = V.verdict(found.status, null, day);
      conclude();
      return;
    }
    V.verifyCard(input.code, input.token, list.header.keys).then(function (result) {
      answer.check = result;
      answer.engine = result.engine;
      answer.verdict = V.verdict(found.status, result, day);
      conclude();
    });
  }

  /* ---- Which list answers --------------------------------------------------------------- */

  function storeKey(header) {
    return STORE_PREFIX + header.program + ':' + header.campaign + (header.part ? ':' + header.part : '');
  }

  function sameRound(a, b) {
    return a.program === b.program && a.campaign === b.campaign && (a.part || '') === (b.part || '');
  }

  /* Resolves the list if `data` is a status list of this portal's campaign, signed by a key
     this portal trusts; else null. */
  function checked(data) {
    var list;
    try {
      list = V.decodeStatusList(data);
    } catch (e) {
      return Promise.resolve(null);
    }
    if (state.list && !sameRound(list.header, state.list.header)) return Promise.resolve(null);
    return V.verifyStatusList(list, state.trusted).then(function (result) {
      return result.ok ? list : null;
    });
  }

  function base64Of(bytes) {
    var parts = [];
    for (var i = 0; i < bytes.length; i += 32768) {
      parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + 32768)));
    }
    return window.btoa(parts.join(''));
  }

  /* Keeps `list` for the next visit; a list too large for localStorage (a national round)
     answers for this visit only. */
  function keep(list, text) {
    // localStorage holds ~5 million characters: a bigger list is not even tried.
    if (list.bytes.length > 3500000) return;
    try {
      window.localStorage.setItem(storeKey(list.header), text || base64Of(list.bytes));
    } catch (e) { /* full, or refused from file:// */ }
  }

  /* `list` answers from now on only if its number is higher: never roll back. */
  function adopt(list, text) {
    if (!list || list.header.sequence <= state.list.header.sequence) return false;
    state.list = list;
    keep(list, text);
    showListInfo();
    return true;
  }

  function loadBundled() {
    var list;
    try {
      list = V.decodeStatusList(BUNDLED);
    } catch (e) {
      state.problem = BUNDLED ? 'refused' : 'missing';
      return Promise.resolve();
    }
    // The portal's own keys, from its own list once that verifies, are the keys it trusts.
    return V.verifyStatusList(list, list.header.keys).then(function (result) {
      if (!result.ok) {
        state.problem = 'refused';
        return;
      }
      state.list = list;
      state.trusted = list.header.keys;
    });
  }

  function loadStored() {
    if (!state.list) return Promise.resolve();
    var text = null;
    try { text = window.localStorage.getItem(storeKey(state.list.header)); } catch (e) { /* */ }
    var bundled = state.list;
    if (!text) {
      keep(bundled, BUNDLED);
      return Promise.resolve();
    }
    return checked(text).then(function (stored) {
      if (!adopt(stored, text) && (!stored || stored.header.sequence < bundled.header.sequence)) {
        keep(bundled, BUNDLED);
      }
    });
  }

  /* Online: the newest list from the server, once; refused or older ones change nothing. */
  function refresh() {
    var header = state.list && state.list.header;
    if (!header || !header.status_url || header.part || !window.fetch) return;
    if (navigator.onLine === false) return;
    window.fetch(header.status_url, { cache: 'no-cache', credentials: 'omit' })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.arrayBuffer();
      })
      .then(function (buffer) { return checked(buffer); })
      .then(function (list) {
        if (list === null) {
          state.notice = 'fetchedRefused';
          showListInfo();
        } else {
          adopt(list, null);
        }
        document.body.setAttribute('data-refreshed', list === null ? 'refused' : 'checked');
      })
      .catch(function () { document.body.setAttribute('data-refreshed', 'offline'); });
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
  var ready = loadBundled().then(loadStored).then(function () {
    state.language = initialLanguage();
    setLanguage(state.language);
    document.body.setAttribute('data-list-sequence', state.list ? state.list.header.sequence : '');
    document.body.setAttribute('data-list-problem', state.problem);
    document.body.setAttribute('data-ready', 'true');
    refresh();
  });
  // Words on the page while the list is read; its language is known (and kept) only then.
  setLanguage(initialLanguage(), false);
})();

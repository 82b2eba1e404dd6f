/* CampaignID card verifier: token format versions 2 and 1 (README "Card token format").
 *
 * One verifier for the online page (/v/c/<code>) and the offline portal (portal.zip).
 * A classic script, not an ES module: browsers refuse module imports from a file:// page.
 * It needs vendor/noble-crypto.js loaded first (SHA-256 of codes, and the Ed25519 fallback).
 *
 * window.CampaignIDVerify = {
 *   parseInput(text) -> {code, token}      a typed code, a pasted or scanned QR URL
 *   decodeToken(token) -> {claims, kid, payload, signature}   throws TokenError
 *   verifyCard(code, token, jwks) -> Promise<{genuine, reason, claims, kid, engine}>
 *   codeHash(code) -> registry key;  lookup(registry, code, today) -> {status, entry}
 *   verdict(status, check, today) -> valid | revoked | withdrawn | expired | unknown | forged
 *   decodeStatusList(base64 | bytes) -> {header, records, ...}   throws ListError
 *   verifyStatusList(list, jwks) -> Promise<{ok, reason}>
 *   statusLookup(list, code, today) -> {status, entry};  isStale(list, now) -> boolean
 * }
 */
(function (global) {
  'use strict';

  var V1 = 1;
  var KID_SIZE = 5;
  var SIGNATURE_SIZE = 64;
  var MAX_VARINT_BYTES = 4;
  var NO_DATE = 0xffff;
  var DAY_MS = 86400000;
  // Day numbers are calendar days counted in UTC, never with local time.
  var ISSUE_EPOCH = Date.UTC(2020, 0, 1);
  var BIRTH_EPOCH = Date.UTC(1900, 0, 1);
  // Frozen order: the token stores the index (cards/tokens.py CAMPAIGN_TYPE_CODES).
  // 'health' is the neutral type the cards of sensitive campaigns carry.
  var CAMPAIGN_TYPES = [
    'vaccination', 'mild', 'nutrition', 'antenatal', 'hiv', 'insurance', 'refugee',
    'identity', 'lab', 'cps', 'farmercard', 'health'
  ];
  var BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  var CODE_PATTERN = /^[A-Z0-9][A-Z0-9-]{2,39}$/;
  // Registry keys: the first 16 bytes of SHA-256(code), base64url (verification/registry.py).
  var CODE_HASH_BYTES = 16;

  var BAD_ENCODING = 'bad encoding';
  var UNKNOWN_KEY = 'unknown key';
  var BAD_SIGNATURE = 'bad signature';

  function TokenError(reason, detail) {
    this.name = 'TokenError';
    this.reason = reason;
    this.message = detail ? reason + ': ' + detail : reason;
  }
  TokenError.prototype = Object.create(Error.prototype);

  function bad(detail) {
    return new TokenError(BAD_ENCODING, detail);
  }

  function noble() {
    if (!global.nobleCrypto) throw new Error('vendor/noble-crypto.js is not loaded');
    return global.nobleCrypto;
  }

  function ascii(text) {
    var out = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
    return out;
  }

  function concat(parts) {
    var size = 0, offset = 0, i;
    for (i = 0; i < parts.length; i++) size += parts[i].length;
    var out = new Uint8Array(size);
    for (i = 0; i < parts.length; i++) {
      out.set(parts[i], offset);
      offset += parts[i].length;
    }
    return out;
  }

  function base32Encode(bytes) {
    var out = '', buffer = 0, bits = 0;
    for (var i = 0; i < bytes.length; i++) {
      buffer = ((buffer << 8) | bytes[i]) & 0xfff;
      bits += 8;
      while (bits >= 5) {
        bits -= 5;
        out += BASE32.charAt((buffer >> bits) & 31);
      }
    }
    if (bits > 0) out += BASE32.charAt((buffer << (5 - bits)) & 31);
    return out;
  }

  /* RFC 4648 base32 without padding, canonical only: one spelling per token, so changing any
     character (even the last one's unused low bits) fails. */
  function base32Decode(text) {
    if (typeof text !== 'string' || !/^[A-Z2-7]+$/.test(text)) throw bad('not upper-case base32');
    if ([0, 2, 4, 5, 7].indexOf(text.length % 8) < 0) throw bad('impossible base32 length');
    var out = new Uint8Array(Math.floor(text.length * 5 / 8));
    var buffer = 0, bits = 0, j = 0;
    for (var i = 0; i < text.length; i++) {
      buffer = ((buffer << 5) | BASE32.indexOf(text.charAt(i))) & 0x1fff;
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        out[j++] = (buffer >> bits) & 0xff;
      }
    }
    if (buffer & ((1 << bits) - 1)) throw bad('non-canonical base32');
    return out;
  }

  function base64UrlDecode(text) {
    var b64 = String(text).replace(/-/g, '+').replace(/_/g, '/');
    while (b64.length % 4) b64 += '=';
    var binary = global.atob(b64);
    var out = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  }

  function base64UrlEncode(bytes) {
    var binary = '';
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return global.btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function isoDay(epoch, days) {
    return new Date(epoch + days * DAY_MS).toISOString().slice(0, 10);
  }

  function uint16(bytes, at) {
    return (bytes[at] << 8) | bytes[at + 1];
  }

  /* Version 1 (base32): parses without verifying; every rule of the format is enforced. */
  function decodeTokenV1(token) {
    var raw = base32Decode(token);
    if (raw.length < 1 + KID_SIZE + 1 + 1 + 6 + 1 + SIGNATURE_SIZE) throw bad('too short');
    if (raw[0] !== V1) throw bad('unsupported version ' + raw[0]);
    var payload = raw.subarray(0, raw.length - SIGNATURE_SIZE);
    var signature = raw.subarray(raw.length - SIGNATURE_SIZE);

    var programId = 0, pos = 1 + KID_SIZE, i;
    for (i = 0; ; i++) {
      if (i === MAX_VARINT_BYTES) throw bad('program id longer than 4 bytes');
      if (pos + i >= payload.length) throw bad('truncated program id');
      var byte = payload[pos + i];
      programId += (byte & 0x7f) * Math.pow(2, 7 * i);
      if (!(byte & 0x80)) {
        if (byte === 0 && i > 0) throw bad('non-minimal program id');
        break;
      }
    }
    pos += i + 1;
    if (payload.length < pos + 8) throw bad('truncated');
    var typeIndex = payload[pos];
    if (typeIndex >= CAMPAIGN_TYPES.length) throw bad('unknown campaign type ' + typeIndex);
    var issued = uint16(payload, pos + 1);
    var expires = uint16(payload, pos + 3);
    var born = uint16(payload, pos + 5);
    var nameLength = payload[pos + 7];
    var nameBytes = payload.subarray(pos + 8);
    if (nameBytes.length !== nameLength) throw bad('name length does not match');
    return decoded(payload, signature, nameBytes, typeIndex, issued, expires, born, programId);
  }

  /* What both versions read into: the claims, the kid, the signed payload and signature. */
  function decoded(payload, signature, nameBytes, typeIndex, issued, expires, born, programId) {
    var name;
    try {
      name = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(nameBytes);
    } catch (e) {
      throw bad('name is not UTF-8');
    }
    if (issued === NO_DATE) throw bad('no issue date');
    return {
      claims: {
        name: name,
        birthDate: born === NO_DATE ? null : isoDay(BIRTH_EPOCH, born),
        programId: programId,
        campaignType: CAMPAIGN_TYPES[typeIndex],
        issuedOn: isoDay(ISSUE_EPOCH, issued),
        expiresOn: expires === NO_DATE ? null : isoDay(ISSUE_EPOCH, expires)
      },
      kid: base32Encode(payload.subarray(1, 1 + KID_SIZE)),
      payload: payload,
      signature: signature
    };
  }

  /* ---- Token versions and spellings (README "Card token format"). -----------------------
     Version 2 (cards issued since #16): decimal digits, the token bytes as one big-endian
     number padded to D(n) digits; version 1: base32 (decodeTokenV1 above). Kept together
     here, apart from the verdicts and key handling. */
  var V2 = 2;
  var SIGNING_TAGS = { 1: 'campaignid-card-v1', 2: 'campaignid-card-v2' };
  var V2_FIXED_SIZE = 1 + KID_SIZE + 1 + 6;  // version, kid, type, three dates
  var MAX_DECIMAL_DIGITS = 1000;
  var DIGITS_PER_BYTE = 2.408239965311849;   // log10(256)

  /* D(n): the digits of 256^n - 1. */
  function decimalDigits(size) {
    return ((BigInt(1) << BigInt(8 * size)) - BigInt(1)).toString().length;
  }

  /* The bytes of a version 2 token; one spelling per token (any other digit count, or a
     number too large for its digit count, is refused). */
  function decimalDecode(text) {
    if (typeof text !== 'string' || !/^[0-9]+$/.test(text)) throw bad('not decimal digits');
    if (text.length > MAX_DECIMAL_DIGITS) throw bad('too long');
    if (typeof BigInt !== 'function') throw bad('this browser cannot read version 2 tokens');
    var guess = Math.floor(text.length / DIGITS_PER_BYTE);
    for (var size = guess - 1; size <= guess + 1; size++) {
      if (size < 1 || decimalDigits(size) !== text.length) continue;
      var value = BigInt(text);
      if (value >> BigInt(8 * size) !== BigInt(0)) {
        throw bad('number larger than its digit count allows');
      }
      var out = new Uint8Array(size);
      var mask = BigInt(255), eight = BigInt(8);
      for (var i = size - 1; i >= 0; i--) {
        out[i] = Number(value & mask);
        value = value >> eight;
      }
      return out;
    }
    throw bad('impossible digit count');
  }

  function decodeTokenV2(token) {
    var raw = decimalDecode(token);
    if (raw.length < V2_FIXED_SIZE + SIGNATURE_SIZE) throw bad('too short');
    if (raw[0] !== V2) throw bad('unsupported version ' + raw[0]);
    var payload = raw.subarray(0, raw.length - SIGNATURE_SIZE);
    var typeIndex = payload[1 + KID_SIZE];
    if (typeIndex >= CAMPAIGN_TYPES.length) throw bad('unknown campaign type ' + typeIndex);
    var issued = uint16(payload, 2 + KID_SIZE);
    var expires = uint16(payload, 4 + KID_SIZE);
    var born = uint16(payload, 6 + KID_SIZE);
    // The key says the program: version 2 does not carry its id.
    return decoded(payload, raw.subarray(raw.length - SIGNATURE_SIZE),
                   payload.subarray(V2_FIXED_SIZE), typeIndex, issued, expires, born, null);
  }

  /* Parses without verifying (TokenError otherwise): digits are version 2, else version 1. */
  function decodeToken(token) {
    if (typeof token === 'string' && /^[0-9]+$/.test(token)) return decodeTokenV2(token);
    return decodeTokenV1(token);
  }

  /* "campaignid-card-v<version>" || len(code) || code || payload */
  function signedMessage(code, payload) {
    var codeBytes = ascii(code);
    var tag = SIGNING_TAGS[payload[0]];
    if (!tag) throw bad('unsupported version ' + payload[0]);
    return concat([ascii(tag), new Uint8Array([codeBytes.length]), codeBytes, payload]);
  }
  /* ---- end of token versions and spellings. ---- */

  var webCryptoUsable = true;

  function nobleVerify(publicKey, signature, message) {
    var ok;
    try {
      // Strict RFC 8032 rules (not ZIP-215): the same verdicts as WebCrypto and OpenSSL.
      ok = noble().ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch (e) {
      ok = false;
    }
    return { ok: ok === true, engine: 'noble' };
  }

  /* WebCrypto Ed25519 where the browser has it (feature-detected by trying it), else the
     vendored pure-JS verifier. Resolves {ok, engine}. */
  function verifyEd25519(publicKey, signature, message) {
    var subtle = global.crypto && global.crypto.subtle;
    if (!webCryptoUsable || !subtle || typeof subtle.importKey !== 'function') {
      return Promise.resolve(nobleVerify(publicKey, signature, message));
    }
    var attempt;
    try {
      attempt = subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify'])
        .then(function (key) {
          return subtle.verify({ name: 'Ed25519' }, key, signature, message);
        });
    } catch (e) {
      attempt = Promise.reject(e);
    }
    return attempt.then(
      function (ok) { return { ok: ok === true, engine: 'webcrypto' }; },
      function () {
        // No Ed25519 in this WebCrypto (older browsers): use the vendored verifier from now on.
        webCryptoUsable = false;
        return nobleVerify(publicKey, signature, message);
      }
    );
  }

  function findKey(jwks, kid) {
    var keys = (jwks && jwks.keys) || [];
    for (var i = 0; i < keys.length; i++) {
      var key = keys[i];
      if (key.kid === kid && key.kty === 'OKP' && key.crv === 'Ed25519') return key;
    }
    return null;
  }

  /* The signed claims if a key of `jwks` signed `token` for `code`. Never rejects:
     {genuine: false, reason} says why a token cannot be trusted. */
  function verifyCard(code, token, jwks) {
    var decoded;
    try {
      decoded = decodeToken(token);
    } catch (e) {
      return Promise.resolve({ genuine: false, reason: e.reason || BAD_ENCODING });
    }
    var key = findKey(jwks, decoded.kid);
    var publicKey = null;
    if (key) {
      try {
        publicKey = base64UrlDecode(key.x);
      } catch (e) {
        publicKey = null;
      }
    }
    if (!publicKey || publicKey.length !== 32) {
      return Promise.resolve({ genuine: false, reason: UNKNOWN_KEY, kid: decoded.kid });
    }
    var message = signedMessage(code, decoded.payload);
    return verifyEd25519(publicKey, decoded.signature, message).then(function (result) {
      if (!result.ok) {
        return { genuine: false, reason: BAD_SIGNATURE, kid: decoded.kid, engine: result.engine };
      }
      return {
        genuine: true, claims: decoded.claims, kid: decoded.kid, engine: result.engine,
        keyStatus: key.status || 'active'
      };
    });
  }

  /* A typed code, a pasted QR URL (…/v/c/<CODE>#<TOKEN>) or a scanned QR text. */
  function parseInput(text) {
    var value = String(text || '').replace(/\s+/g, '');
    var token = '';
    var hash = value.indexOf('#');
    if (hash >= 0) {
      token = value.slice(hash + 1);
      value = value.slice(0, hash);
    }
    value = value.replace(/[?].*$/, '').replace(/\/+$/, '');
    var code = value.slice(value.lastIndexOf('/') + 1);
    try {
      code = decodeURIComponent(code);
    } catch (e) { /* keep it as typed */ }
    return { code: code.toUpperCase(), token: token };
  }

  function isCode(code) {
    return CODE_PATTERN.test(code);
  }

  function codeHash(code) {
    var digest = noble().sha256(ascii(code));
    return base64UrlEncode(digest.subarray(0, CODE_HASH_BYTES));
  }

  /* The device's calendar day, YYYY-MM-DD: a card is expired the day after its expiry day. */
  function today(now) {
    var d = now || new Date();
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate());
  }

  /* Status of a code in a portal registry: valid, revoked, expired or unknown. */
  function lookup(registry, code, day) {
    if (!isCode(code) || !registry || !registry.cards) return { status: 'unknown', entry: null };
    var entry = registry.cards[codeHash(code)];
    if (!entry) return { status: 'unknown', entry: null };
    if (entry.s === 'revoked') return { status: 'revoked', entry: entry };
    if (entry.s === 'withdrawn') return { status: 'withdrawn', entry: entry };
    if (entry.e && entry.e < (day || today())) return { status: 'expired', entry: entry };
    return { status: 'valid', entry: entry };
  }

  /* One answer from the registry's (or server's) status and the token check, if any.
     "withdrawn": the card's key was withdrawn by its program (status list, server, or the
     key's JWKS status): not valid, whatever its dates. */
  function verdict(status, check, day) {
    if (check && !check.genuine) return 'forged';
    if (status === 'revoked') return 'revoked';
    if (status === 'withdrawn' || (check && check.keyStatus === 'withdrawn')) return 'withdrawn';
    if (status === 'expired') return 'expired';
    if (check && check.claims.expiresOn && check.claims.expiresOn < (day || today())) {
      return 'expired';
    }
    if (status === 'unknown') return 'unknown';
    return 'valid';
  }

  /* ---- Signed status lists (verification/status_list.py; README "Verification
   * (technical)"). Kept apart from the token code above: they share only the Ed25519 check.
   * "CIDS" | format 1 | uint32 header length | header JSON | 16-byte records | signature. */
  var LIST_TAG = 'campaignid-status-v1';
  var LIST_MAGIC = 'CIDS';
  var LIST_FORMAT = 1;
  var RECORD_SIZE = 16;
  var RECORD_HASH = 10;
  var STATE_VALID = 0xffff;
  var STATE_WITHDRAWN = 0xfffe;

  function ListError(reason) {
    this.name = 'ListError';
    this.reason = reason;
    this.message = reason;
  }
  ListError.prototype = Object.create(Error.prototype);

  /* A base64 text (registry.js, localStorage) or bytes (a fetch) -> {bytes, message}: the
     list, and the signed message (tag || every byte before the signature) laid out in one
     buffer after the tag, so a million cards (16 MB) are never copied to be verified. */
  function listBytes(data) {
    var tag = ascii(LIST_TAG);
    var buffer, size;
    if (data instanceof ArrayBuffer) data = new Uint8Array(data);
    if (data instanceof Uint8Array) {
      buffer = new Uint8Array(tag.length + data.length);
      buffer.set(data, tag.length);
      size = data.length;
    } else if (typeof Uint8Array.prototype.setFromBase64 === 'function') {
      // Native base64 (recent browsers): ~10 times faster than atob and a loop.
      var text = String(data);
      buffer = new Uint8Array(tag.length + Math.ceil(text.length / 4) * 3);
      size = buffer.subarray(tag.length).setFromBase64(text).written;
    } else {
      var binary = global.atob(String(data));
      size = binary.length;
      buffer = new Uint8Array(tag.length + size);
      for (var i = 0; i < size; i++) buffer[tag.length + i] = binary.charCodeAt(i);
    }
    buffer.set(tag, 0);
    return {
      bytes: buffer.subarray(tag.length, tag.length + size),
      message: buffer.subarray(0, tag.length + size - SIGNATURE_SIZE)
    };
  }

  /* Parses without verifying: {header, records, body, signature, bytes}; throws ListError. */
  function decodeStatusList(data) {
    var laid, bytes;
    try {
      laid = listBytes(data);
    } catch (e) {
      throw new ListError('not a status list');
    }
    bytes = laid.bytes;
    if (bytes.length < 9 + SIGNATURE_SIZE) throw new ListError('not a status list');
    var magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
    if (magic !== LIST_MAGIC || bytes[4] !== LIST_FORMAT) throw new ListError('not a status list');
    var headSize = ((bytes[5] << 24) >>> 0) + (bytes[6] << 16) + (bytes[7] << 8) + bytes[8];
    var body = bytes.subarray(0, bytes.length - SIGNATURE_SIZE);
    if (9 + headSize > body.length) throw new ListError('not a status list');
    var records = body.subarray(9 + headSize);
    if (records.length % RECORD_SIZE) throw new ListError('not a status list');
    var header;
    try {
      header = JSON.parse(new TextDecoder('utf-8').decode(body.subarray(9, 9 + headSize)));
    } catch (e) {
      throw new ListError('not a status list');
    }
    return {
      header: header, records: records, body: body, bytes: bytes, message: laid.message,
      signature: bytes.subarray(bytes.length - SIGNATURE_SIZE)
    };
  }

  /* Resolves {ok, reason}: the list must be signed by the key its header names, found in
     `jwks` (the keys the verifier already trusts) and not withdrawn there. */
  function verifyStatusList(list, jwks) {
    var key = findKey(jwks, list.header.kid);
    if (!key) return Promise.resolve({ ok: false, reason: UNKNOWN_KEY });
    if (key.status === 'withdrawn') return Promise.resolve({ ok: false, reason: 'withdrawn key' });
    var publicKey;
    try {
      publicKey = base64UrlDecode(key.x);
    } catch (e) {
      return Promise.resolve({ ok: false, reason: UNKNOWN_KEY });
    }
    return verifyEd25519(publicKey, list.signature, list.message).then(function (result) {
      return { ok: result.ok, reason: result.ok ? '' : BAD_SIGNATURE, engine: result.engine };
    });
  }

  function compareAt(records, at, wanted) {
    for (var i = 0; i < RECORD_HASH; i++) {
      var diff = records[at + i] - wanted[i];
      if (diff) return diff;
    }
    return 0;
  }

  /* A code's status in a status list: valid, revoked, withdrawn, expired or unknown, with
     its entry {s, i, e, r} (ISO days). A binary search over the sorted records. */
  function statusLookup(list, code, day) {
    if (!isCode(code) || !list) return { status: 'unknown', entry: null };
    var wanted = noble().sha256(ascii(code)).subarray(0, RECORD_HASH);
    var records = list.records;
    var low = 0, high = records.length / RECORD_SIZE;
    while (low < high) {
      var middle = (low + high) >>> 1;
      var diff = compareAt(records, middle * RECORD_SIZE, wanted);
      if (diff < 0) low = middle + 1;
      else if (diff > 0) high = middle;
      else {
        var at = middle * RECORD_SIZE + RECORD_HASH;
        var issued = uint16(records, at), expires = uint16(records, at + 2);
        var state = uint16(records, at + 4);
        var entry = {
          s: state === STATE_VALID ? 'valid' : (state === STATE_WITHDRAWN ? 'withdrawn' : 'revoked'),
          i: isoDay(ISSUE_EPOCH, issued),
          e: expires === NO_DATE ? null : isoDay(ISSUE_EPOCH, expires),
          r: state === STATE_VALID || state === STATE_WITHDRAWN ? null : isoDay(ISSUE_EPOCH, state)
        };
        if (entry.s !== 'valid') return { status: entry.s, entry: entry };
        if (entry.e && entry.e < (day || today())) return { status: 'expired', entry: entry };
        return { status: 'valid', entry: entry };
      }
    }
    return { status: 'unknown', entry: null };
  }

  /* True when the list is older than its max_age_days on `now`: "valid" becomes "to confirm
     online". A list dated in the future (a wrong device clock) is not stale. */
  function isStale(list, now) {
    var issued = Date.parse(list.header.issued_at);
    var days = Number(list.header.max_age_days);
    if (!(days >= 0)) days = 30;
    if (!issued) return true;
    return ((now || new Date()).getTime() - issued) > days * DAY_MS;
  }

  global.CampaignIDVerify = {
    CAMPAIGN_TYPES: CAMPAIGN_TYPES,
    TokenError: TokenError,
    base32Decode: base32Decode,
    base32Encode: base32Encode,
    decodeToken: decodeToken,
    decimalDecode: decimalDecode,
    signedMessage: signedMessage,
    verifyCard: verifyCard,
    parseInput: parseInput,
    isCode: isCode,
    codeHash: codeHash,
    today: today,
    lookup: lookup,
    verdict: verdict,
    ListError: ListError,
    decodeStatusList: decodeStatusList,
    verifyStatusList: verifyStatusList,
    statusLookup: statusLookup,
    isStale: isStale
  };
})(typeof window !== 'undefined' ? window : globalThis);

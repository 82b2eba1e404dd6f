"""Google Wallet generic passes as "save" links: a JWT signed RS256 with the program's service
account key, at `https://pay.google.com/gp/v/save/<jwt>`.

A link carries the whole pass when it fits in MAX_LINK_LENGTH characters; longer ones are
refused by Google's own tools and by some browsers, so then the class (once) and the object
are inserted through the REST API and the link only references the object's id ("skinny").

Config: issuer_id, service_account_email, private_key (PEM), class_suffix.
"""

import hashlib
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as dtime
from urllib.parse import urlsplit

import jwt
from django.conf import settings
from django.utils.translation import gettext as _

from campaignid import outbound_http as http
from distribution import tokens
from distribution.providers.adapter import CardDetails, Channel, ChannelError, ErrorKind, SendResult
from distribution.providers.google_wallet.keys import load_key

PROVIDER = "google-wallet"
SAVE_URL = "https://pay.google.com/gp/v/save/"
MAX_LINK_LENGTH = 1800
MAX_OBJECTS_PER_LINK = 100
SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLASS_KNOWN_SECONDS = 24 * 3600
_NOT_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class WalletLink:
    url: str
    object_ids: tuple[str, ...]


class GoogleWalletChannel(Channel):
    code = "wallet"

    def _send(self, message):
        link = self.links([message])[0]
        return SendResult.sent(link.object_ids[0], link=link.url)

    def _check_credentials(self):
        tokens.forget_token(self._token_key())
        self._insert_class()
        return SendResult.sent("", detail=_(
            "Google accepted the service account; class %(class_id)s is ready."
        ) % {"class_id": self.class_id})

    @property
    def class_id(self):
        return f"{self.config['issuer_id']}.{self.config['class_suffix']}"

    def object_id(self, card_code):
        if not card_code:
            raise ChannelError(ErrorKind.PERMANENT, "no_card_code", _("The message names no card."))
        return f"{self.config['issuer_id']}.{_NOT_ID_CHARS.sub('_', card_code)}"

    def links(self, messages):
        """Save links for `messages`' cards: one when they fit, else skinny ones of ≤100 ids.

        Raises ChannelError when Google refuses the credentials or an object.
        """
        objects = [self.pass_object(m) for m in messages]
        full = self._link({"genericClasses": [{"id": self.class_id}], "genericObjects": objects})
        if len(full) <= MAX_LINK_LENGTH:
            return [WalletLink(full, tuple(o["id"] for o in objects))]
        self._insert_class()
        for obj in objects:
            self._insert("genericObject", obj)
        return self._skinny_links([o["id"] for o in objects])

    def pass_object(self, message):
        card = message.card or CardDetails(title="CampaignID", holder_name=message.card_code)
        language = message.language or "fr"
        obj = {
            "id": self.object_id(message.card_code),
            "classId": self.class_id,
            "state": "ACTIVE",
            "cardTitle": _localized(card.title, language),
            "header": _localized(card.holder_name or message.card_code, language),
            "barcode": {
                "type": "QR_CODE",
                "value": message.verification_url,
                "alternateText": message.card_code,
            },
            "hexBackgroundColor": card.background_color,
        }
        if card.subtitle:
            obj["subheader"] = _localized(card.subtitle, language)
        if card.logo_url:
            obj["logo"] = {"sourceUri": {"uri": card.logo_url}}
        if card.fields:
            obj["textModulesData"] = [
                {"id": f"field{n}", "header": label, "body": value}
                for n, (label, value) in enumerate(card.fields, start=1)
            ]
        interval = {}
        if card.valid_from:
            interval["start"] = {"date": _rfc3339(card.valid_from, end_of_day=False)}
        if card.valid_until:
            interval["end"] = {"date": _rfc3339(card.valid_until, end_of_day=True)}
        if interval:
            obj["validTimeInterval"] = interval
        return obj

    def _skinny_links(self, object_ids):
        links, batch = [], []
        for object_id in object_ids:
            candidate = [*batch, object_id]
            too_long = len(self._skinny_link(candidate)) > MAX_LINK_LENGTH
            if batch and (too_long or len(candidate) > MAX_OBJECTS_PER_LINK):
                links.append(WalletLink(self._skinny_link(batch), tuple(batch)))
                candidate = [object_id]
            batch = candidate
        if batch:
            links.append(WalletLink(self._skinny_link(batch), tuple(batch)))
        return links

    def _skinny_link(self, object_ids):
        return self._link({"genericObjects": [{"id": i} for i in object_ids]})

    def _link(self, payload):
        claims = {
            "iss": self.config["service_account_email"],
            "aud": "google",
            "typ": "savetowallet",
            "iat": int(time.time()),
            "origins": [_origin(settings.PUBLIC_BASE_URL)],
            "payload": payload,
        }
        return SAVE_URL + jwt.encode(claims, self._private_key(), algorithm="RS256")

    def _insert_class(self):
        known = "distribution:wallet-class:" + hashlib.sha256(
            f"{settings.GOOGLE_WALLET_API_URL}|{self.class_id}".encode()
        ).hexdigest()[:32]
        r = tokens.connection()
        if r.exists(known):
            return
        self._insert("genericClass", {"id": self.class_id})
        r.set(known, "1", ex=CLASS_KNOWN_SECONDS)

    def _insert(self, resource, body):
        """POST a class or object; one that already exists (409) is as good as inserted."""
        url = f"{settings.GOOGLE_WALLET_API_URL.rstrip('/')}/{resource}"
        token = self._access_token()
        response = http.request("POST", url, provider=PROVIDER, json=body,
                                headers={"Authorization": f"Bearer {token}"})
        if response.status_code == 401:
            token = self._access_token(stale=token)
            response = http.request("POST", url, provider=PROVIDER, json=body,
                                    headers={"Authorization": f"Bearer {token}"})
            if response.status_code == 401:
                raise _error(response, ErrorKind.ACCOUNT)
        if response.status_code in (200, 201, 409):
            return
        raise _error(response, None)

    def _access_token(self, *, stale=None):
        return tokens.cached_token(self._token_key(), self._fetch_access_token, stale=stale)

    def _token_key(self):
        return tokens.cache_key(
            PROVIDER, settings.GOOGLE_OAUTH_TOKEN_URL, self.config["service_account_email"]
        )

    def _fetch_access_token(self):
        now = int(time.time())
        assertion = jwt.encode(
            {
                "iss": self.config["service_account_email"],
                "scope": SCOPE,
                "aud": settings.GOOGLE_OAUTH_TOKEN_URL,
                "iat": now,
                "exp": now + 3600,
            },
            self._private_key(),
            algorithm="RS256",
        )
        response = http.request(
            "POST", settings.GOOGLE_OAUTH_TOKEN_URL, provider=PROVIDER,
            data={"grant_type": JWT_BEARER_GRANT, "assertion": assertion},
        )
        body = http.json_body(response)
        if response.status_code == 200 and body.get("access_token"):
            return body["access_token"], body.get("expires_in") or 3600
        if response.status_code in (400, 401, 403):
            detail = body.get("error_description") or body.get("error")
            raise ChannelError(
                ErrorKind.ACCOUNT, f"token_http_{response.status_code}",
                f"Google refused the service account: {detail or response.reason}",
            )
        raise _error(response, None)

    def _private_key(self):
        try:
            return load_key(self.config["private_key"])
        except (ValueError, TypeError) as exc:
            raise ChannelError(
                ErrorKind.ACCOUNT, "bad_private_key", _("The private key is not a PEM RSA key.")
            ) from exc


def wallet_links_bulk(*, config, messages):
    """Save links for up to any number of cards, each link holding up to 100 of them.

    Raises ChannelError (its `.result` says why) when Google refuses the credentials or an
    object; TransportError when Google does not answer.
    """
    return GoogleWalletChannel(config).links(list(messages))


def _error(response, kind):
    body = http.json_body(response)
    error = body.get("error")
    error = error if isinstance(error, dict) else {}
    status = response.status_code
    if kind is None:
        if status == 429:
            kind = ErrorKind.THROTTLED
        elif status >= 500 or status == 408:
            kind = ErrorKind.RETRYABLE
        elif status in (401, 403):
            kind = ErrorKind.ACCOUNT
        else:
            kind = ErrorKind.PERMANENT
    retry_after = http.retry_after_seconds(response) if kind == ErrorKind.THROTTLED else None
    return ChannelError(
        kind, error.get("status") or f"http_{status}", error.get("message") or f"HTTP {status}",
        retry_after=retry_after,
    )


def _localized(value, language):
    return {"defaultValue": {"language": language, "value": value}}


def _rfc3339(value, *, end_of_day):
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        moment = datetime.combine(
            value, dtime(23, 59, 59) if end_of_day else dtime(0, 0), tzinfo=UTC
        )
    return moment.isoformat().replace("+00:00", "Z")


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"

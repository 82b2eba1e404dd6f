"""The one interface every provider adapter has, and the verdicts a send can end with.

A dispatcher builds an `OutboundMessage` from a Message row (recipient, text, card, PNG,
idempotency key), calls `channel.send(message=...)` and acts on the `SendResult`:

- sent: the provider accepted it -> store `provider_message_id`;
- `retryable`: may work later (5xx, timeout, temporary error) -> retry after the run's delay,
  using up an attempt;
- `throttled`: the provider asked us to slow down -> wait (`retry_after` seconds when known);
  does NOT use up an attempt;
- `fallback`: this channel cannot reach this person now -> the other channel (or template);
- `permanent`: this message will never go through -> fail the message;
- `account`: the credentials or the account are unusable -> pause the run, tell the operator.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from campaignid.outbound_http import TransportError
from distribution.dispatch import retry_policy
from distribution.providers.error_kinds import ErrorKind
from distribution.providers.error_labels import error_label


@dataclass(frozen=True)
class CardDetails:
    """What a pass shows about the card (Google Wallet); texts already in the card's language."""

    title: str  # e.g. the program's name
    holder_name: str
    subtitle: str = ""  # e.g. the campaign's name
    valid_from: date | datetime | None = None
    valid_until: date | datetime | None = None
    fields: tuple[tuple[str, str], ...] = ()  # (label, value) lines shown on the pass
    logo_url: str = ""
    background_color: str = "#0EA5E9"


@dataclass(frozen=True)
class OutboundMessage:
    to: str = ""  # E.164, e.g. +221771234567 (unused by the wallet channel)
    text: str = ""  # the SMS body, or the WhatsApp caption
    card_code: str = ""
    verification_url: str = ""
    image_png: bytes | None = None
    language: str = "fr"
    template_params: tuple[str, ...] = ()  # WhatsApp template body parameters, in order
    idempotency_key: str = ""
    use_template: bool = False  # WhatsApp: send the approved template straight away
    card: CardDetails | None = None

    def __repr__(self):
        # Tracebacks and logs may print a message; never with its number, text or image.
        return f"OutboundMessage(card_code={self.card_code!r}, key={self.idempotency_key!r})"


@dataclass(frozen=True)
class SendResult:
    ok: bool
    provider_message_id: str = ""
    kind: ErrorKind | None = None
    error_code: str = ""
    detail: str = ""
    retry_after: float | None = None
    link: str = ""  # the wallet channel's save link
    via_template: bool = False  # WhatsApp: delivered as the approved template

    @classmethod
    def sent(cls, provider_message_id, **extra):
        return cls(ok=True, provider_message_id=provider_message_id, **extra)

    @classmethod
    def error(cls, kind, code, detail, *, retry_after=None):
        return cls(
            ok=False, kind=ErrorKind(kind), error_code=str(code), detail=scrub(detail),
            retry_after=retry_after,
        )

    @property
    def error_label(self):
        """The error code in the user's language, for people (the code stays in as_dict)."""
        return error_label(self.error_code)

    @property
    def permanent(self):
        """True when trying the same message on the same channel again is pointless."""
        return retry_policy.hopeless_on_channel(self)

    @property
    def uses_attempt(self):
        return retry_policy.uses_attempt(self)

    def as_dict(self):
        return {
            "ok": self.ok,
            "kind": self.kind.value if self.kind else None,
            "provider_message_id": self.provider_message_id,
            "error_code": self.error_code,
            "detail": self.detail,
            "retry_after": self.retry_after,
            "link": self.link,
        }


class ChannelError(Exception):
    """Raised inside an adapter; `Channel.send` turns it into its SendResult."""

    def __init__(self, kind, code, detail, *, retry_after=None):
        self.result = SendResult.error(kind, code, detail, retry_after=retry_after)
        super().__init__(f"{self.result.kind}: {self.result.error_code} {self.result.detail}")


@dataclass
class Channel:
    """Subclasses set `code` and implement `_send` and `_check_credentials`."""

    config: dict = field(repr=False)
    code = ""

    def send(self, *, message: OutboundMessage) -> SendResult:
        return self._guarded(self._send, message)

    def check_credentials(self) -> SendResult:
        """Asks the provider whether the configuration works, without messaging anyone."""
        return self._guarded(self._check_credentials)

    def _guarded(self, call, *args):
        try:
            return call(*args)
        except ChannelError as exc:
            return exc.result
        except TransportError as exc:
            kind = ErrorKind.PERMANENT if exc.permanent else ErrorKind.RETRYABLE
            return SendResult.error(kind, exc.code, str(exc))

    def _send(self, message):
        raise NotImplementedError

    def _check_credentials(self):
        raise NotImplementedError


# Provider texts sometimes quote the recipient; anything that looks like a phone number goes.
_PHONE_LIKE = re.compile(r"\+?\d[\d ]{6,}\d")


def scrub(text, *, limit=200):
    """A provider's error text made safe to store and show: no phone numbers, one short line."""
    text = _PHONE_LIKE.sub("***", " ".join(str(text or "").split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"

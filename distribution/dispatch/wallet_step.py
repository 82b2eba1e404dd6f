"""A dispatch's Wallet step: the card's Google Wallet link, delivered by a message.

A save link reaches nobody by itself, so a Wallet step texts the card's short link
(`<PUBLIC_BASE_URL>/w/<token>`, distribution.wallet_links) over the person's carrier:
WhatsApp when they consented to it and the program's WhatsApp integration is enabled, else
SMS when they consented to SMS (a phone number and the Wallet consent are needed too). The
person is reached (the recipient succeeds) only when the carrier accepted the message.

How it sits in the sender (distribution.dispatch.batch_sender, three marked hooks):
- `WalletDelivery` stands in for the batch's adapter: on the sender's pool thread it makes
  the save link (Google's answer classified as any provider's), then calls the carrier, and
  answers the carrier's SendResult with the save link on it;
- `prepare`, right after the claim, picks each person's carrier, makes the short-link tokens
  and moves each attempt's Message to its carrier's channel (`wallet_pass` set): the carrier's
  delivery receipts then find it by (provider id, channel) like any other message;
- `record`, with the outcomes, stores the save links made.
Planning (distribution.dispatch.planning) skips those no carrier can reach (`no_carrier`).

On WhatsApp the text goes free-form, never as the program's card template (which does not
hold the link). When WhatsApp cannot reach the person (outside Meta's 24-hour window, not on
WhatsApp: a `fallback` answer) and they consented to SMS, the same attempt sends the text by
SMS: its Message then moves to `sms` (in `record`, before the outcome and the early receipts
are applied), and WhatsApp's refusal gets a failed Message of its own (same attempt, key
suffixed `-whatsapp`), so the log shows both. Otherwise the retry policy decides as for any
send.
"""

import logging
from dataclasses import dataclass, fields, replace

from django.utils.translation import gettext as _

from campaignid.outbound_http import TransportError
from campaigns.models import Beneficiary
from distribution import wallet_links
from distribution.card_messages import text_variables
from distribution.integrations import (
    IntegrationNotConfigured,
    integration_config,
    integration_get,
)
from distribution.message_templates import render, wallet_template_body
from distribution.models import ChannelCode, Message
from distribution.providers.adapter import ChannelError, OutboundMessage, SendResult, scrub
from distribution.providers.error_kinds import ErrorKind
from distribution.providers.registry import adapter_class

logger = logging.getLogger(__name__)

WALLET, WHATSAPP, SMS = ChannelCode.WALLET.value, ChannelCode.WHATSAPP.value, ChannelCode.SMS.value
# The Beneficiary consents a carrier needs, in the order `carrier` takes them.
CARRIER_CONSENTS = ("consent_whatsapp", "consent_sms")


def carrier(*, phone, consent_whatsapp, consent_sms, whatsapp_on):
    """The channel that carries a person's Wallet link, or "" when none can."""
    if not phone:
        return ""
    if consent_whatsapp and whatsapp_on:
        return WHATSAPP
    if consent_sms:
        return SMS
    return ""


def whatsapp_carries(program):
    """True when the program's WhatsApp integration is configured and enabled."""
    integration = integration_get(program=program, channel=WHATSAPP)
    return bool(integration and integration.enabled and integration.config_encrypted)


def require_carrier(program):
    """Raises IntegrationNotConfigured when neither WhatsApp nor SMS could carry a link."""
    if whatsapp_carries(program) or _carrier_adapter(program, SMS) is not None:
        return
    raise IntegrationNotConfigured(_(
        "Wallet links are sent by WhatsApp or SMS: set up and enable one of them first."))


def carrier_fields(dispatch):
    """The consents planning reads past the channels' own: the carriers', for a Wallet run."""
    return CARRIER_CONSENTS if WALLET in dispatch.channels else ()


@dataclass(frozen=True)
class WalletOutbound:
    """What a pool thread sends for one person: the pass, then the carrier's message."""

    card_pass: OutboundMessage  # for Google: the card's pass
    carrier: str
    message: OutboundMessage  # for the carrier: the text with the short link
    object_id: str
    sms_too: bool = False  # WhatsApp that cannot reach them hands the text to SMS

    def __repr__(self):
        # Logs and tracebacks may print it: never with the number or the text.
        return f"WalletOutbound(card_code={self.card_pass.card_code!r}, carrier={self.carrier})"


@dataclass(frozen=True)
class CarriedResult(SendResult):
    """The carrier's verdict, with WhatsApp's refusal when SMS carried the link instead."""

    handed_over: SendResult | None = None

    @classmethod
    def of(cls, result, *, link, handed_over=None):
        values = {f.name: getattr(result, f.name) for f in fields(SendResult)}
        return cls(**{**values, "link": link}, handed_over=handed_over)


class WalletDelivery:
    """The Wallet step's adapter: Google's save link, then the carrier's message."""

    code = WALLET

    def __init__(self, *, wallet, dispatch):
        program = dispatch.campaign.program
        self.wallet = wallet
        self.whatsapp_on = whatsapp_carries(program)
        self.body = wallet_template_body(campaign=dispatch.campaign)
        self.carriers = {code: _carrier_adapter(program, code)
                         for code in (WHATSAPP, SMS)}

    def send(self, *, message):
        try:
            link = self.wallet.links([message.card_pass])[0]
        except ChannelError as exc:
            return _from_google(exc.result)
        except TransportError as exc:
            kind = "permanent" if exc.permanent else "retryable"
            return _from_google(SendResult.error(kind, exc.code, str(exc)))
        result = self._carry(message.carrier, message.message)
        if (message.sms_too and message.carrier == WHATSAPP and not result.ok
                and result.kind == ErrorKind.FALLBACK):
            logger.info("Wallet link of card %s: WhatsApp cannot reach them (%s), sent by SMS",
                        message.card_pass.card_code, result.error_code)
            return CarriedResult.of(self._carry(SMS, message.message), link=link.url,
                                    handed_over=result)
        return CarriedResult.of(result, link=link.url)

    def _carry(self, carrier, message):
        adapter = self.carriers.get(carrier)
        if adapter is None:
            # The run pauses with this reason until the operator sets the carrier up.
            return SendResult.error(
                "account", "carrier_not_configured",
                f"The {carrier} integration that carries Wallet links is not set up or not "
                "enabled.")
        return adapter.send(message=message)


def prepare(*, claimed, rows, delivery, dispatch, refused, now):
    """The claims of a Wallet batch made ready for WalletDelivery: each one's carrier, text
    and Message channel. Those no carrier can reach now (consent withdrawn, WhatsApp turned
    off since planning) go to `refused` as (claim, permanent SendResult, now). Returns the
    claims to send."""
    if not claimed:
        return claimed
    rows_by_id = {row.recipient.pk: row for row in rows}
    consents = {pk: flags for pk, *flags in Beneficiary.objects.filter(
        pk__in=[c.recipient.beneficiary_id for c in claimed]).values_list("pk", *CARRIER_CONSENTS)}
    tokens = wallet_links.tokens_for(card_ids=[c.message.card_id for c in claimed])
    campaign, program = dispatch.campaign, dispatch.campaign.program
    ready, keys_by_carrier = [], {}
    for claim in claimed:
        row = rows_by_id[claim.recipient.pk]
        whatsapp, sms = consents.get(row.beneficiary.pk, (False, False))
        chosen = carrier(phone=row.beneficiary.phone, consent_whatsapp=whatsapp,
                         consent_sms=sms, whatsapp_on=delivery.whatsapp_on)
        if not chosen:
            refused.append((claim, SendResult.error(
                "permanent", "no_carrier", "No WhatsApp or SMS consent to carry the Wallet link."),
                now))
            continue
        variables = text_variables(card=row.card, beneficiary=row.beneficiary,
                                   campaign=campaign, program=program)
        variables["wallet_link"] = wallet_links.short_link(tokens[row.card.pk])
        text = OutboundMessage(to=row.beneficiary.phone, text=render(delivery.body, variables),
                               card_code=row.card.code, language=campaign.language,
                               idempotency_key=claim.message.idempotency_key)
        claim.outbound = WalletOutbound(card_pass=claim.outbound, carrier=chosen, message=text,
                                        object_id=delivery.wallet.object_id(row.card.code),
                                        sms_too=bool(sms))
        claim.message.channel, claim.message.wallet_pass = chosen, True
        keys_by_carrier.setdefault(chosen, []).append(claim.message.idempotency_key)
        ready.append(claim)
    for chosen, keys in keys_by_carrier.items():
        # Before the carrier is called: an early receipt then parks under the right channel.
        Message.objects.filter(idempotency_key__in=keys, status=Message.Status.SENDING).update(
            channel=chosen, wallet_pass=True)
    return ready


def record(results):
    """Before the outcomes are written: stores the save links the answers carry, and moves
    the Message of an attempt that SMS carried instead of WhatsApp to `sms` (so that its
    outcome and Orange's early receipts find it), recording WhatsApp's refusal beside it."""
    wallet_links.record_links(made=[
        (claim.message.card_id, result.link, claim.outbound.object_id)
        for claim, result, _at in results
        if result.link and isinstance(claim.outbound, WalletOutbound)
    ])
    handed = [(claim, result.handed_over, answered_at) for claim, result, answered_at in results
              if isinstance(result, CarriedResult) and result.handed_over is not None]
    if not handed:
        return
    for claim, _refusal, _at in handed:
        claim.message.channel = SMS
    Message.objects.filter(
        idempotency_key__in=[claim.message.idempotency_key for claim, _, _ in handed],
        status=Message.Status.SENDING,
    ).update(channel=SMS)
    # WhatsApp's refusal, a failed Message of the same attempt: written once (its key is
    # unique), whatever becomes of the SMS.
    Message.objects.bulk_create([
        Message(program_id=claim.message.program_id, campaign_id=claim.message.campaign_id,
                beneficiary_id=claim.message.beneficiary_id, card_id=claim.message.card_id,
                dispatch_id=claim.message.dispatch_id, channel=WHATSAPP,
                attempt=claim.message.attempt, status=Message.Status.FAILED,
                recipient=claim.message.recipient, error_code=refusal.error_code[:40],
                error_detail=scrub(refusal.detail, limit=255), wallet_pass=True,
                idempotency_key=f"{claim.message.idempotency_key}-{WHATSAPP}",
                created_at=claim.message.created_at, failed_at=answered_at)
        for claim, refusal, answered_at in handed
    ], ignore_conflicts=True)


def _carrier_adapter(program, code):
    integration = integration_get(program=program, channel=code)
    config = integration_config(integration=integration)
    if not config or not integration.enabled:
        return None
    if code == WHATSAPP:
        # The program's approved template is the card's, without the link: never sent here.
        config = {**config, "template_name": ""}
    return adapter_class(code)(config)


def _from_google(result):
    return replace(result, detail=f"Google Wallet: {result.detail}"[:200])

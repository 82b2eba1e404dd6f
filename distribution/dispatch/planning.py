"""Who a run reaches on which channel: one recipient row per targeted beneficiary, queued
on the first channel they consented to and can be reached on, or skipped with the reason."""

from cards.models import Card
from distribution.dispatch import clock, wallet_step
from distribution.models import DispatchRecipient
from distribution.providers.registry import provider

RStatus = DispatchRecipient.Status

RECIPIENT_COLUMNS = (
    "dispatch_id", "beneficiary_id", "card_id", "status", "skip_reason", "channels", "channel",
    "attempts", "channel_attempts", "tries", "claim_token", "last_error", "next_attempt_at",
)


def recipient_rows(dispatch):
    """One row (a dict of RECIPIENT_COLUMNS) per targeted beneficiary, queued or skipped."""
    beneficiaries = dispatch.campaign.beneficiaries.all()
    if dispatch.beneficiary_ids is not None:
        beneficiaries = beneficiaries.filter(pk__in=dispatch.beneficiary_ids)
    cards = {}
    for card_id, beneficiary_id, revoked_at, superseded_at in (
        Card.objects.filter(campaign=dispatch.campaign).order_by("id")
        .values_list("id", "beneficiary_id", "revoked_at", "superseded_at")
    ):
        # The person's live card wins (a failed reissue leaves a newer, revoked one behind);
        # else the latest, remembered as revoked.
        live = revoked_at is None and superseded_at is None
        held = cards.get(beneficiary_id)
        if held is None or held[2] is False or live:
            cards[beneficiary_id] = (card_id, revoked_at, live)
    now = clock.now()
    consent_fields = [provider(c).consent_field for c in dispatch.channels]
    # wallet hook: a Wallet step needs a carrier (WhatsApp or SMS) for its link.
    carrier_fields = wallet_step.carrier_fields(dispatch)
    whatsapp_on = bool(carrier_fields) and wallet_step.whatsapp_carries(dispatch.campaign.program)
    people = beneficiaries.order_by("pk").values_list(
        "pk", "phone", "opted_out_at", *consent_fields, *carrier_fields
    )
    for pk, phone, opted_out_at, *flags in people.iterator(chunk_size=5000):
        consents, carried = flags[:len(consent_fields)], flags[len(consent_fields):]
        card_id, revoked_at, _live = cards.get(pk, (None, None, False))
        consented = [c for c, given in zip(dispatch.channels, consents, strict=True) if given]
        channels = [c for c in consented if phone or not provider(c).needs_phone]
        uncarried = (wallet_step.WALLET in channels and not wallet_step.carrier(
            phone=phone, consent_whatsapp=carried[0], consent_sms=carried[1],
            whatsapp_on=whatsapp_on))
        if uncarried:
            channels.remove(wallet_step.WALLET)
        skip = ""
        if opted_out_at:
            skip = DispatchRecipient.SkipReason.OPTED_OUT
        elif card_id is None:
            skip = DispatchRecipient.SkipReason.NO_CARD
        elif revoked_at is not None:
            skip = DispatchRecipient.SkipReason.CARD_REVOKED
        elif not channels and uncarried and phone:
            skip = DispatchRecipient.SkipReason.NO_CARRIER
        elif not channels:
            skip = (DispatchRecipient.SkipReason.NO_PHONE if consented
                    else DispatchRecipient.SkipReason.NO_CONSENT)
        yield {
            "dispatch_id": dispatch.pk,
            "beneficiary_id": pk,
            "card_id": card_id,
            "status": RStatus.SKIPPED if skip else RStatus.QUEUED,
            "skip_reason": skip,
            "channels": ",".join(channels),
            "channel": channels[0] if channels and not skip else "",
            "attempts": 0, "channel_attempts": 0, "tries": 0, "claim_token": "",
            "last_error": "",
            "next_attempt_at": None if skip else now,
        }

"""One card to one person, now: the DHIS2 app's "send card" button, the Send page, and the
Google Wallet links a DHIS2 app hands out.

A send inserts its Message as `sending` under a unique idempotency key before the provider is
called (`direct-c<card>-<channel>-a<attempt>`, or the caller's own `Idempotency-Key`, so a
client retrying the same request gets the first answer back instead of a second message).

Quiet hours: a message to a person (SMS, WhatsApp) asked for outside the sending window is
not sent but queued for the window's opening, unless the operator says `send_now`. The window
is the campaign's latest dispatch's (hours, weekdays, in the program's time zone), else the
program default DEFAULT_WINDOW (07:00-21:00 every day); SINGLE_SEND_QUIET_HOURS=false turns
this off. The Message waits as `pending` with
its `scheduled_for` and what it will send (`scheduled_text`, `scheduled_phone`); an RQ job on
the "dispatch" queue (whose workers run the scheduler), holding only the message's id, sends it
then, once: the job moves the row pending -> sending in one conditional UPDATE before it calls
the provider, so a job run twice sends once. A job lost with Redis is enqueued again by
`resume_overdue_sends` (a recovery sweep, campaignid/recovery.py).
"""

import time as time_module
import uuid
from dataclasses import dataclass
from datetime import time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from campaigns.models import Beneficiary, OptOutSource
from campaigns.phones import InvalidPhone, mask_phone, phone_to_e164
from cards.models import Card
from distribution.card_messages import CardImages, outbound_message
from distribution.delivery_status import apply_parked
from distribution.dispatch import clock, retry_policy
from distribution.dispatch.send_window import SendWindow, program_zone
from distribution.integrations import IntegrationNotConfigured, channel_for
from distribution.message_templates import template_body, validate_template
from distribution.models import ChannelCode, Dispatch, Message
from distribution.providers.adapter import SendResult
from distribution.providers.error_labels import MAY_HAVE_SENT_DETAIL, error_detail_text
from distribution.providers.google_wallet.adapter import SAVE_URL
from distribution.providers.registry import provider
from distribution.wallet_links import link_keep

MAX_WALLET_BULK = 100
# The program default for single sends when the campaign has no dispatch: hours, weekdays.
DEFAULT_WINDOW = (time(7, 0), time(21, 0), frozenset(range(7)))
SCHEDULED_TASK = "distribution.direct_send.scheduled_send"
SCHEDULE_QUEUE = "dispatch"
# A queued send still pending this long after its time has lost its job.
OVERDUE = timedelta(minutes=2)


@dataclass(frozen=True)
class Scheduled:
    """The answer of a send queued for the window's opening (`at`, UTC)."""

    at: object
    ok: bool = True


class SendRefused(Exception):
    """This person cannot be sent this card now (no card, opted out, no consent)."""


class EnrollmentNotFound(SendRefused):
    """No beneficiary of the program has this enrollment id."""


class SendInProgress(Exception):
    """Another send of the same card over the same channel holds the same attempt."""


def beneficiaries_for_enrollment(*, program, enrollment_id, campaigns=None):
    """The program's beneficiaries with this external id (a DHIS2 enrollment), the one with the
    latest card first: one enrollment can sit in several campaigns of the program. `campaigns`
    (a queryset) narrows the search, e.g. to those one DHIS2 tracker program feeds."""
    rows = Beneficiary.objects.for_program(program).filter(
        external_id=enrollment_id, campaign__deleted_at__isnull=True
    )
    if campaigns is not None:
        rows = rows.filter(campaign__in=campaigns)
    return list(
        rows.select_related("campaign__program")
        .annotate(latest_card=Max("cards__id", filter=Q(cards__revoked_at__isnull=True)))
        .order_by("-latest_card", "-pk")
    )


def current_card(beneficiary):
    """The beneficiary's latest card that is not revoked, or None."""
    return (
        Card.objects.filter(beneficiary=beneficiary, revoked_at__isnull=True)
        .select_related("job", "campaign__program").order_by("-id").first()
    )


def single_send_window(campaign):
    """The sending window of a single send for `campaign`: its latest dispatch's, else the
    program default (DEFAULT_WINDOW), in the program's time zone."""
    latest = Dispatch.objects.filter(campaign=campaign).order_by("-created_at", "-pk").first()
    if latest is not None and latest.weekdays:
        return SendWindow.of(latest, campaign.program)
    start, end, weekdays = DEFAULT_WINDOW
    return SendWindow(start, end, weekdays, program_zone(campaign.program))


def card_send(*, beneficiary, channel, card=None, phone_number="", text=None, client_key="",
              send_now=False):
    """Sends `card` (default: the beneficiary's current card) over `channel`; returns
    (Message, SendResult), or (Message, Scheduled) when outside the sending window (unless
    `send_now`) the message is queued for the window's opening.

    Raises ValidationError (phone_number, message), SendRefused, SendInProgress or
    IntegrationNotConfigured.
    """
    campaign = beneficiary.campaign
    program = campaign.program
    if client_key:
        key = f"direct-p{program.pk}-{client_key}"[:120]
        earlier = Message.objects.filter(idempotency_key=key, program=program).first()
        if earlier is not None:
            return earlier, result_of(earlier)
    card = card or current_card(beneficiary)
    if card is None:
        raise SendRefused(_("No valid card has been issued to this beneficiary yet."))
    if card.revoked_at is not None:
        raise SendRefused(_("Card %(code)s is revoked.") % {"code": card.code})
    if beneficiary.opted_out_at:
        raise SendRefused(opted_out_text(beneficiary))
    if not getattr(beneficiary, provider(channel).consent_field):
        raise SendRefused(_("This beneficiary has not consented to %(channel)s messages.")
                          % {"channel": ChannelCode(channel).label})
    to = _recipient_phone(beneficiary, channel, phone_number, program)
    body = template_body(campaign=campaign) if text is None else text.strip()
    if text is not None:
        try:
            validate_template(body)
        except ValidationError as exc:
            raise ValidationError({"message": exc.message_dict["body"]}) from None
    adapter = channel_for(program=program, channel=channel)
    now = clock.now()
    opening = None
    if not send_now and provider(channel).needs_phone and getattr(
            settings, "SINGLE_SEND_QUIET_HOURS", True):
        opening = single_send_window(campaign).next_opening(now)
        opening = opening if opening is not None and opening > now else None
    with transaction.atomic():
        attempt = Message.objects.filter(card=card, channel=channel, dispatch=None).count() + 1
        if not client_key:
            key = f"direct-c{card.pk}-{channel}-a{attempt}"
        message = Message(
            program=program, campaign=campaign, beneficiary=beneficiary, card=card,
            channel=channel, attempt=attempt, recipient=mask_phone(to), idempotency_key=key,
            created_at=now, scheduled_for=opening,
            status=Message.Status.PENDING if opening else Message.Status.SENDING,
        )
        if opening:
            message.scheduled_text = "" if text is None else body
            message.scheduled_phone = "" if to == beneficiary.phone else to
        try:
            with transaction.atomic():
                message.save()
        except IntegrityError:
            raise SendInProgress(
                _("This card is being sent over this channel right now; try again in a moment.")
            ) from None
    if opening:
        transaction.on_commit(lambda: _schedule(message.pk, opening))
        return message, Scheduled(at=opening)
    return message, _send(adapter, message, card, beneficiary, to, body)


def scheduled_send(message_id, *_queued_before_0006):
    """The RQ job of a queued single send: sends it once, when its time has come. (Jobs queued
    before migration 0006 also carry the number and text; the row's are used instead.)"""
    message = Message.objects.filter(pk=message_id, status=Message.Status.PENDING).select_related(
        "card", "beneficiary", "campaign__program").first()
    if message is None:
        return "gone"
    wait = clock.real_seconds_until(message.scheduled_for) if message.scheduled_for else 0
    if wait > 2:  # a changed clock is noticed here
        _schedule(message.pk, message.scheduled_for)
        return "later"
    if wait > 0:  # RQ's scheduler rounds to the second: never before the opening
        time_module.sleep(wait)
    if not Message.objects.filter(pk=message_id, status=Message.Status.PENDING).update(
            status=Message.Status.SENDING, scheduled_phone=""):
        return "taken"
    message.status = Message.Status.SENDING
    card, beneficiary = message.card, message.beneficiary
    beneficiary.refresh_from_db()
    to = message.scheduled_phone or beneficiary.phone
    body = message.scheduled_text or template_body(campaign=message.campaign)
    refusal = ""
    if beneficiary.opted_out_at:
        refusal = "opted_out"
    elif card is None or card.revoked_at is not None:
        refusal = "card_revoked"
    if refusal:
        _record(message, SendResult(ok=False, error_code=refusal, detail=""))
        return refusal
    try:
        adapter = channel_for(program=message.campaign.program, channel=message.channel)
    except IntegrationNotConfigured:
        _record(message, SendResult(ok=False, error_code="not_configured", detail=""))
        return "not_configured"
    _send(adapter, message, card, beneficiary, to, body)
    return message.status


def resume_overdue_sends():
    """Recovery sweep: queued single sends whose time passed OVERDUE ago and that are still
    pending lost their job (Redis restarted empty): enqueued again. The job sends at most
    once, so one still queued somewhere costs nothing."""
    overdue = Message.objects.filter(
        status=Message.Status.PENDING, scheduled_for__lte=clock.now() - OVERDUE,
    ).values_list("pk", "scheduled_for")
    for message_id, at in overdue.order_by("pk")[:1000]:
        _schedule(message_id, at)


def _schedule(message_id, at):
    import django_rq

    delay = max(clock.real_seconds_until(at), 0)
    django_rq.get_queue(SCHEDULE_QUEUE).enqueue_in(
        timedelta(seconds=delay), SCHEDULED_TASK, message_id,
        result_ttl=600, failure_ttl=24 * 3600)


def _send(adapter, message, card, beneficiary, to, body):
    campaign = message.campaign
    outbound = outbound_message(channel=message.channel, card=card, beneficiary=beneficiary,
                                campaign=campaign, program=campaign.program, to=to, body=body,
                                key=message.idempotency_key, images=CardImages())
    result = adapter.send(message=outbound)
    _record(message, result)
    if result.ok and message.channel == ChannelCode.WALLET and result.link:
        link_keep(card_id=card.pk, save_url=result.link, object_id=result.provider_message_id)
    return result


def opted_out_text(beneficiary):
    """Why an opted-out person is not sent anything, with when and how they opted out."""
    source = beneficiary.opted_out_source
    return _("Not sent: this beneficiary opted out of messages on %(date)s (%(source)s).") % {
        "date": beneficiary.opted_out_at.date().isoformat(),
        "source": OptOutSource(source).label if source in OptOutSource.values else _("unknown"),
    }


def result_of(message):
    """The verdict a stored Message stands for (a replayed Idempotency-Key)."""
    if message.status in (Message.Status.SENT, Message.Status.DELIVERED, Message.Status.READ):
        return SendResult.sent(message.provider_message_id, via_template=message.via_template)
    if message.status == Message.Status.PENDING and message.scheduled_for:
        return Scheduled(at=message.scheduled_for)
    if message.status == Message.Status.FAILED:
        return SendResult(ok=False, error_code=message.error_code,
                          detail=error_detail_text(message.error_detail))
    return SendResult(ok=False, error_code="in_progress", detail=_("Still being sent."))


def wallet_link(*, program, enrollment_id, campaigns=None):
    """(beneficiary, card, WalletLink) for a DHIS2 enrollment; SendRefused when none.

    Raises ChannelError (Google refused) or IntegrationNotConfigured.
    """
    beneficiary, card = _enrolled_card(program, enrollment_id, campaigns)
    adapter = channel_for(program=program, channel=ChannelCode.WALLET)
    return beneficiary, card, _link(adapter, beneficiary, card)


def wallet_links(*, program, enrollment_ids, campaigns=None, allow_sensitive=False):
    """{"batch_id", "total", "wallet_links": [...], "errors": [...]} for up to 100 enrollments.

    Without `allow_sensitive`, enrollments of HIV campaigns are refused (their passes carry
    the holder's name)."""
    if len(enrollment_ids) > MAX_WALLET_BULK:
        raise ValidationError({"enrollment_ids": [
            _("At most %(max)s enrollments per request.") % {"max": MAX_WALLET_BULK}]})
    adapter = channel_for(program=program, channel=ChannelCode.WALLET)
    links, errors = [], []
    for enrollment_id in dict.fromkeys(enrollment_ids):
        try:
            beneficiary, card = _enrolled_card(program, enrollment_id, campaigns)
            if beneficiary.campaign.is_sensitive and not allow_sensitive:
                raise SendRefused(_("Enrollment %(id)s is in a sensitive campaign your access "
                                    "does not include.") % {"id": enrollment_id})
        except SendRefused as exc:
            errors.append({"enrollment_id": enrollment_id, "error": str(exc)})
            continue
        link = _link(adapter, beneficiary, card)
        links.append(wallet_link_data(enrollment_id, card, link))
    return {"batch_id": uuid.uuid4().hex, "total": len(links), "wallet_links": links,
            "errors": errors}


def wallet_link_data(enrollment_id, card, link):
    return {
        "enrollment_id": enrollment_id,
        "card_code": card.code,
        "wallet_url": link.url,
        "jwt_token": link.url.removeprefix(SAVE_URL),
        "valid_until": card.expires_on.isoformat() if card.expires_on else None,
    }


def _enrolled_card(program, enrollment_id, campaigns):
    found = beneficiaries_for_enrollment(program=program, enrollment_id=enrollment_id,
                                         campaigns=campaigns)
    if not found:
        raise EnrollmentNotFound(_("No beneficiary with enrollment id %(id)s in this program.")
                          % {"id": enrollment_id})
    beneficiary = found[0]
    card = current_card(beneficiary)
    if card is None:
        raise SendRefused(_("Enrollment %(id)s has no valid card yet.") % {"id": enrollment_id})
    return beneficiary, card


def _link(adapter, beneficiary, card):
    campaign = card.campaign
    outbound = outbound_message(
        channel=ChannelCode.WALLET, card=card, beneficiary=beneficiary, campaign=campaign,
        program=campaign.program, to="", body=template_body(campaign=campaign),
        key=f"wallet-{card.code}",
    )
    link = adapter.links([outbound])[0]
    link_keep(card_id=card.pk, save_url=link.url, object_id=link.object_ids[0])
    return link


def _recipient_phone(beneficiary, channel, phone_number, program):
    if not provider(channel).needs_phone:
        return ""
    try:
        to = phone_to_e164(phone_number, default_region=program.country) if phone_number else (
            beneficiary.phone)
    except InvalidPhone as exc:
        raise ValidationError({"phone_number": [str(exc)]}) from None
    if not to:
        raise ValidationError({"phone_number": [
            _("The beneficiary has no phone number; give one in phone_number.")]})
    return to


def _record(message, result):
    now = clock.now()
    fields = {"status": Message.Status.SENT, "sent_at": now,
              "provider_message_id": result.provider_message_id[:128],
              "via_template": result.via_template}
    if not result.ok:
        detail = result.detail
        if retry_policy.may_have_sent(result):
            detail = MAY_HAVE_SENT_DETAIL  # English, translated when shown
        fields = {"status": Message.Status.FAILED, "failed_at": now,
                  "error_code": result.error_code[:40], "error_detail": detail[:255]}
    Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(**fields)
    for name, value in fields.items():
        setattr(message, name, value)
    if result.ok and apply_parked(channel=message.channel,
                                  provider_message_ids=[message.provider_message_id]):
        message.refresh_from_db()


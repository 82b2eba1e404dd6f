"""Dispatch runs: create (draft), start, pause, resume, stop; counters; the pump that hands
due recipients to senders and wakes itself for retries and send windows.

State changes happen here, each in one transaction with its live event sent on commit; the
RQ tasks (distribution/tasks.py) only call these and distribution.sending.
"""

import math
from datetime import time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cards.models import Card
from distribution import clock, pump
from distribution.bulk import insert_rows
from distribution.events import send_dispatch_event_on_commit
from distribution.integrations import IntegrationNotConfigured, channel_for
from distribution.models import ChannelCode, Dispatch, DispatchRecipient
from distribution.providers.registry import provider
from distribution.window import WEEKDAY_NAMES, SendWindow

Status = Dispatch.Status
RStatus = DispatchRecipient.Status
DEFAULTS = {
    "fallback_channel": "",
    "fallback_after_attempts": 2,
    "max_attempts": 3,
    "retry_delays": [60, 300, 900],
    "window_start": time(7, 0),
    "window_end": time(21, 0),
    "weekdays": [0, 1, 2, 3, 4],
    "rate_limit_per_second": 20,
}
MAX_RATE = 10_000


class DispatchConflict(Exception):
    """The run's state does not allow this (e.g. starting a run that already started)."""


def dispatch_create(*, campaign, user=None, **plan):
    """A draft run of `campaign`'s cards. Raises ValidationError naming each bad field.

    `plan`: first_channel, fallback_channel, fallback_after_attempts, max_attempts,
    retry_delays, window_start, window_end, weekdays, rate_limit_per_second, beneficiary_ids
    (all but first_channel optional; the validated values come from the API serializer).
    """
    values = {**DEFAULTS, **{k: v for k, v in plan.items() if v is not None}}
    errors = {}
    first, fallback = values.get("first_channel"), values["fallback_channel"] or ""
    if first not in ChannelCode.values:
        errors["first_channel"] = [_("Must be one of whatsapp, sms, wallet.")]
    if fallback and (fallback not in ChannelCode.values or fallback == first):
        errors["fallback_channel"] = [_("Must be another channel than the first one, or empty.")]
    if fallback and values["fallback_after_attempts"] >= values["max_attempts"]:
        errors["fallback_after_attempts"] = [
            _("Must be lower than max_attempts, or the fallback channel is never tried.")
        ]
    if values["window_start"] >= values["window_end"]:
        errors["window_end"] = [_("Must be later than window_start (same day).")]
    ids = values.get("beneficiary_ids")
    if ids is not None:
        found = set(campaign.beneficiaries.filter(pk__in=ids).values_list("pk", flat=True))
        missing = sorted(set(ids) - found)
        if missing:
            errors["beneficiary_ids"] = [
                _("Not beneficiaries of this campaign: %(ids)s") % {"ids": missing[:20]}
            ]
    if errors:
        raise ValidationError(errors)
    dispatch = Dispatch.objects.create(
        campaign=campaign,
        first_channel=first,
        fallback_channel=fallback,
        fallback_after_attempts=values["fallback_after_attempts"],
        max_attempts=values["max_attempts"],
        retry_delays=list(values["retry_delays"]),
        window_start=values["window_start"],
        window_end=values["window_end"],
        weekdays=sorted(set(values["weekdays"])),
        rate_limit_per_second=values["rate_limit_per_second"],
        beneficiary_ids=sorted(set(ids)) if ids is not None else None,
        created_by=user if getattr(user, "pk", None) else None,
    )
    return dispatch


def dispatch_start(*, dispatch):
    """draft -> running: decides who is reached on which channel (skipping, and counting,
    whoever opted out, gave no consent, has no phone or no card) and wakes the pump."""
    program = dispatch.campaign.program
    for channel in dispatch.channels:
        try:
            channel_for(program=program, channel=channel)
        except IntegrationNotConfigured as exc:
            raise DispatchConflict(str(exc)) from None
    with transaction.atomic():
        dispatch = _locked(dispatch)
        if dispatch.status != Status.DRAFT:
            raise DispatchConflict(_("Only a draft run can be started."))
        insert_rows(DispatchRecipient, _recipients(dispatch), RECIPIENT_COLUMNS)
        dispatch.status = Status.RUNNING
        dispatch.started_at = timezone.now()
        dispatch.save(update_fields=["status", "started_at"])
        _wake_on_commit(dispatch.pk)
        send_dispatch_event_on_commit(dispatch.pk, final=True)
    return dispatch


def dispatch_pause(*, dispatch, reason=""):
    """running -> paused: senders claim nothing more; what is in flight finishes."""
    with transaction.atomic():
        dispatch = _locked(dispatch)
        if dispatch.status != Status.RUNNING:
            raise DispatchConflict(_("Only a running run can be paused."))
        dispatch.status = Status.PAUSED
        dispatch.pause_reason = reason[:300]
        dispatch.save(update_fields=["status", "pause_reason"])
        send_dispatch_event_on_commit(dispatch.pk, final=True)
    return dispatch


def dispatch_pause_for_account(*, dispatch_id, reason):
    """The provider refused the account: pause the run (if it still runs) with the reason."""
    updated = Dispatch.objects.filter(pk=dispatch_id, status=Status.RUNNING).update(
        status=Status.PAUSED, pause_reason=reason[:300]
    )
    send_dispatch_event_on_commit(dispatch_id, final=True)
    return bool(updated)


def dispatch_resume(*, dispatch):
    """paused -> running: exactly the recipients not yet sent (queued) go out, from now on."""
    with transaction.atomic():
        dispatch = _locked(dispatch)
        if dispatch.status != Status.PAUSED:
            raise DispatchConflict(_("Only a paused run can be resumed."))
        dispatch.status = Status.RUNNING
        dispatch.pause_reason = ""
        dispatch.save(update_fields=["status", "pause_reason"])
        # Their batches stopped when the run paused: hand them out again.
        dispatch.recipients.filter(status=RStatus.QUEUED).update(batched_at=None)
        _wake_on_commit(dispatch.pk)
        send_dispatch_event_on_commit(dispatch.pk, final=True)
    return dispatch


def dispatch_stop(*, dispatch):
    """Any state but done -> done (stopped); the recipients not reached stay counted as
    remaining."""
    with transaction.atomic():
        dispatch = _locked(dispatch)
        if dispatch.status == Status.DONE:
            raise DispatchConflict(_("The run has already ended."))
        dispatch.status = Status.DONE
        dispatch.finish_reason = Dispatch.FinishReason.STOPPED
        dispatch.finished_at = timezone.now()
        dispatch.waiting_until = None
        dispatch.save(update_fields=["status", "finish_reason", "finished_at", "waiting_until"])
        send_dispatch_event_on_commit(dispatch.pk, final=True)
    return dispatch


def dispatch_finish_if_complete(*, dispatch_id):
    """running -> done once nobody is left to send to."""
    left = DispatchRecipient.objects.filter(
        dispatch_id=dispatch_id, status__in=[RStatus.QUEUED, RStatus.SENDING]
    ).exists()
    if left:
        return False
    updated = Dispatch.objects.filter(pk=dispatch_id, status=Status.RUNNING).update(
        status=Status.DONE, finish_reason=Dispatch.FinishReason.COMPLETED,
        finished_at=timezone.now(), waiting_until=None,
    )
    if updated:
        send_dispatch_event_on_commit(dispatch_id, final=True)
    return bool(updated)


def dispatch_set_waiting(*, dispatch_id, until):
    """Record (or clear, with None) that the run waits for its window to open."""
    updated = (
        Dispatch.objects.filter(pk=dispatch_id, status=Status.RUNNING)
        .exclude(waiting_until=until).update(waiting_until=until)
    )
    if updated:
        send_dispatch_event_on_commit(dispatch_id, final=True)


def dispatch_counters(dispatch):
    """total, contacted, remaining, to_retry, failed, succeeded, skipped, progress (0-100)
    and the skipped ones by reason. One grouped pass over the run's recipients."""
    counts = dict.fromkeys(
        ("total", "contacted", "remaining", "to_retry", "failed", "succeeded", "skipped"), 0)
    reasons = {}
    groups = (
        DispatchRecipient.objects.filter(dispatch_id=dispatch.pk)
        .values_list("status", "skip_reason")
        .annotate(n=Count("pk"), tried=Count("pk", filter=Q(tries__gt=0)))
        .order_by()
    )
    for status, reason, n, tried in groups:
        counts["total"] += n
        counts["contacted"] += tried
        if status in (RStatus.QUEUED, RStatus.SENDING):
            counts["remaining"] += n
            if status == RStatus.QUEUED:
                counts["to_retry"] += tried
        else:
            counts[status] += n
        if status == RStatus.SKIPPED:
            reasons[reason] = reasons.get(reason, 0) + n
    finished = counts["failed"] + counts["succeeded"] + counts["skipped"]
    if counts["total"]:
        counts["progress"] = math.floor(100 * finished / counts["total"])
    else:
        counts["progress"] = 100 if dispatch.status == Status.DONE else 0
    counts["skipped_reasons"] = reasons
    return counts


def dispatch_snapshot(dispatch):
    """What clients are told about a run: the same shape from the API and over the socket."""
    event = "done" if dispatch.status == Status.DONE else "progress"
    return {
        "event": event,
        "dispatch_id": dispatch.pk,
        "campaign_id": dispatch.campaign_id,
        "status": dispatch.status,
        "pause_reason": dispatch.pause_reason,
        "waiting_until": dispatch.waiting_until.isoformat() if dispatch.waiting_until else None,
        "finish_reason": dispatch.finish_reason,
        **dispatch_counters(dispatch),
    }


def weekday_names(weekdays):
    return [WEEKDAY_NAMES[d] for d in sorted(weekdays)]


def batch_size(dispatch):
    """About ten seconds of sending at the run's rate, between 10 and 100 recipients."""
    return max(10, min(100, dispatch.rate_limit_per_second * 10))


def pump_once(*, dispatch_id):
    """One turn of the pump (see distribution/pump.py): settle dead claims, respect the
    window, hand out due recipients in batches, schedule the next turn."""
    dispatch = Dispatch.objects.select_related("campaign__program").filter(pk=dispatch_id).first()
    if dispatch is None or dispatch.status != Status.RUNNING:
        return
    pump.settle_dead_claims(dispatch_id=dispatch_id)
    now = clock.now()
    window = SendWindow.of(dispatch, dispatch.campaign.program)
    if not window.contains(now):
        opening = window.next_opening(now)
        dispatch_set_waiting(dispatch_id=dispatch_id, until=opening)
        if opening is not None:
            pump.schedule(dispatch_id, at=opening)
        return
    dispatch_set_waiting(dispatch_id=dispatch_id, until=None)
    handed_out = pump.hand_out(dispatch=dispatch, now=now, size=batch_size(dispatch))
    if handed_out >= pump.MAX_PER_TURN:
        pump.schedule(dispatch_id)  # more are due: another turn after these batches
        return
    if not dispatch_finish_if_complete(dispatch_id=dispatch_id):
        schedule_next_turn(dispatch_id=dispatch_id)


def schedule_next_turn(*, dispatch_id):
    """Wake the pump when the next recipient is due, a dead claim can be settled, or a lost
    batch can be handed out again, whichever comes first."""
    rows = DispatchRecipient.objects.filter(dispatch_id=dispatch_id)
    waiting = rows.filter(status=RStatus.QUEUED, batched_at__isnull=True).aggregate(
        at=Min("next_attempt_at"))["at"]
    candidates = [waiting] if waiting else []
    if rows.filter(status=RStatus.SENDING).exists():
        candidates.append(clock.now() + timedelta(seconds=pump.CLAIM_TTL_SECONDS))
    oldest_batch = rows.filter(status=RStatus.QUEUED, batched_at__isnull=False).aggregate(
        at=Min("batched_at"))["at"]
    if oldest_batch:
        candidates.append(oldest_batch + pump.BATCH_LEASE)
    if candidates:
        pump.schedule(dispatch_id, at=min(candidates))


def _wake_on_commit(dispatch_id):
    transaction.on_commit(lambda: pump.schedule(dispatch_id))


def _locked(dispatch):
    return Dispatch.objects.select_for_update().select_related("campaign__program").get(
        pk=dispatch.pk
    )


RECIPIENT_COLUMNS = (
    "dispatch_id", "beneficiary_id", "card_id", "status", "skip_reason", "channels", "channel",
    "attempts", "channel_attempts", "tries", "claim_token", "last_error", "next_attempt_at",
)


def _recipients(dispatch):
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
    people = beneficiaries.order_by("pk").values_list(
        "pk", "phone", "opted_out_at", *consent_fields
    )
    for pk, phone, opted_out_at, *consents in people.iterator(chunk_size=5000):
        card_id, revoked_at, _live = cards.get(pk, (None, None, False))
        consented = [c for c, given in zip(dispatch.channels, consents, strict=True) if given]
        channels = [c for c in consented if phone or not provider(c).needs_phone]
        skip = ""
        if opted_out_at:
            skip = DispatchRecipient.SkipReason.OPTED_OUT
        elif card_id is None:
            skip = DispatchRecipient.SkipReason.NO_CARD
        elif revoked_at is not None:
            skip = DispatchRecipient.SkipReason.CARD_REVOKED
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

"""Dispatch runs' states: create (draft), start, pause, resume, stop, finish, wait for the
send window.

Each state change happens in one transaction with its live event sent on commit; starting or
resuming a run wakes its pump (distribution.dispatch.wakeups).
"""

from datetime import time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaignid.bulk_sql import insert_rows
from distribution.dispatch import wakeups, wallet_step
from distribution.dispatch.live_events import send_dispatch_event_on_commit
from distribution.dispatch.planning import RECIPIENT_COLUMNS, recipient_rows
from distribution.dispatch.send_window import ends_before
from distribution.integrations import IntegrationNotConfigured, channel_for
from distribution.models import ChannelCode, Dispatch, DispatchRecipient

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
    if ends_before(values["window_start"], values["window_end"]):
        errors["window_end"] = [_("Must be later than window_start (same day), or 00:00 for "
                                  "midnight.")]
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
            if channel == wallet_step.WALLET:  # wallet hook: its link needs a carrier
                wallet_step.require_carrier(program)
        except IntegrationNotConfigured as exc:
            raise DispatchConflict(str(exc)) from None
    with transaction.atomic():
        dispatch = _locked(dispatch)
        if dispatch.status != Status.DRAFT:
            raise DispatchConflict(_("Only a draft run can be started."))
        insert_rows(DispatchRecipient, recipient_rows(dispatch), RECIPIENT_COLUMNS)
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


def _wake_on_commit(dispatch_id):
    transaction.on_commit(lambda: wakeups.schedule(dispatch_id))


def _locked(dispatch):
    return Dispatch.objects.select_for_update().select_related("campaign__program").get(
        pk=dispatch.pk
    )



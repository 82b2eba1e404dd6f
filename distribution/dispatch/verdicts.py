"""What a provider's verdict does to a dispatch recipient and to its Message row, as
distribution.dispatch.retry_policy decides. Pure functions over unsaved model instances; the
sender saves them in bulk."""

from datetime import timedelta

from django.utils.translation import gettext as _

from distribution.dispatch import retry_policy
from distribution.dispatch.retry_policy import OUTCOME_UNKNOWN
from distribution.models import DispatchRecipient, Message
from distribution.providers.adapter import scrub
from distribution.providers.error_labels import MAY_HAVE_SENT_IN_RUN, SENDER_STOPPED


def apply_outcome(*, dispatch, recipient, message, result, now):
    """Updates `recipient` and `message` for `result` as the retry policy says; returns what
    the run must do: None, or ("pause", reason) or ("hold", seconds)."""
    step = retry_policy.next_step(dispatch=dispatch, recipient=recipient, result=result)
    recipient.claim_token = ""
    recipient.last_error = ""
    if result.ok:
        message.status = Message.Status.SENT
        message.provider_message_id = result.provider_message_id[:128]
        message.via_template = result.via_template
        message.sent_at = now
    else:
        _fail_message(message, result, now)
        recipient.last_error = f"{result.error_code}: {result.detail}"[:200]
    if step.outcome_unknown:
        message.error_detail = MAY_HAVE_SENT_IN_RUN  # English, translated when shown
        recipient.last_error = f"{OUTCOME_UNKNOWN}: {result.detail}"[:200]
    if step.counts_attempt:
        recipient.attempts += 1
    if step.counts_channel_attempt:
        recipient.channel_attempts += 1
    if step.done:
        recipient.status = (DispatchRecipient.Status.FAILED if step.failed
                            else DispatchRecipient.Status.SUCCEEDED)
        return None
    if step.switch_to:
        recipient.channel = step.switch_to
        recipient.channel_attempts = 0
    _requeue(recipient, now + timedelta(seconds=step.delay))
    if step.pause_reason:
        return ("pause", step.pause_reason)
    if step.hold is not None:
        return ("hold", step.hold)
    return None


def settle_unknown(*, recipient, message, now):
    """A claim whose sender died during the provider call: the outcome is unknown, so it is
    failed and not sent again (distribution.dispatch.retry_policy)."""
    message.status = Message.Status.FAILED
    message.error_code = OUTCOME_UNKNOWN
    message.error_detail = SENDER_STOPPED  # English, translated when shown
    message.failed_at = now
    recipient.status = DispatchRecipient.Status.FAILED
    recipient.attempts += 1
    recipient.claim_token = ""
    recipient.last_error = f"{OUTCOME_UNKNOWN}: " + _("the sender stopped during the provider call")


def _fail_message(message, result, now):
    message.status = Message.Status.FAILED
    message.error_code = str(result.error_code)[:40]
    message.error_detail = scrub(result.detail, limit=255)
    message.failed_at = now


def _requeue(recipient, when):
    recipient.status = DispatchRecipient.Status.QUEUED
    recipient.next_attempt_at = when
    recipient.batched_at = None

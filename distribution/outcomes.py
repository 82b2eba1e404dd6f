"""What a provider's verdict does to a dispatch recipient and to its Message row.

Pure functions over unsaved model instances; the sender saves them in bulk. The rules:

- sent: the message is `sent`, the recipient has succeeded.
- throttled: the provider asked us to slow down. Not the person's fault and not a failure of
  the message: try again after `retry_after` (or THROTTLE_DELAY) without using an attempt.
- read timeout (`timeout`) or a connection broken mid-request (`connection_lost`): the
  provider may have sent it. Neither WhatsApp's Cloud API nor
  Orange's SMS API takes an idempotency key, so a second request could reach the person
  twice: the message is failed as `outcome_unknown` and never sent again.
- account: the credentials or the account are unusable. The attempt is not counted, the
  recipient waits, and the whole run pauses with the reason shown to the operator.
- fallback / permanent: this channel will not reach this person: switch to the fallback
  channel when the run has one and the person may be reached there, else fail.
- retryable (5xx, a connection that never reached the provider...): count the attempt, retry
  after the run's next delay; after `fallback_after_attempts` on the first channel switch to
  the fallback channel; after `max_attempts` in all, fail.
"""

from datetime import timedelta

from django.utils.translation import gettext as _

from distribution.models import DispatchRecipient, Message
from distribution.providers.adapter import ErrorKind, scrub

THROTTLE_DELAY = 2.0
OUTCOME_UNKNOWN = "outcome_unknown"
# The request may have reached the provider: a read timeout (campaignid.outbound_http), or an
# adapter that raised part-way (distribution.sending).
MAY_HAVE_SENT = {"timeout", "connection_lost", "internal_error"}


def apply_outcome(*, dispatch, recipient, message, result, now):
    """Updates `recipient` and `message` for `result`; returns what the run must do:
    None, or ("pause", reason) or ("hold", seconds)."""
    recipient.claim_token = ""
    recipient.last_error = ""
    if result.ok:
        message.status = Message.Status.SENT
        message.provider_message_id = result.provider_message_id[:128]
        message.via_template = result.via_template
        message.sent_at = now
        recipient.status = DispatchRecipient.Status.SUCCEEDED
        recipient.attempts += 1
        return None

    _fail_message(message, result, now)
    recipient.last_error = f"{result.error_code}: {result.detail}"[:200]
    if result.error_code in MAY_HAVE_SENT:
        message.error_detail = (
            "No answer in time: the provider may have sent it, so it is not sent again."
        )
        recipient.attempts += 1
        recipient.status = DispatchRecipient.Status.FAILED
        recipient.last_error = f"{OUTCOME_UNKNOWN}: {result.detail}"[:200]
        return None
    if result.kind == ErrorKind.THROTTLED:
        delay = result.retry_after if result.retry_after is not None else THROTTLE_DELAY
        _requeue(recipient, now + timedelta(seconds=delay))
        return ("hold", delay)
    if result.kind == ErrorKind.ACCOUNT:
        _requeue(recipient, now)
        return ("pause", f"{result.error_code}: {result.detail}"[:300])

    recipient.attempts += 1
    recipient.channel_attempts += 1
    fallback = next_channel(recipient)
    switch = fallback and (
        result.kind in (ErrorKind.FALLBACK, ErrorKind.PERMANENT)
        or recipient.channel_attempts >= dispatch.fallback_after_attempts
    )
    if recipient.attempts >= dispatch.max_attempts:
        recipient.status = DispatchRecipient.Status.FAILED
    elif switch:
        recipient.channel = fallback
        recipient.channel_attempts = 0
        _requeue(recipient, now)
    elif result.kind in (ErrorKind.FALLBACK, ErrorKind.PERMANENT):
        recipient.status = DispatchRecipient.Status.FAILED
    else:
        _requeue(recipient, now + timedelta(seconds=retry_delay(dispatch, recipient.attempts)))
    return None


def settle_unknown(*, recipient, message, now):
    """A claim whose sender died during the provider call: the outcome is unknown, so (for
    the reason above) it is failed and not sent again."""
    message.status = Message.Status.FAILED
    message.error_code = OUTCOME_UNKNOWN
    message.error_detail = (
        "The sender stopped during the provider call; not sent again to avoid a duplicate."
    )
    message.failed_at = now
    recipient.status = DispatchRecipient.Status.FAILED
    recipient.attempts += 1
    recipient.claim_token = ""
    recipient.last_error = f"{OUTCOME_UNKNOWN}: " + _("the sender stopped during the provider call")


def next_channel(recipient):
    """The channel after the current one in the recipient's plan, or ""."""
    channels = [c for c in recipient.channels.split(",") if c]
    if recipient.channel in channels:
        rest = channels[channels.index(recipient.channel) + 1:]
        return rest[0] if rest else ""
    return ""


def retry_delay(dispatch, attempts_used):
    delays = list(dispatch.retry_delays or [])
    if not delays:
        return 0
    return max(0, int(delays[min(attempts_used - 1, len(delays) - 1)]))


def _fail_message(message, result, now):
    message.status = Message.Status.FAILED
    message.error_code = str(result.error_code)[:40]
    message.error_detail = scrub(result.detail, limit=255)
    message.failed_at = now


def _requeue(recipient, when):
    recipient.status = DispatchRecipient.Status.QUEUED
    recipient.next_attempt_at = when
    recipient.batched_at = None

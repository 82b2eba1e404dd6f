"""The one place that decides whether a message is tried again, when, and over which channel:
after a provider's verdict (dispatch runs and direct sends), after a sender died mid-claim,
and when RQ runs a lost batch job again.

- sent: done; the attempt counts.
- may have been sent (a read timeout, a connection broken mid-request, an adapter that raised
  part-way): neither WhatsApp's Cloud API nor Orange's SMS API takes an idempotency key, so a
  second request could reach the person twice: failed as `outcome_unknown`, never again.
- throttled: the provider asked us to slow down. Not the person's fault: again after
  `retry_after` (or THROTTLE_DELAY), every sender of the run holds that long, no attempt used.
- account: the credentials or the account are unusable: again once the operator resumes the
  run (it pauses with the reason); no attempt used.
- fallback / permanent: this channel will not reach this person: the next channel of the
  person's plan when there is one, else failed.
- retryable: the attempt counts; again after the run's next delay; after
  `fallback_after_attempts` on one channel, the next channel; after `max_attempts`, failed.
"""

from dataclasses import dataclass
from datetime import timedelta

from rq import Retry

from distribution.providers.error_kinds import ErrorKind

THROTTLE_DELAY = 2.0
OUTCOME_UNKNOWN = "outcome_unknown"
# The request may have reached the provider: a read timeout (campaignid.outbound_http), or an
# adapter that raised part-way (distribution.dispatch.batch_sender).
MAY_HAVE_SENT = {"timeout", "connection_lost", "internal_error"}
HOPELESS = (ErrorKind.FALLBACK, ErrorKind.PERMANENT)
# RQ runs a batch job again when its worker died; the claims make that safe.
BATCH_JOB_RETRIES = 3
# A pump turn that finds another turn of its run running tries again this much later.
PUMP_BUSY_DELAY = timedelta(seconds=1)


@dataclass(frozen=True)
class NextStep:
    """What follows a verdict for a dispatch recipient."""

    done: bool  # succeeded or failed for good (see `failed`)
    failed: bool = False
    outcome_unknown: bool = False
    counts_attempt: bool = False  # one of the run's max_attempts used
    counts_channel_attempt: bool = False  # one of fallback_after_attempts on this channel used
    switch_to: str = ""  # the channel of the next attempt, when it changes
    delay: float = 0.0  # seconds from the answer until the next attempt
    hold: float | None = None  # seconds every sender of the run waits (throttled)
    pause_reason: str = ""  # the run pauses until the operator resumes it


def may_have_sent(result):
    return result.error_code in MAY_HAVE_SENT


def uses_attempt(result):
    return not result.ok and result.kind != ErrorKind.THROTTLED


def hopeless_on_channel(result):
    """True when trying the same message on the same channel again is pointless."""
    return result.kind in (*HOPELESS, ErrorKind.ACCOUNT)


def next_step(*, dispatch, recipient, result):
    """The NextStep for `recipient` (its counters as they were before this attempt)."""
    if result.ok:
        return NextStep(done=True, counts_attempt=True)
    if may_have_sent(result):
        return NextStep(done=True, failed=True, outcome_unknown=True, counts_attempt=True)
    if result.kind == ErrorKind.THROTTLED:
        delay = result.retry_after if result.retry_after is not None else THROTTLE_DELAY
        return NextStep(done=False, delay=delay, hold=delay)
    if result.kind == ErrorKind.ACCOUNT:
        return NextStep(done=False, pause_reason=f"{result.error_code}: {result.detail}"[:300])
    attempts = recipient.attempts + 1
    channel_attempts = recipient.channel_attempts + 1
    counted = {"counts_attempt": True, "counts_channel_attempt": True}
    fallback = next_channel(recipient)
    switch = fallback and (
        result.kind in HOPELESS or channel_attempts >= dispatch.fallback_after_attempts
    )
    if attempts >= dispatch.max_attempts:
        return NextStep(done=True, failed=True, **counted)
    if switch:
        return NextStep(done=False, switch_to=fallback, **counted)
    if result.kind in HOPELESS:
        return NextStep(done=True, failed=True, **counted)
    return NextStep(done=False, delay=retry_delay(dispatch, attempts), **counted)


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


def dead_claim_is_retried(*, message_inserted, request_left=True):
    """A claim whose sender died: its attempt's Message inserted and its request noted as
    leaving (or the note lost with Redis) means the provider may have been called (outcome
    unknown, never again); no Message, or a request never noted, means nobody was called
    (queued again)."""
    return not message_inserted or not request_left


def batch_job_retry():
    return Retry(max=BATCH_JOB_RETRIES)

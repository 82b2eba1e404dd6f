"""The dispatch clock: what time it is for send windows, retry delays and message timestamps.

Real time, shifted by `settings.DISPATCH_CLOCK_OFFSET_SECONDS` (default 0). A demo or a test
can run a dispatch "at 20:59 in Dakar" without waiting for the evening, and every process
(web, each worker) reads the same setting, so they agree on the time. Only distribution reads
this clock; everything else keeps Django's.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone


def offset():
    return timedelta(seconds=float(getattr(settings, "DISPATCH_CLOCK_OFFSET_SECONDS", 0) or 0))


def now():
    return timezone.now() + offset()


def real_seconds_until(moment):
    """How long, in real seconds, until the dispatch clock shows `moment` (negative: past)."""
    return (moment - now()).total_seconds()

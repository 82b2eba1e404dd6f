"""A dispatch's send window: the hours (in the program's time zone) and weekdays when
messages may go out. A message due outside it waits for the next opening."""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# An end of 00:00 is the day's end, so that a window can run until midnight: 00:00-00:00 is
# the whole day (an end of 23:59 would send nothing in the day's last minute).
MIDNIGHT = time(0)


def ends_before(start, end):
    """Whether a window from `start` until `end` (exclusive) is empty or runs backwards."""
    return end != MIDNIGHT and start >= end


def any_hour(start, end):
    """Whether a window from `start` until `end` is the whole day (00:00-00:00)."""
    return start == end == MIDNIGHT


@dataclass(frozen=True)
class SendWindow:
    start: time
    end: time  # exclusive: a 07:00-21:00 window sends nothing at 21:00:00; 00:00 is midnight
    weekdays: frozenset  # 0 = Monday … 6 = Sunday
    tz: ZoneInfo

    @classmethod
    def of(cls, dispatch, program):
        return cls(dispatch.window_start, dispatch.window_end, frozenset(dispatch.weekdays),
                   program_zone(program))

    def contains(self, moment):
        local = moment.astimezone(self.tz)
        at = local.time()
        return (local.weekday() in self.weekdays and self.start <= at
                and (self.end == MIDNIGHT or at < self.end))

    def next_opening(self, moment):
        """`moment` itself when the window is open, else when it next opens (UTC); None when
        the window has no weekday at all."""
        if self.contains(moment):
            return moment
        local = moment.astimezone(self.tz)
        for days in range(8):
            day = local.date() + timedelta(days=days)
            if day.weekday() not in self.weekdays:
                continue
            opening = datetime.combine(day, self.start, tzinfo=self.tz)
            if opening > local:
                return opening.astimezone(UTC)
        return None


def program_zone(program):
    try:
        return ZoneInfo(program.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")

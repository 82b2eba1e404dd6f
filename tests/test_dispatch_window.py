"""The send window, read in the program's time zone on the dispatch clock: a run that starts
at 20:59 stops at 21:00 and goes on at 07:00 the next weekday.

The dispatch clock (distribution.dispatch.clock) is real time shifted by
settings.DISPATCH_CLOCK_OFFSET_SECONDS; these tests shift it, and the RQ worker runs in this
process so it reads the same settings.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from distribution.dispatch import clock
from distribution.dispatch.runs import dispatch_start
from distribution.dispatch.send_window import SendWindow
from distribution.models import Dispatch, Message
from tests.dispatch_helpers import dispatch_done, work_until
from tests.factories import (
    make_campaign,
    make_dispatch,
    make_integration,
    make_issued_cards,
    make_program,
)

pytest_plugins = ["tests.stubs.fixtures"]

DAKAR = ZoneInfo("Africa/Dakar")
WORKWEEK = frozenset(range(5))


def next_weekday(weekday):
    today = date.today()
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


@pytest.fixture(autouse=True)
def few_senders(settings):
    """The stubs' listen backlog is 5: more connections opened at once get reset."""
    settings.DISPATCH_SEND_CONCURRENCY = 4


def set_clock(settings, local_moment):
    """The dispatch clock now shows `local_moment` (and runs on from there)."""
    settings.DISPATCH_CLOCK_OFFSET_SECONDS = (local_moment - timezone.now()).total_seconds()


def window(start=time(7), end=time(21), weekdays=WORKWEEK, tz=DAKAR):
    return SendWindow(start, end, weekdays, tz)


def test_the_window_is_open_from_its_start_until_just_before_its_end():
    thursday = next_weekday(3)
    assert window().contains(datetime.combine(thursday, time(7, 0), tzinfo=DAKAR))
    assert window().contains(datetime.combine(thursday, time(20, 59, 59), tzinfo=DAKAR))
    assert not window().contains(datetime.combine(thursday, time(21, 0), tzinfo=DAKAR))
    assert not window().contains(datetime.combine(thursday, time(6, 59, 59), tzinfo=DAKAR))


def test_a_window_ending_at_0000_runs_until_midnight():
    thursday = next_weekday(3)
    evening = window(start=time(18), end=time(0))
    assert evening.contains(datetime.combine(thursday, time(23, 59, 59), tzinfo=DAKAR))
    assert not evening.contains(datetime.combine(thursday, time(0, 0), tzinfo=DAKAR))


def test_a_window_from_0000_to_0000_never_closes_on_its_weekdays():
    whole_day = window(start=time(0), end=time(0), weekdays=frozenset(range(7)))
    assert whole_day.contains(datetime.combine(next_weekday(6), time(23, 59, 59), tzinfo=DAKAR))
    assert whole_day.contains(datetime.combine(next_weekday(0), time(0, 0), tzinfo=DAKAR))


def test_after_friday_evening_the_window_opens_on_monday_morning():
    friday_night = datetime.combine(next_weekday(4), time(21, 30), tzinfo=DAKAR)
    opening = window().next_opening(friday_night)
    assert opening.astimezone(DAKAR) == datetime.combine(next_weekday(4) + timedelta(days=3),
                                                         time(7), tzinfo=DAKAR)


def test_the_window_is_read_in_the_programs_time_zone():
    # 07:30 UTC is 08:30 in Lagos but 03:30 in New York.
    thursday = next_weekday(3)
    moment = datetime.combine(thursday, time(7, 30), tzinfo=UTC)
    assert window(tz=ZoneInfo("Africa/Lagos")).contains(moment)
    assert not window(tz=ZoneInfo("America/New_York")).contains(moment)


def test_the_dispatch_clock_follows_its_offset(settings):
    settings.DISPATCH_CLOCK_OFFSET_SECONDS = 3600
    assert abs((clock.now() - timezone.now()).total_seconds() - 3600) < 5


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_run_started_at_2059_stops_at_2100_and_goes_on_at_0700(settings, orange_stub):
    settings.DISPATCH_PUMP_MAX_SLEEP_SECONDS = 1
    program = make_program(timezone_name="Africa/Dakar")
    campaign = make_campaign(program=program)
    make_integration(program=program, channel="sms", config=orange_stub.config())
    cards = make_issued_cards(campaign=campaign, count=20, with_png=False)
    thursday, friday = next_weekday(3), next_weekday(3) + timedelta(days=1)
    closing = datetime.combine(thursday, time(21), tzinfo=DAKAR)
    opening = datetime.combine(friday, time(7), tzinfo=DAKAR)
    dispatch = make_dispatch(campaign=campaign, first_channel="sms", rate_limit_per_second=4)

    set_clock(settings, closing - timedelta(seconds=2))
    dispatch_start(dispatch=dispatch)
    work_until(lambda: Dispatch.objects.get(pk=dispatch.pk).waiting_until is not None,
               timeout=20, message="the window to close")
    evening = list(Message.objects.filter(dispatch=dispatch))
    assert 0 < len(evening) < 20
    assert all(m.sent_at < closing for m in evening)
    dispatch.refresh_from_db()
    assert dispatch.status == "running" and dispatch.waiting_until == opening

    set_clock(settings, opening - timedelta(seconds=2))
    work_until(dispatch_done(dispatch), timeout=40)
    morning = Message.objects.filter(dispatch=dispatch).exclude(pk__in=[m.pk for m in evening])
    assert morning.count() == 20 - len(evening)
    assert all(m.sent_at >= opening for m in morning)
    sent = sorted(s["address"].removeprefix("tel:") for s in orange_stub.sent)
    assert sent == sorted(card.beneficiary.phone for card in cards)


@pytest.mark.django_db(transaction=True)
def test_a_run_started_on_saturday_waits_for_monday(settings, orange_stub):
    program = make_program(timezone_name="Africa/Dakar")
    campaign = make_campaign(program=program)
    make_integration(program=program, channel="sms", config=orange_stub.config())
    make_issued_cards(campaign=campaign, count=3, with_png=False)
    saturday = next_weekday(5)
    set_clock(settings, datetime.combine(saturday, time(10), tzinfo=DAKAR))
    dispatch = make_dispatch(campaign=campaign, first_channel="sms")
    dispatch_start(dispatch=dispatch)
    work_until(lambda: Dispatch.objects.get(pk=dispatch.pk).waiting_until is not None,
               timeout=15, message="the run to wait")
    dispatch.refresh_from_db()
    assert dispatch.waiting_until == datetime.combine(saturday + timedelta(days=2), time(7),
                                                      tzinfo=DAKAR)
    assert orange_stub.sent == []

"""Dispatch runs on real `rqworker dispatch` processes (as deployed), against the local Orange
stub: a worker killed mid-run repeats and loses nothing; the rate limit holds across workers;
pause and resume send exactly the unsent set."""

import threading
import time
from collections import Counter
from datetime import time as dtime

import pytest

from distribution.dispatch.runs import dispatch_pause, dispatch_resume, dispatch_start
from distribution.models import Dispatch, Message
from tests.dispatch_helpers import max_per_second
from tests.factories import (
    make_campaign,
    make_dispatch,
    make_integration,
    make_issued_cards,
    make_program,
)
from tests.processes import kill_hard, start_worker, stop, wait_until
from tests.stubs.orange import _is_send

pytest_plugins = ["tests.stubs.fixtures"]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

OPEN = {"window_start": dtime(0, 0), "window_end": dtime(0, 0), "weekdays": list(range(7)),
        "retry_delays": [0]}


@pytest.fixture
def workers(tmp_path):
    started = []

    def start(n=1):
        for _ in range(n):
            log = tmp_path / f"worker-{len(started)}.log"
            started.append(start_worker("dispatch", "--with-scheduler", log_path=log))
        return started

    yield start
    for process in started:
        stop(process)


def sms_run(orange, count, **plan):
    campaign = make_campaign(program=make_program())
    make_integration(program=campaign.program, channel="sms", config=orange.config())
    cards = make_issued_cards(campaign=campaign, count=count, with_png=False)
    dispatch = make_dispatch(campaign=campaign, first_channel="sms", **{**OPEN, **plan})
    return cards, dispatch


def phones_sent(orange):
    return Counter(sent["address"].removeprefix("tel:") for sent in orange.sent)


def is_done(dispatch):
    return lambda: Dispatch.objects.get(pk=dispatch.pk).status == Dispatch.Status.DONE


def test_a_worker_killed_mid_dispatch_sends_each_message_exactly_once(orange, workers):
    cards, dispatch = sms_run(orange, 2000, rate_limit_per_second=5000)
    first, _second = workers(2)
    dispatch_start(dispatch=dispatch)
    wait_until(lambda: len(orange.sent) >= 500, timeout=60, message="500 SMS sent")
    # Hold every answer: the workers' in-flight requests have reached Orange, and the killed
    # worker will never read their answers - the case where the outcome is unknown.
    hold = threading.Event()
    hold.set()
    orange.delay_next(4.0, times=10**9, match=lambda r: hold.is_set() and _is_send(r))

    def requests_settled():
        count = len(orange.send_requests())
        time.sleep(0.8)
        return len(orange.send_requests()) == count

    wait_until(requests_settled, timeout=20, message="every worker waiting on Orange")
    kill_hard(first)
    hold.clear()
    workers(1)  # the restart
    wait_until(is_done(dispatch), timeout=120, interval=0.5, message="the dispatch to finish")
    time.sleep(4.5)  # answers still held by the stub complete

    sent = phones_sent(orange)
    assert sorted(sent) == sorted(card.beneficiary.phone for card in cards)
    assert set(sent.values()) == {1}
    messages = list(Message.objects.filter(dispatch=dispatch).select_related("beneficiary"))
    assert {m.status for m in messages} <= {"sent", "failed"}
    unknown = [m for m in messages if m.status == "failed"]
    assert unknown and {m.error_code for m in unknown} == {"outcome_unknown"}
    # What was in flight when the worker died did reach Orange: not sent a second time.
    assert all(sent[m.beneficiary.phone] == 1 for m in unknown)
    assert Counter(m.beneficiary_id for m in messages) == Counter(
        {card.beneficiary_id: 1 for card in cards})


def test_the_rate_limit_holds_across_two_workers(orange, workers):
    _cards, dispatch = sms_run(orange, 150, rate_limit_per_second=25)
    workers(2)
    dispatch_start(dispatch=dispatch)
    wait_until(is_done(dispatch), timeout=60, interval=0.5, message="the dispatch to finish")
    per_second, sliding = max_per_second(orange.send_times)
    assert len(orange.send_times) == 150
    assert per_second <= 25 and sliding <= 25


def test_pause_then_resume_sends_exactly_the_unsent_set(orange, workers):
    cards, dispatch = sms_run(orange, 120, rate_limit_per_second=20)
    workers(2)
    dispatch_start(dispatch=dispatch)
    wait_until(lambda: len(orange.sent) >= 20, timeout=30, message="20 SMS sent")
    dispatch_pause(dispatch=Dispatch.objects.get(pk=dispatch.pk))

    def quiet():
        count = len(orange.sent)
        time.sleep(1.5)
        return len(orange.sent) == count

    wait_until(quiet, timeout=20, message="sending to stop")
    paused_at = len(orange.sent)
    assert paused_at < 120
    time.sleep(1.5)
    assert len(orange.sent) == paused_at
    dispatch_resume(dispatch=Dispatch.objects.get(pk=dispatch.pk))
    wait_until(is_done(dispatch), timeout=60, interval=0.5, message="the dispatch to finish")
    sent = phones_sent(orange)
    assert sorted(sent) == sorted(card.beneficiary.phone for card in cards)
    assert set(sent.values()) == {1}

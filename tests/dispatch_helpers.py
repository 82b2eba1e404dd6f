"""Shared by the dispatch tests: run the "dispatch" queue in this process until a condition
holds, and stubs that remember when each request arrived (to count requests per second)."""

import time

import django_rq

from distribution.models import Dispatch, DispatchRecipient
from tests.stubs.orange import OrangeStub, _is_send


def work_until(predicate, *, timeout=30, message="the dispatch to finish"):
    """Burst-runs RQ's real worker (with its scheduler, for delayed pump turns) in this process
    until `predicate()` is true."""
    deadline = time.monotonic() + timeout
    while True:
        django_rq.get_worker("dispatch").work(burst=True, with_scheduler=True)
        if predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(0.1)


def dispatch_done(dispatch):
    return lambda: Dispatch.objects.get(pk=dispatch.pk).status == Dispatch.Status.DONE


def recipients(dispatch):
    return {r.beneficiary_id: r for r in DispatchRecipient.objects.filter(dispatch=dispatch)}


class TimedOrangeStub(OrangeStub):
    """Orange's stub noting the wall-clock time each SMS request arrived, with a listen
    backlog fit for two workers' 64 connections (the stub's default of 5 makes the kernel
    reset connections that arrive together)."""

    def __init__(self):
        super().__init__()
        self.send_times = []

    def start(self):
        super().start()
        self._server.socket.listen(256)
        return self

    def answer(self, request):
        if request.method == "POST" and _is_send(request):
            self.send_times.append(time.time())
        return super().answer(request)


def max_per_second(times):
    """The most requests in any one calendar second, and in any sliding one-second window."""
    per_second = {}
    for t in times:
        per_second[int(t)] = per_second.get(int(t), 0) + 1
    ordered = sorted(times)
    sliding, start = 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - 1.0:
            start += 1
        sliding = max(sliding, end - start + 1)
    return max(per_second.values(), default=0), sliding

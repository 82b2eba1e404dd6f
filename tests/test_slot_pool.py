"""A batch's sender threads draw rate-limit slots from its SlotPool (real Redis): earliest
first, never one missed by more than MISSED_AFTER, refilled from the shared limit."""

import itertools
import threading
import time

import pytest

from distribution.dispatch.rate_limit import MISSED_AFTER, RateLimiter, Reservation, SlotPool


def pool(per_second=100):
    limiter = RateLimiter(f"test-pool-{time.monotonic_ns()}", per_second)
    return SlotPool(limiter), limiter


def reservation(count, interval=0.01, delay=0.0):
    return Reservation(granted=count, delay=delay, interval=interval)


def test_slots_are_taken_earliest_first():
    slots, _ = pool()
    reserved_at = time.monotonic()
    slots.add(reservation(3), reserved_at=reserved_at)

    assert [slots.take() for _ in range(3)] == pytest.approx(
        [reserved_at, reserved_at + 0.01, reserved_at + 0.02])


def test_a_missed_slot_is_dropped_and_a_fresh_one_reserved():
    slots, _ = pool()
    slots.add(reservation(5), reserved_at=time.monotonic() - 1.0)
    before = time.monotonic()

    taken = slots.take()

    assert taken >= before - MISSED_AFTER
    assert all(slot >= before - MISSED_AFTER for slot in slots.slots)  # missed ones are gone


def test_threads_waiting_at_once_each_get_their_own_slot_spaced_by_the_limit():
    slots, limiter = pool(per_second=50)
    taken = []
    threads = [threading.Thread(target=lambda: taken.append(slots.take())) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(taken)) == 5
    ordered = sorted(taken)
    gaps = [b - a for a, b in itertools.pairwise(ordered)]
    # Spaced as the limit spaces them, give or take a round trip to Redis.
    assert min(gaps) >= limiter.interval - 0.002


def test_clear_leaves_no_slot_to_take_without_the_limiter():
    slots, limiter = pool(per_second=10)
    slots.add(reservation(3, interval=limiter.interval, delay=5.0), reserved_at=time.monotonic())
    slots.clear()
    limiter.hold(0.3)  # the provider's "slow down": no slot for anyone for 0.3 s
    before = time.monotonic()

    taken = slots.take()

    assert taken >= before + 0.25

"""The per-channel rate limit of a dispatch run, shared by every worker through Redis.

A token bucket that holds one token (GCRA): the tokens are send slots spaced `1 / rate`
apart on Redis's clock, handed out by one Lua script, so no two workers ever get the same
slot and no burst can follow an idle moment. Any second therefore holds at most `rate`
slots. The slots are spaced for 95 % of the configured rate: a sender starts its request a
little after its slot (thread scheduling, the network), and that slack absorbs up to 50 ms
of such lateness per second before a provider could count more than `rate` requests in one.

A caller reserves up to `n` slots that begin within `horizon` seconds and sends each at its
time; a caller told to wait gets how long. A provider's "slow down" answer pushes every
worker's next slot back (`hold`).

A batch keeps the slots it reserved in a SlotPool that its sender threads draw from when
each is ready to send, earliest first. A slot is bound to no message: the thread that comes
first takes the next slot. A slot missed by more than MISSED_AFTER is dropped, never used:
sent that late, its request would crowd the slots after it. Bound to messages at claim time,
most slots of a fast run were missed (a thread picks up its message only after the ones
before it) and each missed slot cost one more round trip to Redis.
"""

import threading
import time
from collections import deque
from dataclasses import dataclass

from distribution import tokens

TARGET_SHARE = 0.95
DEFAULT_HORIZON = 0.05
# Lateness a slot tolerates, with TARGET_SHARE's 50 ms a second: 30 ms remain for the request
# to reach the provider at an uneven pace.
MISSED_AFTER = 0.02
# A refill takes at least this many slots, but only those due within MISSED_AFTER: on a fast
# run the threads after this one use them (one round trip to Redis per 16 sends, not per
# send); under a binding limit it gets the one or two due, and waits for the next.
REFILL_SLOTS = 16

# KEYS[1] bucket; ARGV interval (µs), wanted slots, horizon (µs), hold (µs, 0 = reserve).
# Returns {granted, µs from now to the first slot (granted > 0) or to try again (0 granted)}.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local interval = tonumber(ARGV[1])
local wanted = tonumber(ARGV[2])
local horizon = tonumber(ARGV[3])
local hold = tonumber(ARGV[4])
if hold > 0 then
  if now + hold > tat then tat = now + hold end
  local ttl = math.ceil((tat - now) / 1000) + 60000
  redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', ttl)
  return {0, tat - now}
end
local first = tat
local granted = 0
while granted < wanted and tat <= now + horizon do
  granted = granted + 1
  tat = tat + interval
end
if granted == 0 then
  return {0, tat - now - horizon}
end
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 60000)
return {granted, first - now}
"""
_script = None


@dataclass(frozen=True)
class Reservation:
    granted: int
    delay: float  # seconds until the first slot (granted) or until it is worth asking again
    interval: float  # seconds between two slots

    def slot_offsets(self):
        """Seconds from now of each granted slot."""
        return [self.delay + i * self.interval for i in range(self.granted)]


class RateLimiter:
    def __init__(self, key, per_second):
        self.key = f"distribution:rate:{key}"
        self.interval = 1.0 / (max(float(per_second), 0.001) * TARGET_SHARE)

    def reserve(self, wanted, *, horizon=DEFAULT_HORIZON):
        granted, micros = _run(self.key, self.interval, wanted, horizon, 0)
        return Reservation(granted=int(granted), delay=max(0.0, micros / 1e6),
                           interval=self.interval)

    def hold(self, seconds):
        """No slot for anyone during the next `seconds` (the provider asked us to slow down)."""
        _run(self.key, self.interval, 0, 0, max(seconds, 0.001))


class SlotPool:
    """Slots reserved for one batch (monotonic times), taken by its sender threads."""

    def __init__(self, limiter):
        self.limiter = limiter
        self.slots = deque()
        self.waiting = 0  # threads inside take(): how many slots a refill asks for
        self.lock = threading.Lock()

    def add(self, reservation, *, reserved_at):
        """The slots of `reservation`, made by the caller at monotonic `reserved_at`."""
        with self.lock:
            self.slots.extend(reserved_at + offset for offset in reservation.slot_offsets())

    def clear(self):
        """Drops the slots not taken yet (the provider asked every sender to wait)."""
        with self.lock:
            self.slots.clear()

    def wait(self):
        """Sleeps until a slot of this pool is due; another one if the sleep overran it by
        more than MISSED_AFTER (a busy machine)."""
        while True:
            at = self.take()
            delay = at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if time.monotonic() <= at + MISSED_AFTER:
                return

    def take(self):
        """The monotonic time of a slot that is not missed yet; reserves more from Redis when
        none is left (REFILL_SLOTS, or as many as threads are waiting), waiting out a
        provider's hold."""
        with self.lock:
            self.waiting += 1
        try:
            while True:
                with self.lock:
                    now = time.monotonic()
                    while self.slots and self.slots[0] < now - MISSED_AFTER:
                        self.slots.popleft()
                    if self.slots:
                        return self.slots.popleft()
                    reservation = self.limiter.reserve(max(self.waiting, REFILL_SLOTS),
                                                       horizon=MISSED_AFTER)
                    # Timed from the answer: a slot is then never taken before its time.
                    now = time.monotonic()
                    if reservation.granted:
                        slots = reservation.slot_offsets()
                        self.slots.extend(now + offset for offset in slots[1:])
                        return now + slots[0]
                time.sleep(max(reservation.delay, 0.001))
        finally:
            with self.lock:
                self.waiting -= 1


def _run(key, interval, wanted, horizon, hold):
    global _script
    if _script is None:
        _script = tokens.connection().register_script(_SCRIPT)
    return _script(
        keys=[key],
        args=[int(interval * 1e6), int(wanted), int(horizon * 1e6), int(hold * 1e6)],
        client=tokens.connection(),
    )

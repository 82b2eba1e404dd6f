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
"""

from dataclasses import dataclass

from distribution import tokens

TARGET_SHARE = 0.95
DEFAULT_HORIZON = 0.05

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


def _run(key, interval, wanted, horizon, hold):
    global _script
    if _script is None:
        _script = tokens.connection().register_script(_SCRIPT)
    return _script(
        keys=[key],
        args=[int(interval * 1e6), int(wanted), int(horizon * 1e6), int(hold * 1e6)],
        client=tokens.connection(),
    )

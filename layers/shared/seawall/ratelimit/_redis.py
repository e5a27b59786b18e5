"""The limiter's Upstash Redis store: one EVAL per decision, on the server's clock.

upstash-ratelimit is not used: it spends one EVAL per limit (a per-second plus
a daily limit would take two round trips and could consume one slot while the
other refuses), reads the client's clock, and its sliding window is an
estimate that can admit more than the limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from seawall.ratelimit._limits import Limit

_CLOCK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: one per limit. ARGV: per limit, in order: fixed (1 or 0), limit, window, interval, tolerance (ms);
# then how far ahead (ms) a sliding limit's turn may be taken. Every limit is checked before any is taken,
# so a refusal consumes nothing. A fixed window's counter
# expires with the window's last millisecond (Redis still holds a key at its expiry instant: expiring at
# the window's end would count the next window's first millisecond into the old counter). A sliding
# limit's TAT expires when it is reached: a TAT in the past admits as no TAT does.
_CONSUME = (
    _CLOCK
    + """
local states = {}
local allowed = 1
local within = tonumber(ARGV[#ARGV])
for i, key in ipairs(KEYS) do
  local a = 5 * (i - 1)
  states[i] = tonumber(redis.call('GET', key) or '0')
  if ARGV[a + 1] == '1' then
    if states[i] >= tonumber(ARGV[a + 2]) then allowed = 0 end
  elseif states[i] - now > tonumber(ARGV[a + 5]) + within then
    allowed = 0
  end
end
if allowed == 1 then
  for i, key in ipairs(KEYS) do
    local a = 5 * (i - 1)
    if ARGV[a + 1] == '1' then
      local window = tonumber(ARGV[a + 3])
      states[i] = redis.call('INCR', key)
      if states[i] == 1 then redis.call('PEXPIREAT', key, now - now % window + window - 1) end
    else
      states[i] = math.max(states[i], now) + tonumber(ARGV[a + 4])
      redis.call('SET', key, string.format('%d', states[i]), 'PXAT', states[i])
    end
  end
end
return {allowed, now, unpack(states)}
"""
)

# KEYS: the limit's. ARGV: fixed (1 or 0), window (ms), and the state refusing every call until then.
_EXHAUST = (
    _CLOCK
    + """
local window = tonumber(ARGV[2])
if ARGV[1] == '1' then
  redis.call('SET', KEYS[1], ARGV[3], 'PXAT', now - now % window + window - 1)
else
  redis.call('SET', KEYS[1], string.format('%d', now + tonumber(ARGV[3])), 'PXAT', now + tonumber(ARGV[3]))
end
return now
"""
)

# KEYS: one per limit. Each state as found (0 when none); nothing is changed.
_USAGE = (
    _CLOCK
    + """
local states = {now}
for i, key in ipairs(KEYS) do states[i + 1] = tonumber(redis.call('GET', key) or '0') end
return states
"""
)


def _key(key: str, limit: Limit) -> str:
    # A sliding limit's TAT and a fixed window's counter never share a key: a limit changed from one to
    # the other starts afresh instead of reading a time as a count.
    return f"{key}:{limit.name}" if limit.fixed else f"{key}:{limit.name}:tat"


class RedisLimiterStore:
    """Sliding limits' TATs and fixed windows' counters in Redis, all limits of a decision in one script."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def consume(self, key: str, limits: Sequence[Limit], within_ms: int) -> tuple[bool, list[int | None], int]:
        """Take a call from every limit, or from none; returns (allowed, states, server time in ms)."""
        arguments = [
            value
            for limit in limits
            for value in (int(limit.fixed), limit.limit, limit.window_ms, limit.interval_ms, limit.tolerance_ms)
        ]
        arguments.append(within_ms)
        allowed, now_ms, *states = self.client.eval(
            _CONSUME, keys=[_key(key, limit) for limit in limits], args=arguments
        )
        return bool(allowed), [int(state) for state in states], int(now_ms)

    def exhaust(self, key: str, limit: Limit) -> int:
        """Refuse every call of ``limit``: the rest of its window, or a whole window; returns the server time."""
        # A sliding limit's state is a time on the server's clock, which only the script reads: pass the offset.
        refusing = limit.exhausted_state(0)
        return int(
            self.client.eval(_EXHAUST, keys=[_key(key, limit)], args=[int(limit.fixed), limit.window_ms, refusing])
        )

    def usage(self, key: str, limits: Sequence[Limit]) -> tuple[list[int], int]:
        """Each limit's state as found (0 when none); returns (states, server time in ms)."""
        now_ms, *states = self.client.eval(_USAGE, keys=[_key(key, limit) for limit in limits], args=[])
        return [int(state) for state in states], int(now_ms)

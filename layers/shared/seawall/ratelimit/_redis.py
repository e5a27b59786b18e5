"""The limiter's Upstash Redis store: one EVAL per decision, on the server's clock.

upstash-ratelimit is not used: it spends one EVAL per limit (a per-second plus
a daily limit would take two round trips and could consume one slot while the
other refuses), and it reads the client's clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from seawall.ratelimit._limits import Limit

# KEYS: one counter per limit. ARGV: limit and window (ms) per key, in order.
# Every counter is checked before any is taken, so a refusal consumes nothing.
# A key found belongs to the current window: a counter expires with its
# window's last millisecond (Redis still holds a key at its expiry instant, so
# expiring at the window's end would count the next window's first
# millisecond into the old counter, admitting more than the limit).
_CONSUME = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local counts = {}
local allowed = 1
for i, key in ipairs(KEYS) do
  counts[i] = tonumber(redis.call('GET', key) or '0')
  if counts[i] >= tonumber(ARGV[2 * i - 1]) then allowed = 0 end
end
if allowed == 1 then
  for i, key in ipairs(KEYS) do
    local window = tonumber(ARGV[2 * i])
    counts[i] = redis.call('INCR', key)
    if counts[i] == 1 then redis.call('PEXPIREAT', key, now - now % window + window - 1) end
  end
end
return {allowed, now, unpack(counts)}
"""

# KEYS: the limit's counter. ARGV: limit, window (ms). The counter is set full,
# expiring as _CONSUME would expire it, so the window refuses until it ends.
_EXHAUST = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], now - now % window + window - 1)
return now
"""

# KEYS: one counter per limit. A key found belongs to the current window (see _CONSUME); nothing is changed.
_USAGE = """
local t = redis.call('TIME')
local counts = {tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)}
for i, key in ipairs(KEYS) do counts[i + 1] = tonumber(redis.call('GET', key) or '0') end
return counts
"""


class RedisLimiterStore:
    """Fixed-window counters in Redis, all limits of a decision in one atomic script."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def consume(self, key: str, limits: Sequence[Limit]) -> tuple[bool, list[int | None], int]:
        """Take a slot in every limit, or none; returns (allowed, counts, server time in ms)."""
        keys = [f"{key}:{limit.name}" for limit in limits]
        arguments = [value for limit in limits for value in (limit.limit, limit.window_ms)]
        allowed, now_ms, *counts = self.client.eval(_CONSUME, keys=keys, args=arguments)
        return bool(allowed), [int(count) for count in counts], int(now_ms)

    def exhaust(self, key: str, limit: Limit) -> int:
        """Fill ``limit``'s counter for the current window; returns the server time in ms."""
        return int(self.client.eval(_EXHAUST, keys=[f"{key}:{limit.name}"], args=[limit.limit, limit.window_ms]))

    def usage(self, key: str, limits: Sequence[Limit]) -> tuple[list[int], int]:
        """Each limit's counter in its current window (0 when none); returns (counts, server time in ms)."""
        now_ms, *counts = self.client.eval(_USAGE, keys=[f"{key}:{limit.name}" for limit in limits], args=[])
        return [int(count) for count in counts], int(now_ms)

"""The breaker's Upstash Redis store: one hash per provider, each operation one script."""

from __future__ import annotations

from typing import Any

from seawall.breaker._store import Record

_RECORD = """
local held = tonumber(redis.call('HGET', KEYS[1], 'b' .. ARGV[1]) or '-1')
local bucket = tonumber(ARGV[2])
if held == bucket then
  redis.call('HINCRBY', KEYS[1], 'n' .. ARGV[1], 1)
  redis.call('HINCRBY', KEYS[1], 'f' .. ARGV[1], ARGV[3])
  redis.call('HINCRBY', KEYS[1], 's' .. ARGV[1], ARGV[4])
elseif held < bucket then
  redis.call('HSET', KEYS[1], 'b' .. ARGV[1], bucket, 'n' .. ARGV[1], 1,
             'f' .. ARGV[1], ARGV[3], 's' .. ARGV[1], ARGV[4])
end
return redis.call('HGETALL', KEYS[1])
"""

_TRIP = """
if (redis.call('HGET', KEYS[1], 'state') or 'closed') ~= 'closed' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'open', 'open_until', ARGV[1])
return 1
"""

_ACQUIRE_PROBE = """
local now = tonumber(ARGV[1])
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
local lease_until = tonumber(redis.call('HGET', KEYS[1], 'lease_until') or '0')
if state == 'half_open' and lease_until > now then
  if tonumber(redis.call('HGET', KEYS[1], 'probes') or '0') < tonumber(ARGV[2]) then
    redis.call('HINCRBY', KEYS[1], 'probes', 1)
    return lease_until
  end
  return 0
end
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
if (state == 'open' and open_until <= now) or (state == 'half_open' and lease_until <= now) then
  local lease = now + tonumber(ARGV[3])
  redis.call('HSET', KEYS[1], 'state', 'half_open', 'probes', 1, 'successes', 0, 'lease_until', lease)
  return lease
end
return 0
"""


def _closing(slots_argument: int) -> str:
    """Lua closing the breaker, every bucket slot cleared; ``ARGV[slots_argument]`` is the window's slot count."""
    return f"""
redis.call('HSET', KEYS[1], 'state', 'closed')
for slot = 0, tonumber(ARGV[{slots_argument}]) - 1 do redis.call('HSET', KEYS[1], 'b' .. slot, -1) end
"""


_FINISH_PROBE = f"""
if redis.call('HGET', KEYS[1], 'state') == 'half_open' and redis.call('HGET', KEYS[1], 'lease_until') == ARGV[1] then
  if ARGV[2] == '1' then
    if redis.call('HINCRBY', KEYS[1], 'successes', 1) >= tonumber(ARGV[4]) then
{_closing(6)}
    end
  else
    redis.call('HSET', KEYS[1], 'state', 'open', 'open_until', tonumber(ARGV[3]) + tonumber(ARGV[5]))
  end
end
return redis.call('HGETALL', KEYS[1])
"""

# An operator's override (ARGV[1]: the window's slot count).
_FORCE_CLOSE = f"""
{_closing(1)}
return redis.call('HGETALL', KEYS[1])
"""

_RELEASE_PROBE = """
if redis.call('HGET', KEYS[1], 'state') == 'half_open' and redis.call('HGET', KEYS[1], 'lease_until') == ARGV[1]
   and tonumber(redis.call('HGET', KEYS[1], 'probes') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'probes', -1)
end
return 0
"""


def _as_record(flat: list[str]) -> Record:
    return dict(zip(flat[::2], flat[1::2], strict=True))


class RedisBreakerStore:
    """Breaker records as Redis hashes, every operation atomic in one EVAL."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @staticmethod
    def _key(name: str) -> str:
        return f"breaker:{name}"

    def read(self, name: str) -> Record:
        """The record as it is."""
        return dict(self.client.hgetall(self._key(name)))

    def record(self, name: str, *, slot: int, bucket: int, fault: bool, slow: bool, holds_bucket: bool) -> Record:
        """Count one call (the script branches itself; ``holds_bucket`` is not needed)."""
        flat = self.client.eval(_RECORD, keys=[self._key(name)], args=[slot, bucket, int(fault), int(slow)])
        return _as_record(flat)

    def trip(self, name: str, open_until: int) -> bool:
        """Open if closed."""
        return bool(self.client.eval(_TRIP, keys=[self._key(name)], args=[open_until]))

    def acquire_probe(self, name: str, *, now: int, probes: int, lease_ms: int) -> int | None:
        """A probe slot, if one is free."""
        token = int(self.client.eval(_ACQUIRE_PROBE, keys=[self._key(name)], args=[now, probes, lease_ms]))
        return token or None

    def finish_probe(
        self, name: str, *, token: int, success: bool, now: int, probes: int, open_ms: int, slots: int
    ) -> Record:
        """Count a probe's outcome."""
        arguments = [token, int(success), now, probes, open_ms, slots]
        return _as_record(self.client.eval(_FINISH_PROBE, keys=[self._key(name)], args=arguments))

    def release_probe(self, name: str, *, token: int) -> None:
        """Free a probe slot of the current period."""
        self.client.eval(_RELEASE_PROBE, keys=[self._key(name)], args=[token])

    def close(self, name: str, *, slots: int) -> Record:
        """Close whatever the state, the window cleared."""
        return _as_record(self.client.eval(_FORCE_CLOSE, keys=[self._key(name)], args=[slots]))

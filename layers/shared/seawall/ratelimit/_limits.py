"""Limits, decisions, and the arithmetic between them (no I/O).

A limit is counted the way its provider counts it:

- **Over any sliding interval** (the default: Stripe's and Hotelbeds' per-second
  limits). The generic cell rate algorithm (GCRA) keeps one number per limit,
  the theoretical arrival time (TAT) of the next call at the steady pace. A call
  at ``now`` is admitted when ``TAT - now <= tolerance``; the TAT then moves to
  ``max(TAT, now) + interval``. With ``burst`` b the interval is
  ``window / (limit - b)`` (rounded up to a millisecond) and the tolerance
  ``b * interval``: b + 1 calls may go at once, then one per interval, and no
  interval of ``window`` ever holds more than ``limit`` calls. GCRA, as
  redis-cell and the ``limits`` library's moving windows do, because it is
  exact with one number per key: a sliding log keeps a timestamp per call (a
  daily quota's worth would not fit a DynamoDB item), and the two-window
  estimate of upstash-ratelimit's and Envoy's sliding windows can admit more
  than the limit.
- **In fixed windows** aligned to the epoch (``fixed=True``: a daily quota the
  provider renews at UTC midnight): a counter per window. A fixed window admits
  its whole limit at once, so it takes no burst.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from seawall.errors import ConfigError

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# Between a turn and its request reaching the provider lie a scheduler and a network: requests sent at turns
# an interval apart arrive as much closer as their delays differ. A provider that counts arrivals over any
# sliding window is given a limit over a window this much longer (a 25-a-second limit: a turn each 41 ms, not
# 40: 0.976 of the rate, and 25 ms of difference absorbed per window).
ARRIVAL_ALLOWANCE_SECONDS = 0.025
# Shorter windows mean nothing to a fleet, and a store must be able to expire a counter within one.
MIN_WINDOW_MS = 10


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` calls per ``window_seconds``; ``name`` tells limits of one limiter apart.

    Counted over any sliding interval, ``burst`` calls beyond the first may go
    back to back (the steady pace is then ``limit - burst`` per window); or, with
    ``fixed``, in windows aligned to the epoch.
    """

    name: str
    limit: int
    window_seconds: float
    burst: int = 0
    fixed: bool = False

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ConfigError("Limit", ["name"], "1-32 letters, digits, _ or -")
        if self.limit < 1:
            raise ConfigError(f"Limit {self.name}", ["limit"], "must be at least 1")
        if self.window_ms < MIN_WINDOW_MS:
            raise ConfigError(f"Limit {self.name}", ["window_seconds"], "must be at least 0.01")
        if not 0 <= self.burst < self.limit or (self.fixed and self.burst):
            raise ConfigError(f"Limit {self.name}", ["burst"], "0 up to limit - 1, and 0 for a fixed window")

    @property
    def window_ms(self) -> int:
        """The window in whole milliseconds (the stores' unit)."""
        return round(self.window_seconds * 1000)

    @property
    def interval_ms(self) -> int:
        """Sliding: the steady pace, one call per this many ms (rounded up: never over the limit)."""
        return math.ceil(self.window_ms / (self.limit - self.burst))

    @property
    def tolerance_ms(self) -> int:
        """Sliding: how far ahead of ``now`` the TAT may be and still admit a call."""
        return self.burst * self.interval_ms

    def window_start_ms(self, now_ms: int) -> int:
        """Fixed: start of the window holding ``now_ms``."""
        return now_ms - now_ms % self.window_ms

    def window_end_ms(self, now_ms: int) -> int:
        """Fixed: end of the window holding ``now_ms`` (the next one's start)."""
        return self.window_start_ms(now_ms) + self.window_ms

    def wait_ms(self, state: int, now_ms: int) -> int:
        """How long until a call is admitted, from the state as found (a counter, or a TAT); 0: now.

        A sliding limit may take that turn ahead (see ``within`` of the stores); a fixed window's next
        turn is its next window, which is never taken ahead.
        """
        if self.fixed:
            return 0 if state < self.limit else self.window_end_ms(now_ms) - now_ms
        return max(0, state - self.tolerance_ms - now_ms)

    def free(self, state: int, now_ms: int) -> int:
        """Calls that may go at ``now_ms`` without waiting, from the state (as found, or after a call)."""
        if self.fixed:
            return max(0, self.limit - state)
        return max(0, (now_ms + self.tolerance_ms - max(state, now_ms)) // self.interval_ms + 1)

    def reset_ms(self, state: int | None, now_ms: int) -> int:
        """When the limit is whole again: its window's end, or its TAT (at least one interval on when unknown)."""
        if self.fixed:
            return self.window_end_ms(now_ms)
        return max(state or 0, now_ms + (self.interval_ms if state is None else 0))

    def taken_turn_ms(self, state: int) -> int:
        """Sliding: the turn a call took, from the TAT it left (an interval on, and a tolerance early)."""
        return state - self.interval_ms - self.tolerance_ms

    def exhausted_state(self, now_ms: int) -> int:
        """The state that refuses every call for the rest of the window (fixed) or for a whole window (sliding)."""
        return self.limit if self.fixed else now_ms + self.window_ms + self.tolerance_ms


def validate_limits(limits: Sequence[Limit], owner: str) -> None:
    """A limiter needs at least one limit, each named once."""
    if not limits:
        raise ConfigError(owner, ["limits"], "at least one limit is needed")
    names = [limit.name for limit in limits]
    if len(set(names)) != len(names):
        raise ConfigError(owner, ["limits"], "limit names must be unique")


@dataclass(frozen=True)
class Decision:
    """The answer to one request for a slot.

    ``remaining`` is the calls that may still go at once under the tightest
    limit (``None`` when the store cannot tell: DynamoDB with several limits);
    ``reset`` the Unix time at which the binding limit is whole again (when
    refused: when a call will be admitted); ``retry_after`` the seconds to wait
    when refused (0 when allowed); ``turn`` the Unix time, on the store's clock,
    at which an admitted call takes its turn: the decision's own, or later when
    a turn ahead was taken (0 when refused). ``degraded`` marks a decision made
    by policy because the store could not be reached. ``limit`` names the limit
    that refused (the one to wait longest for), when one did.
    """

    allowed: bool
    remaining: int | None
    reset: float
    retry_after: float
    degraded: bool = False
    turn: float = 0.0
    limit: str | None = None


@dataclass(frozen=True)
class Usage:
    """How much of ``limit`` is ``used``, whole again at ``reset`` (Unix time).

    Fixed: the calls of this window. Sliding: the calls the TAT is ahead of now (at most ``burst + 1``).
    """

    limit: Limit
    used: int
    reset: float


def usage(limits: Sequence[Limit], states: Sequence[int], now_ms: int) -> list[Usage]:
    """Each limit's usage from its state, read at ``now_ms`` on the store's clock."""
    return [
        Usage(
            limit,
            state if limit.fixed else math.ceil(max(0, state - now_ms) / limit.interval_ms),
            limit.reset_ms(state, now_ms) / 1000,
        )
        for limit, state in zip(limits, states, strict=True)
    ]


def decide(limits: Sequence[Limit], states: Sequence[int | None], allowed: bool, now_ms: int) -> Decision:
    """The decision from the store's answer.

    ``states`` are each limit's state after this call when allowed, or as found
    when refused (``None`` where the store did not say).
    """
    if allowed:
        known = [(limit, state) for limit, state in zip(limits, states, strict=True) if state is not None]
        if len(known) < len(limits):
            reset = min(limit.reset_ms(None, now_ms) for limit in limits)
            return Decision(True, None, reset / 1000, 0.0, turn=now_ms / 1000)
        remaining, reset = min((limit.free(state, now_ms), limit.reset_ms(state, now_ms)) for limit, state in known)
        # A turn taken ahead: the TAT after it is one interval past the turn, and the turn a tolerance early.
        turn = max((limit.taken_turn_ms(state) for limit, state in known if not limit.fixed), default=now_ms)
        return Decision(True, remaining, reset / 1000, 0.0, turn=max(turn, now_ms) / 1000)
    wait, refusing = max(
        (limit.wait_ms(state, now_ms), limit.name)
        for limit, state in zip(limits, states, strict=True)
        if state is not None
    )
    return Decision(False, 0, (now_ms + wait) / 1000, wait / 1000, limit=refusing)

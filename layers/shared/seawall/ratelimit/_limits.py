"""Limits, decisions, and the arithmetic between them (no I/O).

A limit admits at most ``limit`` calls in each window of ``window_seconds``,
windows aligned to the store's clock (Unix epoch multiples). Across a window
boundary up to twice the limit can pass within one window's length: configure
half a provider's cap where it enforces a sliding window.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from seawall.errors import ConfigError

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# Shorter windows mean nothing to a fleet, and a store must be able to expire a counter within one.
MIN_WINDOW_MS = 10


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` calls per ``window_seconds``; ``name`` tells limits of one limiter apart."""

    name: str
    limit: int
    window_seconds: float

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ConfigError("Limit", ["name"], "1-32 letters, digits, _ or -")
        if self.limit < 1:
            raise ConfigError(f"Limit {self.name}", ["limit"], "must be at least 1")
        if self.window_ms < MIN_WINDOW_MS:
            raise ConfigError(f"Limit {self.name}", ["window_seconds"], "must be at least 0.01")

    @property
    def window_ms(self) -> int:
        """The window in whole milliseconds (the stores' unit)."""
        return round(self.window_seconds * 1000)

    def window_start_ms(self, now_ms: int) -> int:
        """Start of the window holding ``now_ms``."""
        return now_ms - now_ms % self.window_ms


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

    ``remaining`` is the calls left in the tightest window (``None`` when the
    store cannot tell: DynamoDB with several limits); ``reset`` the Unix time at
    which the binding window ends; ``retry_after`` the seconds to wait when
    refused (0 when allowed). ``degraded`` marks a decision made by policy
    because the store could not be reached.
    """

    allowed: bool
    remaining: int | None
    reset: float
    retry_after: float
    degraded: bool = False


@dataclass(frozen=True)
class Usage:
    """Calls ``used`` in the current window of ``limit``, which ends at ``reset`` (Unix time)."""

    limit: Limit
    used: int
    reset: float


def usage(limits: Sequence[Limit], counts: Sequence[int], now_ms: int) -> list[Usage]:
    """Each limit's usage from the counters of its current window, read at ``now_ms`` on the store's clock."""
    return [
        Usage(limit, count, (limit.window_start_ms(now_ms) + limit.window_ms) / 1000)
        for limit, count in zip(limits, counts, strict=True)
    ]


def decide(limits: Sequence[Limit], counts: Sequence[int | None], allowed: bool, now_ms: int) -> Decision:
    """The decision from the store's answer.

    ``counts`` are the counters after this call when allowed, or as found when
    refused (``None`` where the store did not say).
    """
    resets = [limit.window_start_ms(now_ms) + limit.window_ms for limit in limits]
    if allowed:
        known = [
            (limit.limit - count, reset)
            for limit, count, reset in zip(limits, counts, resets, strict=True)
            if count is not None
        ]
        if len(known) < len(limits):
            return Decision(True, None, min(resets) / 1000, 0.0)
        remaining, reset = min(known)
        return Decision(True, max(0, remaining), reset / 1000, 0.0)
    blocking = [
        reset
        for limit, count, reset in zip(limits, counts, resets, strict=True)
        if count is not None and count >= limit.limit
    ]
    reset = max(blocking or resets)
    return Decision(False, 0, reset / 1000, (reset - now_ms) / 1000)

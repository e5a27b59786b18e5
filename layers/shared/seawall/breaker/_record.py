"""The breaker's shared record, as every store returns it, and what it means.

A record is a flat mapping: ``state``, ``open_until`` and ``lease_until``
(ms since the epoch), ``probes`` granted and ``successes`` in the current
half-open period, and for each bucket slot ``k`` of the window: ``b{k}`` (the
bucket it holds), ``n{k}`` calls, ``f{k}`` faults and ``s{k}`` slow calls.
Slots are reused as the window slides, so the record never grows.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from seawall.breaker._config import BreakerConfig


class BreakerState(enum.StrEnum):
    """Where the breaker is."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class Snapshot:
    """The record read at ``now_ms``, with the window's totals."""

    state: BreakerState
    open_until: int
    lease_until: int
    probes: int
    successes: int
    calls: int
    faults: int
    slow: int
    fields: Mapping[str, Any]

    @classmethod
    def of(cls, fields: Mapping[str, Any], now_ms: int, config: BreakerConfig) -> Snapshot:
        """Interpret a store's record."""

        def number(name: str, default: int = 0) -> int:
            value = fields.get(name)
            return default if value is None or value == "" else int(value)

        current = now_ms // config.bucket_ms
        calls = faults = slow = 0
        for slot in range(config.slots):
            if current - config.slots < number(f"b{slot}", -1) <= current:
                calls += number(f"n{slot}")
                faults += number(f"f{slot}")
                slow += number(f"s{slot}")
        return cls(
            state=BreakerState(fields.get("state") or BreakerState.CLOSED),
            open_until=number("open_until"),
            lease_until=number("lease_until"),
            probes=number("probes"),
            successes=number("successes"),
            calls=calls,
            faults=faults,
            slow=slow,
            fields=dict(fields),
        )

    def should_trip(self, config: BreakerConfig) -> bool:
        """Whether the window's rates call for opening."""
        if self.state is not BreakerState.CLOSED or self.calls < config.minimum_calls:
            return False
        return self.faults / self.calls >= config.failure_rate or self.slow / self.calls >= config.slow_call_rate

    def slot_holds(self, slot: int, bucket: int) -> bool:
        """Whether slot ``slot`` already counts bucket ``bucket``."""
        value = self.fields.get(f"b{slot}")
        return value is not None and int(value) == bucket

"""``breakers``: each provider's circuit breaker as the fleet shares it; ``breakers close``: force one closed.

The record is read from the breaker's store (DynamoDB's state table or
Upstash, whichever the stack uses), interpreted with the provider's own
breaker configuration: the window's calls and failures, when it opened,
when it lets a call through again.
"""

from __future__ import annotations

import time
from argparse import Namespace
from typing import Any

from ops.errors import OpsError, Refused
from ops.output import Output, Table, timestamp
from ops.providers import find, providers
from ops.target import Target
from seawall.breaker import BreakerState, CircuitBreaker, Snapshot

COLUMNS = ("provider", "state", "calls", "failures", "slow", "opened_at", "retry_after_seconds")


def _row(provider: str, breaker: CircuitBreaker, seen: Snapshot) -> dict[str, Any]:
    now_ms = time.time() * 1000
    opened_at = retry_after = None
    if seen.state is BreakerState.OPEN:
        opened_at = timestamp((seen.open_until - breaker.config.open_seconds * 1000) / 1000)
        retry_after = max(0.0, (seen.open_until - now_ms) / 1000)
    elif seen.state is BreakerState.HALF_OPEN:  # probes are out; the next period starts when their lease ends
        retry_after = max(0.0, (seen.lease_until - now_ms) / 1000)
    return {
        "provider": provider,
        "state": seen.state.value.replace("_", "-"),
        "calls": seen.calls,
        "failures": seen.faults,
        "slow": seen.slow,
        "opened_at": opened_at,
        "retry_after_seconds": retry_after,
        "window_seconds": breaker.config.window_seconds,
    }


def list_breakers(target: Target, args: Namespace) -> Output:
    """``breakers``: every provider's breaker, from its store."""
    rows = [
        _row(provider.name, provider.breaker, provider.breaker.inspect())
        for provider in providers(target)
        if provider.breaker is not None
    ]
    return Output(rows, [Table(COLUMNS, rows)])


def close(target: Target, args: Namespace) -> Output:
    """``breakers close PROVIDER``: closed fleet-wide, its window cleared (``--yes``; without it, what it would do)."""
    provider = find(target, args.provider)
    breaker = provider.breaker
    if breaker is None:
        raise OpsError(f"{provider.name} has no circuit breaker")
    before = _row(provider.name, breaker, breaker.inspect())
    if not args.yes:
        raise Refused(
            f"would close {provider.name}'s circuit breaker (now {before['state']}, {before['failures']} failures"
            f" in the last {before['window_seconds']} s) for every function: all of them call {provider.name} again",
            {"before": before},
        )
    after = _row(provider.name, breaker, breaker.force_close())
    lines = [
        f"{provider.name}'s circuit breaker is closed (it was {before['state']}); every container sees it within"
        f" {breaker.config.state_staleness_seconds:g} s."
    ]
    return Output({"before": before, "after": after}, [Table(COLUMNS, [after]), *lines])

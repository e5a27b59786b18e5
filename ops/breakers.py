"""``breakers``: each provider's circuit breakers as the fleet shares them; ``breakers close``: force closed.

A provider has one breaker, or one per operation (Hotelbeds: ``hotelbeds:search``,
``hotelbeds:booking``, ...): ``breakers close hotelbeds`` closes all of its
breakers, ``breakers close hotelbeds:booking`` that one.

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

COLUMNS = ("provider", "breaker", "state", "calls", "failures", "slow", "opened_at", "retry_after_seconds")


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
        "breaker": breaker.key,
        "state": seen.state.value.replace("_", "-"),
        "calls": seen.calls,
        "failures": seen.faults,
        "slow": seen.slow,
        "opened_at": opened_at,
        "retry_after_seconds": retry_after,
        "window_seconds": breaker.config.window_seconds,
    }


def list_breakers(target: Target, args: Namespace) -> Output:
    """``breakers``: every provider's breakers, from their store."""
    rows = [
        _row(provider.name, breaker, breaker.inspect())
        for provider in providers(target)
        for breaker in provider.breakers.values()
    ]
    return Output(rows, [Table(COLUMNS, rows)])


def close(target: Target, args: Namespace) -> Output:
    """``breakers close NAME``: a provider's breakers, or one (``provider:operation``), closed fleet-wide.

    Their windows are cleared too (``--yes``; without it, what it would do).
    """
    name = args.provider
    provider = find(target, name.split(":", 1)[0])
    breakers = [breaker for key, breaker in provider.breakers.items() if name in (provider.name, key)]
    if not breakers:
        known = ", ".join(provider.breakers) or "none"
        raise OpsError(f"{name} is not a circuit breaker of {provider.name} (its breakers: {known})")
    before = [_row(provider.name, breaker, breaker.inspect()) for breaker in breakers]
    if not args.yes:
        named = len(before) > 1  # several: each says which it is
        states = "; ".join(
            f"{row['breaker'] + ' ' if named else ''}{row['state']}, {row['failures']} failures" for row in before
        )
        raise Refused(
            f"would close {name}'s circuit breaker{'s' if named else ''} (now {states} in the last"
            f" {before[0]['window_seconds']} s) for every function: all of them call {provider.name} again",
            {"before": before[0] if len(before) == 1 else before},
        )
    after = [_row(provider.name, breaker, breaker.force_close()) for breaker in breakers]
    lines = [
        f"{name}'s circuit breaker is closed (it was {', '.join(row['state'] for row in before)}); every container"
        f" sees it within {breakers[0].config.state_staleness_seconds:g} s."
    ]
    if len(breakers) == 1:
        return Output({"before": before[0], "after": after[0]}, [Table(COLUMNS, after), *lines])
    return Output({"before": before, "after": after}, [Table(COLUMNS, after), *lines])

"""``limits``: how much of each provider's rate limits the fleet is using.

Read from the limiter's store without taking a slot (``RateLimiter.usage``),
in the scope the provider's client counts in: Stripe's account-wide
``default``, Hotelbeds' per API key (a hash of it: a new key starts a new
count). A ``fixed`` limit (a daily quota) shows the calls of its current
window; a day marked spent after the provider refused (``exhaust``) reads as
full. A ``sliding`` limit shows the calls its next turn is ahead of now (at
most its burst + 1; the limit when marked spent) and when it is whole again.
"""

from __future__ import annotations

from argparse import Namespace
from typing import Any

from ops.output import Output, Table, timestamp
from ops.providers import providers
from ops.target import Target
from seawall.errors import ConfigError

COLUMNS = ("provider", "scope", "limit", "counted", "window_seconds", "used", "allowed", "resets_at")


def list_limits(target: Target, args: Namespace) -> Output:
    """``limits``: one row per provider and limit."""
    rows: list[dict[str, Any]] = []
    notes = []
    for provider in providers(target):
        if provider.limiter is None:
            continue
        try:
            scope = provider.scope()
        except ConfigError as error:  # the key's secret cannot be read: the other providers are still worth seeing
            notes.append(f"{provider.name}: {error}")
            continue
        rows += [
            {
                "provider": provider.name,
                "scope": scope,
                "limit": usage.limit.name,
                "counted": "fixed" if usage.limit.fixed else "sliding",
                "window_seconds": usage.limit.window_seconds,
                "used": usage.used,
                "allowed": usage.limit.limit,
                "resets_at": timestamp(usage.reset),
            }
            for usage in provider.limiter.usage(scope)
        ]
    return Output(rows, [Table(COLUMNS, rows), *notes])

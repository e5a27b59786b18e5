"""Small provider sandboxes for `make run` and the tests: each speaks its provider's wire format.

A module here that defines ``PROVIDER: LocalProvider`` is a provider of the local stack: `make run` and the
suite find it with :func:`local_providers`, so adding a provider takes that one module.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.httpserver import ServedOnThread


@dataclass(frozen=True)
class LocalProvider:
    """How `make run` and the suite stand in for one provider: its sandbox, its local secrets, its settings."""

    name: str  # "stripe": CLI option --stripe-port, environment variable LOCAL_STRIPE_PORT
    default_port: int
    # template secret logical id -> a fresh test value (what local/secrets.py writes into the local secrets file)
    secrets: Mapping[str, Callable[[], dict[str, Any]]]
    # (secret values by logical id, template parameters, port; 0 = any free port) -> the sandbox, STARTED
    start: Callable[[Mapping[str, Any], Mapping[str, str], int], ServedOnThread]
    # the functions' settings for a running sandbox, e.g. {"ACME_API_BASE": sandbox.url}
    environment: Callable[[Any], dict[str, str]]
    # one line for make run's banner, e.g. "Acme sandbox: http://...  (faults: POST .../_sandbox/faults)"
    describe: Callable[[Any, Mapping[str, str]], str]
    # what the test suite adds to every function's settings: limits its pace never meets
    test_environment: Mapping[str, str] = field(default_factory=dict)
    # (sandbox, gateway base URL, secret values): called once the gateway serves, e.g. to deliver webhooks to it
    connect: Callable[[Any, str, Mapping[str, Any]], None] | None = None


def local_providers() -> list[LocalProvider]:
    """Every module of this package that defines a module-level ``PROVIDER: LocalProvider``, sorted by name."""
    providers = []
    for module in pkgutil.iter_modules(__path__):
        provider = getattr(importlib.import_module(f"{__name__}.{module.name}"), "PROVIDER", None)
        if isinstance(provider, LocalProvider):
            providers.append(provider)
    return sorted(providers, key=lambda provider: provider.name)

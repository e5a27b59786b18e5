"""Each provider of the layer (``seawall/providers/*``), with its breaker and rate limiter as its client has them.

A provider's client (``client.<Name>Gateway``, as ``make provider`` generates
it) builds its breaker and limiter from its settings; building it here, with
the settings a function of the stack runs with, gives the same breaker (its
configuration) and the same limiter (its limits and the scope it counts in)
without repeating either. A provider no function of the stack calls is left
out.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

import seawall.providers
from ops.errors import OpsError
from ops.target import Target
from seawall.breaker import CircuitBreaker
from seawall.ratelimit import RateLimiter

DEFAULT_SCOPE = "default"


@dataclass(frozen=True)
class Provider:
    """A provider as this stack calls it: its breaker, its limiter and the scope its counters are kept under."""

    name: str
    breakers: dict[str, CircuitBreaker]  # by the name of its record: the provider's, or one per operation
    limiter: RateLimiter | None
    gateway: Any

    def scope(self) -> str:
        """The limiter's scope: the client's own (Hotelbeds counts per API key: ``quota_scope``), else the default."""
        quota_scope = getattr(self.gateway, "quota_scope", None)
        return str(quota_scope()) if callable(quota_scope) else DEFAULT_SCOPE


def _gateway_class(package: str) -> type[Any] | None:
    """The provider's client class, if it has one (a provider may only receive webhooks)."""
    if importlib.util.find_spec(f"seawall.providers.{package}.client") is None:
        return None
    module = importlib.import_module(f"seawall.providers.{package}.client")
    found = [
        value
        for name, value in vars(module).items()
        if isinstance(value, type) and name.endswith("Gateway") and value.__module__ == module.__name__
    ]
    return found[0] if len(found) == 1 else None


def _settings_model(gateway: type[Any]) -> type[BaseModel]:
    """The settings model the client is built from: its ``settings`` parameter's type (``<Name>Settings | None``)."""
    hint = typing.get_type_hints(gateway.__init__).get("settings")
    models = [arg for arg in typing.get_args(hint) if isinstance(arg, type) and issubclass(arg, BaseModel)]
    if len(models) != 1:
        raise OpsError(f"{gateway.__name__} takes no settings model: ops cannot build it")
    return models[0]


def providers(target: Target) -> list[Provider]:
    """Every provider of the layer that a function of the stack calls, in name order."""
    found = []
    for package in sorted(info.name for info in pkgutil.iter_modules(seawall.providers.__path__) if info.ispkg):
        name = str(importlib.import_module(f"seawall.providers.{package}").SERVICE)
        gateway_class = _gateway_class(package)
        if gateway_class is None:
            continue
        settings = target.settings(_settings_model(gateway_class))
        if settings is None:
            continue
        gateway = gateway_class(target.state, settings)
        found.append(Provider(name, dict(gateway.call.breakers), gateway.call.limiter, gateway))
    return found


def find(target: Target, name: str) -> Provider:
    """The provider ``name``; an unknown one is an error naming those there are."""
    known = providers(target)
    for provider in known:
        if provider.name == name:
            return provider
    raise OpsError(f"no provider {name!r} in {target.description}; there are: {', '.join(p.name for p in known)}")

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.sandboxes.hotelbeds import HotelbedsSandbox
from local.sandboxes.stripe import StripeSandbox
from seawall.breaker import BreakerConfig
from seawall.providers.hotelbeds.client import OPERATIONS, HotelbedsGateway
from seawall.providers.hotelbeds.settings import HotelbedsSettings
from seawall.providers.stripe.client import StripeGateway
from seawall.providers.stripe.settings import StripeSettings
from seawall.state import SharedState
from tests.conftest import STRIPE_KEY as KEY


@pytest.fixture
def stripe_env(state: SharedState, sandbox: StripeSandbox, put_secret: Any) -> StripeSandbox:
    """The Stripe secret in Secrets Manager (moto) and the sandbox as Stripe, on the state backend.

    The fleet-wide "stripe" breaker starts closed.
    """
    sandbox.secret_name = f"stripe-{uuid.uuid4().hex}"  # type: ignore[attr-defined]
    sandbox.secret_arn = put_secret(sandbox.secret_name, {"api_key": KEY})  # type: ignore[attr-defined]
    reset_breaker(state, "stripe")
    return sandbox


@pytest.fixture
def gateway(state: SharedState, stripe_env: StripeSandbox) -> Callable[..., StripeGateway]:
    """A new container's Stripe client, with settings as the environment would give them."""

    def build(**settings: Any) -> StripeGateway:
        values = {
            "STRIPE_SECRET_ARN": stripe_env.secret_arn,  # type: ignore[attr-defined]
            "STRIPE_API_BASE": stripe_env.url,
            # Stripe's test-mode 25 requests a second would make the tests' pace matter; the limiter has its own.
            "STRIPE_REQUESTS_PER_SECOND": 1000,
            **settings,
        }
        return StripeGateway(state, StripeSettings.model_validate(values))

    return build


def reset_breaker(state: SharedState, provider: str) -> None:
    """Forget a shared breaker record (a provider's, or ``provider:operation``), as if it had never tripped."""
    store: Any = state.circuit_breaker(provider, BreakerConfig()).store
    if state.backend == "dynamodb":
        store.client.delete_item(TableName=store.table, Key={"pk": {"S": f"breaker:{provider}"}})
    else:
        store.client.delete(f"breaker:{provider}")


@pytest.fixture
def hotelbeds() -> Iterator[HotelbedsSandbox]:
    """A sandbox with a key of its own for each test (the key's quota counters are the test's own)."""
    key, secret = f"key-{uuid.uuid4().hex}", uuid.uuid4().hex
    sandbox = HotelbedsSandbox({key: secret}, hotels=60)
    sandbox.key, sandbox.secret = key, secret  # type: ignore[attr-defined]
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def hotelbeds_gateway(
    state: SharedState, hotelbeds: HotelbedsSandbox, put_secret: Any
) -> Callable[..., HotelbedsGateway]:
    """A new container's Hotelbeds client, with settings as the environment would give them."""
    arn = put_secret(
        f"hotelbeds-{uuid.uuid4().hex}",
        {"api_key": hotelbeds.key, "secret": hotelbeds.secret},  # type: ignore[attr-defined]
    )
    for operation in OPERATIONS:
        reset_breaker(state, f"hotelbeds:{operation}")

    def build(**settings: Any) -> HotelbedsGateway:
        values = {
            "HOTELBEDS_SECRET_ARN": arn,
            "HOTELBEDS_API_BASE": hotelbeds.url,
            "HOTELBEDS_REQUESTS_PER_SECOND": 1000,
            "HOTELBEDS_DAILY_QUOTA": 1000,
            **settings,
        }
        return HotelbedsGateway(state, HotelbedsSettings.model_validate(values))

    return build

from __future__ import annotations

import uuid
from typing import Any

import pytest

from local.sandboxes.stripe import StripeSandbox
from seawall.breaker import circuit_breaker
from tests.conftest import STRIPE_KEY as KEY


@pytest.fixture
def stripe_env(backend: str, sandbox: StripeSandbox, put_secret: Any, monkeypatch: pytest.MonkeyPatch) -> StripeSandbox:
    """The Stripe secret in Secrets Manager (moto) and settings pointing at the sandbox, on ``backend``.

    The fleet-wide "stripe" breaker starts closed and the rate limit is out of the way,
    unless a test sets STRIPE_REQUESTS_PER_SECOND itself.
    """
    sandbox.secret_name = f"stripe-{uuid.uuid4().hex}"  # type: ignore[attr-defined]
    arn = put_secret(sandbox.secret_name, {"api_key": KEY, "webhook_secrets": ["whsec_test0000000000"]})  # type: ignore[attr-defined]
    monkeypatch.setenv("STRIPE_SECRET_ARN", arn)
    monkeypatch.setenv("STRIPE_API_BASE", sandbox.url)
    monkeypatch.setenv("STRIPE_REQUESTS_PER_SECOND", "1000")
    reset_breaker("stripe")
    return sandbox


def reset_breaker(provider: str) -> None:
    """Forget the provider's shared breaker record, as if it had never tripped."""
    store = circuit_breaker(provider).store
    if hasattr(store, "table"):
        store.client.delete_item(TableName=store.table, Key={"pk": {"S": f"breaker:{provider}"}})
    else:
        store.client.delete(f"breaker:{provider}")
    circuit_breaker.cache_clear()

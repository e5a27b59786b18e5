"""Both state backends, provisioned from the real template: DynamoDB in moto, Upstash over Valkey.

A pytest plugin (see tests/conftest.py): `state` runs a test once per backend,
with a fresh :class:`SharedState` as a new container would build it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from local.stack import LocalStack
from local.upstash import UpstashEndpoint
from seawall.state import SharedState

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = ("dynamodb", "upstash")
STATE_VARIABLES = ("STATE_BACKEND", "IDEMPOTENCY_TABLE", "STATE_TABLE", "UPSTASH_SECRET_ARN", "STATE_TIMEOUT_MS")


@pytest.fixture(scope="session")
def upstash_endpoint() -> Iterator[UpstashEndpoint]:
    """A real Valkey server behind the local Upstash REST endpoint."""
    endpoint = UpstashEndpoint()
    endpoint.start()
    yield endpoint
    endpoint.stop()


@pytest.fixture(scope="session")
def backend_environments(moto_endpoint: str, upstash_endpoint: UpstashEndpoint) -> dict[str, dict[str, str]]:
    """The state variables a function gets from the template, for each StateBackend."""
    environments = {}
    for backend in BACKENDS:
        stack = LocalStack(
            ROOT / "template.yaml", moto_endpoint, {"StateBackend": backend, "AWS::StackName": f"state-{backend}"}
        )
        stack.provision({"UpstashSecret": {"url": upstash_endpoint.url, "token": upstash_endpoint.token}})
        environment = stack.environment_of(stack.spec("HealthFunction"))
        environments[backend] = {name: environment[name] for name in STATE_VARIABLES if name in environment}
    return environments


@pytest.fixture(params=BACKENDS)
def state(
    request: pytest.FixtureRequest, backend_environments: dict[str, dict[str, str]], upstash_endpoint: UpstashEndpoint
) -> Iterator[SharedState]:
    """The shared state a new container would build, once per backend, configured as the template configures it."""
    upstash_endpoint.delay, upstash_endpoint.drop_answers = 0.0, 0
    yield SharedState.from_env(backend_environments[request.param])
    upstash_endpoint.delay, upstash_endpoint.drop_answers = 0.0, 0


@pytest.fixture
def store_at(state: SharedState, put_secret: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], SharedState]:
    """A container whose backend's store is at another address (a dead port, a slow server)."""

    def point(url: str) -> SharedState:
        if state.backend == "dynamodb":
            monkeypatch.setenv("AWS_ENDPOINT_URL", url)
            return SharedState(state.settings)
        arn = put_secret(f"upstash-at-{uuid.uuid4().hex}", {"url": url, "token": "token-for-elsewhere"})
        return SharedState(state.settings.model_copy(update={"upstash_secret": arn}))

    return point

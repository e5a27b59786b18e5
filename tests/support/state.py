"""Both state backends, provisioned from the real template: DynamoDB in moto, Upstash over Valkey.

A pytest plugin (see tests/conftest.py): `backend` runs a test once per backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from local.stack import LocalStack
from local.upstash import UpstashEndpoint
from seawall.breaker import circuit_breaker
from seawall.idempotency import persistence_layer
from seawall.state import dynamodb_client, state_settings, upstash_client

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = ("dynamodb", "upstash")
_STATE_VARIABLES = ("STATE_BACKEND", "IDEMPOTENCY_TABLE", "STATE_TABLE", "UPSTASH_SECRET_ARN", "STATE_TIMEOUT_MS")


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
        environment = stack.function("HealthFunction").environment
        environments[backend] = {name: environment[name] for name in _STATE_VARIABLES if name in environment}
    return environments


def clear_state_caches() -> None:
    for cached in (state_settings, dynamodb_client, upstash_client, persistence_layer, circuit_breaker):
        cached.cache_clear()


@pytest.fixture(params=BACKENDS)
def backend(
    request: pytest.FixtureRequest,
    backend_environments: dict[str, dict[str, str]],
    upstash_endpoint: UpstashEndpoint,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """Run the test once per backend, configured exactly as the template configures functions."""
    name: str = request.param
    for variable in _STATE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    for variable, value in backend_environments[name].items():
        monkeypatch.setenv(variable, value)
    clear_state_caches()
    upstash_endpoint.delay, upstash_endpoint.drop_answers = 0.0, 0
    yield name
    upstash_endpoint.delay, upstash_endpoint.drop_answers = 0.0, 0
    clear_state_caches()

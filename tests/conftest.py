"""Fixtures shared by every test: a real moto server, AWS pointed at it, no backoff sleeps."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, settings

# The layer's logger, metrics and tracer read these when first imported (at collection).
os.environ.update(
    {
        "STAGE": "test",
        "POWERTOOLS_SERVICE_NAME": "integrations-test",
        "POWERTOOLS_METRICS_NAMESPACE": "IntegrationsTest",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
)

from local.aws import MotoServer, client_environment
from local.sandboxes.stripe import StripeSandbox
from seawall.observability._redaction import clear_registered_secrets
from seawall.retry import _policy as retry_policy
from tests.support.http_server import ProviderServer

# Both state backends (`state`), and the real template running locally (`project_stack`, `api`, `pipeline`).
pytest_plugins = ["tests.support.state", "tests.support.stack"]

# The model-based tests' long run (`pytest tests/model --hypothesis-profile=long`, docs/benchmarks.md).
settings.register_profile(
    "long",
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's access log would drown what a test shows


STRIPE_KEY = "sk_test_sandbox0000000001"


@pytest.fixture
def sandbox() -> Iterator[StripeSandbox]:
    """A Stripe sandbox accepting STRIPE_KEY."""
    server = StripeSandbox({STRIPE_KEY})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def provider() -> Iterator[ProviderServer]:
    """A scripted provider over real HTTP."""
    with ProviderServer().running() as server:
        yield server


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server (real HTTP on 127.0.0.1) for the whole run, with local IAM and outages on demand."""
    server = MotoServer(port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def moto_endpoint(moto_server: MotoServer) -> str:
    """The moto server's URL."""
    return moto_server.endpoint


@pytest.fixture(autouse=True)
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every AWS SDK call in a test goes to moto."""
    for name, value in client_environment(moto_endpoint).items():
        monkeypatch.setenv(name, value)
    return moto_endpoint


@pytest.fixture(autouse=True)
def _isolation(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No backoff sleeps in this process (the loop, stops and budget still apply); no secret values one test
    registered for redaction masking another's."""
    monkeypatch.setattr(retry_policy, "_sleep", lambda seconds: None)
    yield
    clear_registered_secrets()


@pytest.fixture
def secretsmanager(aws: str) -> Any:
    """A Secrets Manager client on moto."""
    return boto3.client("secretsmanager", endpoint_url=aws)


@pytest.fixture
def put_secret(secretsmanager: Any, request: pytest.FixtureRequest) -> Any:
    """Create (or overwrite) a secret in moto holding ``value`` as JSON (or raw text); returns its ARN."""
    created: list[str] = []

    def put(name: str, value: Any) -> str:
        text = value if isinstance(value, str) else json.dumps(value)
        try:
            arn: str = secretsmanager.create_secret(Name=name, SecretString=text)["ARN"]
            created.append(arn)
        except secretsmanager.exceptions.ResourceExistsException:
            arn = secretsmanager.put_secret_value(SecretId=name, SecretString=text)["ARN"]
        return arn

    yield put
    for arn in created:
        secretsmanager.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects among captured output lines (structured logs and EMF metrics)."""
    found = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


class LogCapture:
    """What the layer's logger wrote, through its real (redacting) formatter."""

    def __init__(self, stream: io.StringIO) -> None:
        self._stream = stream

    @property
    def text(self) -> str:
        """Everything written so far."""
        return self._stream.getvalue()

    def records(self) -> list[dict[str, Any]]:
        """Each line as its JSON object."""
        return json_lines(self.text)


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    """Point the layer logger's handler at a buffer for the test."""
    from seawall.observability._logging import logger

    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield LogCapture(buffer)
    handler.setStream(previous)

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from local.stack import LocalStack

FIXTURE = Path(__file__).parent / "fixture" / "template.yaml"
SECRET = {"fixture_key": "local-fixture-secret-value"}


@pytest.fixture(scope="session")
def fixture_stack(moto_endpoint: str) -> Iterator[LocalStack]:
    """The fixture template provisioned once per run in moto (names are unique to it)."""
    stack = LocalStack(FIXTURE, moto_endpoint)
    stack.provision({"Secret": SECRET})
    yield stack
    stack.stop()

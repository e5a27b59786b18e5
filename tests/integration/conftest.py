from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.http_server import ProviderServer


@pytest.fixture
def provider() -> Iterator[ProviderServer]:
    """A scripted provider over real HTTP."""
    with ProviderServer().running() as server:
        yield server

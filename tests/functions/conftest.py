from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.gateway import Gateway
from local.sandboxes.stripe import StripeSandbox
from local.secrets import ensure_secrets_file
from local.stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def seeded_secrets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Fresh test values for every secret of the real template, as `make run` makes them."""
    from local.template import Template

    names = list(Template(ROOT / "template.yaml").of_type("AWS::SecretsManager::Secret"))
    return ensure_secrets_file(tmp_path_factory.mktemp("local") / "secrets.json", names)


@pytest.fixture(scope="session")
def stripe_sandbox(seeded_secrets: dict[str, Any]) -> Iterator[StripeSandbox]:
    """The Stripe sandbox, accepting the seeded Stripe key, as `make run` starts it."""
    sandbox = StripeSandbox({seeded_secrets["StripeSecret"]["api_key"]})
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="session")
def project_stack(moto_endpoint: str, seeded_secrets: dict[str, Any], stripe_sandbox: StripeSandbox) -> LocalStack:
    """The real template's resources in moto, its functions ready to invoke in-process."""
    # Stripe's test-mode 25 requests a second would make the suite's pace matter; the limiter has its own tests.
    environment = {"STRIPE_API_BASE": stripe_sandbox.url, "STRIPE_REQUESTS_PER_SECOND": "1000"}
    stack = LocalStack(ROOT / "template.yaml", moto_endpoint, environment=environment)
    stack.provision(seeded_secrets)
    return stack


@pytest.fixture(scope="session")
def api(project_stack: LocalStack) -> Iterator[str]:
    """The local gateway over the real template, on a free port."""
    gateway = Gateway(project_stack, port=0)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{gateway.port}"
    gateway.shutdown()


@pytest.fixture(autouse=True)
def _fresh_settings() -> None:
    """Functions share this interpreter with other tests: their cold start must read their own environment."""
    from seawall.config.settings import core_settings
    from tests.support.state import clear_state_caches

    core_settings.cache_clear()
    clear_state_caches()

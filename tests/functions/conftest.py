from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

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
def project_stack(moto_endpoint: str, seeded_secrets: dict[str, Any]) -> LocalStack:
    """The real template's resources in moto, its functions ready to invoke in-process."""
    stack = LocalStack(ROOT / "template.yaml", moto_endpoint)
    stack.provision(seeded_secrets)
    return stack

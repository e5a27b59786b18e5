"""The git-ignored file of local test secrets, made on first run with fresh random values."""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local.sandboxes import local_providers

# Test values for the template's secrets that are no local provider's (each provider brings its own), by logical id.
_GENERATORS: dict[str, Callable[[], dict[str, Any]]] = {
    "StandardWebhooksSecret": lambda: {
        "providers": {"acme": [f"whsec_{base64.b64encode(secrets.token_bytes(24)).decode()}"]}
    },
    # The URL is the local Upstash endpoint's, filled in when the stack starts.
    "UpstashSecret": lambda: {"token": secrets.token_urlsafe(24)},
}


def ensure_secrets_file(path: Path, secret_names: list[str]) -> dict[str, Any]:
    """Load ``path``, adding test values for any secret it lacks; the file is readable by its owner only."""
    generators = _GENERATORS | {name: make for provider in local_providers() for name, make in provider.secrets.items()}
    values: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    missing = [name for name in secret_names if name not in values and name in generators]
    if missing or not path.exists():
        for name in missing:
            values[name] = generators[name]()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2) + "\n")
        os.chmod(path, 0o600)
    return values

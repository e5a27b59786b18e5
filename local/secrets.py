"""The git-ignored file of local test secrets, made on first run with fresh random values."""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Test values for each provider secret of the template, by logical id.
_GENERATORS: dict[str, Callable[[], dict[str, Any]]] = {
    "StripeSecret": lambda: {"api_key": f"sk_test_local{secrets.token_hex(12)}"},
    "StripeWebhookSecret": lambda: {
        "webhook_secrets": [f"whsec_{base64.b64encode(secrets.token_bytes(24)).decode()}"],
    },
    "HotelbedsSecret": lambda: {"api_key": secrets.token_hex(16), "secret": secrets.token_hex(8)},
    "StandardWebhooksSecret": lambda: {
        "providers": {"acme": [f"whsec_{base64.b64encode(secrets.token_bytes(24)).decode()}"]}
    },
    # The URL is the local Upstash endpoint's, filled in when the stack starts.
    "UpstashSecret": lambda: {"token": secrets.token_urlsafe(24)},
}


def ensure_secrets_file(path: Path, secret_names: list[str]) -> dict[str, Any]:
    """Load ``path``, adding test values for any secret it lacks; the file is readable by its owner only."""
    values: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    missing = [name for name in secret_names if name not in values and name in _GENERATORS]
    if missing or not path.exists():
        for name in missing:
            values[name] = _GENERATORS[name]()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2) + "\n")
        os.chmod(path, 0o600)
    return values

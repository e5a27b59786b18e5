"""API Gateway proxy events for tests, built from the committed sample event."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

_SAMPLE = json.loads((Path(__file__).resolve().parents[2] / "events" / "health" / "get.json").read_text())


def api_event(method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A REST API proxy event for ``method path`` (resource = path: tests route on literal paths)."""
    event = copy.deepcopy(_SAMPLE)
    event.update({"httpMethod": method, "path": path, "resource": path, "body": body})
    event["requestContext"].update({"httpMethod": method, "resourcePath": path, "path": f"/dev{path}"})
    for name, value in (headers or {}).items():
        event["headers"][name] = value
        event["multiValueHeaders"][name] = [value]
    return event

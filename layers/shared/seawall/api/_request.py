"""What an API action reads of its API Gateway (REST, proxy) event, and the checks before any parsing."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Deeper than any request of ours; far below the depth at which a JSON parser runs out of stack.
MAX_JSON_DEPTH = 64


@dataclass(frozen=True)
class Request:
    """The request an action answers: method, path, headers (names lower-cased), raw body and the event."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    event: Mapping[str, Any]

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Request:
        """The request in a REST API proxy event (a body that is not base64 when it says so is not UTF-8 either)."""
        body = raw_body(event)
        return cls(
            method=str(event.get("httpMethod") or "GET").upper(),
            path=str(event.get("path") or "/"),
            headers={str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()},
            body=b"\xff" if body is None else body,  # not base64 either: certainly not UTF-8 JSON
            event=event,
        )

    def header_values(self, name: str) -> list[str]:
        """Every value the request sent for the header ``name`` (any case), in order."""
        wanted = name.lower()
        multi = self.event.get("multiValueHeaders") or {}
        values = [str(value) for key, sent in multi.items() if str(key).lower() == wanted for value in sent or ()]
        return values or ([self.headers[wanted]] if wanted in self.headers else [])

    @property
    def request_id(self) -> str | None:
        """API Gateway's request id (problems carry it, so a caller can quote it)."""
        return str((self.event.get("requestContext") or {}).get("requestId") or "") or None

    @property
    def is_json(self) -> bool:
        """Whether the body is declared as JSON (no Content-Type counts as JSON)."""
        media_type = self.headers.get("content-type", "application/json").split(";", 1)[0].strip().lower()
        return media_type == "application/json"


def raw_body(event: Mapping[str, Any]) -> bytes | None:
    """The body exactly as sent (API Gateway base64-encodes binary media types); ``None`` when it is not base64."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return None
    return str(body).encode("utf-8", errors="surrogatepass")  # what was sent, even if it is not UTF-8


def too_deep(text: str) -> bool:
    """Whether the JSON text opens more than MAX_JSON_DEPTH arrays or objects at once (strings skipped).

    Counted, not parsed: a parser would raise RecursionError (a 500) before saying so. Most bodies open
    fewer brackets in all than the limit, which two C-speed counts tell without a walk in Python.
    """
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False

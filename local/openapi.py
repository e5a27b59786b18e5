"""The API's OpenAPI document, generated from the handlers themselves (Powertools' schema of each resolver).

Usage: python -m local.openapi > docs/openapi.json   (make openapi)
A test fails when docs/openapi.json drifts from what the handlers declare.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from local.stack import LocalStack
from local.state import ROOT

TITLE = "Integrations API"
VERSION = "1.0.0"
# API Gateway's AWS_IAM authorization: requests are signed with SigV4 for execute-api.
SIGV4 = {
    "type": "apiKey",
    "name": "Authorization",
    "in": "header",
    "description": "AWS Signature Version 4 (service execute-api), as API Gateway's AWS_IAM authorization checks",
}


PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details; extension members may follow",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "request_id": {"type": "string"},
    },
    "additionalProperties": True,
}
ERRORS = {
    "400": "Malformed body or missing Idempotency-Key",
    "403": "Not authenticated (SigV4)",
    "404": "No such route or object",
    "405": "Method not allowed (see Allow)",
    "409": "Idempotency conflict",
    "413": "Body over 256 KB",
    "422": "Validation failed (field errors in `errors`)",
    "429": "Rate limited (see Retry-After)",
    "500": "Internal error",
    "502": "The provider failed",
    "503": "The provider's circuit is open (see Retry-After)",
    "504": "The provider or the deadline ran out",
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "The caller's key for this request; a retry with the same key and body gets the first answer",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
}


def _document_errors(operation: dict[str, Any], method: str, secured: bool) -> None:
    """Every operation answers errors as problem+json; the API actions' POSTs take an Idempotency-Key."""
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    operation["responses"] = {
        **{status: {"description": text, "content": problem} for status, text in ERRORS.items()},
        **{status: answer for status, answer in operation["responses"].items() if not status.startswith(("4", "5"))},
    }
    if secured and method == "post":
        operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)


def build(stack: LocalStack) -> dict[str, Any]:
    """One document for every function with API routes; IAM routes require SigV4."""
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION},
        "paths": {},
        "components": {"schemas": {"Problem": PROBLEM}, "securitySchemes": {"sigv4": SIGV4}},
    }
    for spec in stack.template.functions():
        if not spec.routes:
            continue
        app = getattr(stack.function(spec.name).module, "app", None)
        if app is None:
            continue
        schema = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION))
        schemas = schema.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
            schemas.pop(unused, None)  # Powertools' error shapes: ours is Problem
        document["components"]["schemas"].update(schemas)
        secured = {route.path for route in spec.routes if route.authorized}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                _document_errors(operation, method, path in secured)
                if path in secured:
                    operation["security"] = [{"sigv4": []}]
            document["paths"].setdefault(path, {}).update(operations)
    document["paths"] = dict(sorted(document["paths"].items()))
    document["components"]["schemas"] = dict(sorted(document["components"]["schemas"].items()))
    return document


def render(document: dict[str, Any]) -> str:
    """The document as committed: indented, keys in a stable order."""
    return json.dumps(document, indent=2) + "\n"


if __name__ == "__main__":
    # Importing the handlers needs no AWS: nothing is called at import, only clients are built.
    sys.stdout.write(render(build(LocalStack(ROOT / "template.yaml", "http://127.0.0.1:9"))))

"""The API's OpenAPI document, generated from the handlers themselves (Powertools' schema of each resolver).

Usage: python -m local.openapi > docs/openapi.json   (make openapi)
A test fails when docs/openapi.json drifts from what the handlers declare.
"""

from __future__ import annotations

import json
import subprocess
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


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "The caller's key for this request; a retry with the same key and body gets the first answer",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
}


# What API Gateway answers itself, in the same problem+json shape as the functions (template.yaml's responses).
GATEWAY = {
    "403": "Not authenticated (SigV4)",
    "429": "Rate limited: the API's, ours or the provider's (see Retry-After)",
}


# What an HTTP API (the public webhook routes) answers when its stage throttles: its own body, not problem+json.
HTTP_API_THROTTLED = {
    "application/json": {
        "schema": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}
    }
}


# A POST that changes nothing (a search) says so with this extension; it takes no Idempotency-Key.
SAFE = "x-safe"


def _document_gateway(operation: dict[str, Any], method: str, secured: bool, http: bool) -> None:
    """What API Gateway adds to each operation: 429 from stage throttling, 403 on IAM routes; IAM POSTs take a key.

    The functions declare the rest (``seawall.api.problem_responses``; every operation may answer 500).
    An HTTP API's (``http``) throttling answers in its own JSON, beside the function's problem+json.
    """
    safe = operation.pop(SAFE, False)
    problem = operation["responses"]["500"]["content"]
    added = {
        status: {"description": text, "content": problem}
        for status, text in GATEWAY.items()
        if secured or status == "429"
    }
    declared = operation["responses"]
    if http:
        throttled = declared.get("429", added["429"])
        added["429"] = {**throttled, "content": {**throttled["content"], **HTTP_API_THROTTLED}}
    responses = {**declared, **added} if http else {**added, **declared}
    operation["responses"] = dict(sorted(responses.items()))
    if secured and method == "post" and not safe:
        operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)


def build(stack: LocalStack) -> dict[str, Any]:
    """One document for every function with API routes; IAM routes require SigV4."""
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {"sigv4": SIGV4}},
    }
    for spec in stack.template.functions():
        if not spec.routes:
            continue
        config = stack.function(spec.name).config
        described = subprocess.run(
            config.command("--openapi"),
            cwd=ROOT,
            env=config.process_environment(),
            capture_output=True,
            text=True,
            check=True,
        )
        schema = json.loads(described.stdout)
        schemas = schema.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
            schemas.pop(unused, None)  # Powertools' error shapes: ours is Problem
        document["components"]["schemas"].update(schemas)
        secured = {route.path for route in spec.routes if route.authorized}
        http = {route.path for route in spec.routes if route.api == "http"}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                _document_gateway(operation, method, path in secured, path in http)
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

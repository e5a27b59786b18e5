"""docs/openapi.json is what the handlers declare; a change to either without the other fails here."""

from __future__ import annotations

from local.openapi import build, render
from local.stack import LocalStack
from tests.functions.conftest import ROOT


def test_the_committed_openapi_document_matches_the_handlers(project_stack: LocalStack) -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text()
    assert render(build(project_stack)) == committed, "docs/openapi.json is stale: run `make openapi`"


def test_every_iam_route_requires_sigv4_and_every_action_post_an_idempotency_key(project_stack: LocalStack) -> None:
    document = build(project_stack)
    iam = {route.path for route in project_stack.routes() if route.authorized}
    assert iam >= {"/customers", "/customers/{customer_id}", "/payment-intents"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["responses"]["422"]["content"].keys() == {"application/problem+json"}
            assert ("security" in operation) is (path in iam)
            takes_key = any(parameter["name"] == "Idempotency-Key" for parameter in operation.get("parameters", []))
            assert takes_key is (path in iam and method == "post")

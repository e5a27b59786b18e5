"""docs/openapi.json is what the handlers declare; a change to either without the other fails here."""

from __future__ import annotations

from typing import Any

import pytest

from local.openapi import build, render
from local.stack import LocalStack
from tests.support.stack import ROOT

# What each operation can answer, and nothing more (schemathesis holds the running API to it).
STATUSES = {
    ("get", "/health"): {"200", "429", "500"},
    ("post", "/customers"): {"201", "400", "403", "409", "413", "415", "422", "429", "500", "502", "503", "504"},
    ("get", "/customers/{customer_id}"): {"200", "403", "404", "422", "429", "500", "502", "503", "504"},
    ("post", "/payment-intents"): {
        *("201", "400", "402", "403", "409", "413", "415", "422", "429", "500", "502", "503", "504"),
    },
    ("post", "/hotels/availability"): {
        *("200", "400", "403", "413", "415", "422", "429", "500", "502", "503", "504"),
    },
    ("post", "/hotel-bookings"): {
        *("202", "400", "403", "409", "413", "415", "422", "429", "500", "502", "503", "504"),
    },
    ("get", "/hotel-bookings/{booking_id}"): {"200", "403", "404", "422", "429", "500", "503", "504"},
    ("delete", "/hotel-bookings/{booking_id}"): {
        *("200", "403", "404", "409", "422", "429", "500", "502", "503", "504"),
    },
    ("post", "/webhooks/stripe"): {"200", "400", "413", "429", "500", "502", "503", "504"},
    ("post", "/webhooks/{provider}"): {"200", "400", "404", "413", "429", "500", "502", "503", "504"},
}


@pytest.fixture(scope="module")
def document(project_stack: LocalStack) -> dict[str, Any]:
    """The document built from the handlers now (each function loaded in a process of its own)."""
    return build(project_stack)


def test_the_committed_openapi_document_matches_the_handlers(document: dict[str, Any]) -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text()
    assert render(document) == committed, "docs/openapi.json is stale: run `make openapi`"


def test_each_operation_lists_the_statuses_it_can_answer(document: dict[str, Any]) -> None:
    listed = {
        (method, path): set(operation["responses"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    assert listed == STATUSES


def test_every_iam_route_requires_sigv4_and_every_action_post_an_idempotency_key(
    project_stack: LocalStack, document: dict[str, Any]
) -> None:
    iam = {route.path for route in project_stack.routes() if route.authorized}
    assert iam >= {
        *("/customers", "/customers/{customer_id}", "/payment-intents"),
        *("/hotels/availability", "/hotel-bookings", "/hotel-bookings/{booking_id}"),
    }
    # The webhook routes' HTTP API throttles with a JSON body of its own, beside the function's problem+json.
    http = {route.path for route in project_stack.routes() if route.api == "http"}
    assert http == {"/webhooks/stripe", "/webhooks/{provider}"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                gateway = {"application/json"} if path in http and status == "429" else set()
                assert status[0] not in "45" or answer["content"].keys() == {"application/problem+json", *gateway}
            assert ("security" in operation) is (path in iam)
            takes_key = any(parameter["name"] == "Idempotency-Key" for parameter in operation.get("parameters", []))
            creates = method == "post" and path != "/hotels/availability"  # a search changes nothing
            assert takes_key is (path in iam and creates)

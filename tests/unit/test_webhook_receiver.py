"""A webhook receiver's one route without Powertools' event handler: its answers, and its OpenAPI entry."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from seawall.errors import WebhookVerificationError
from seawall.problems import MAX_BODY_BYTES, Problem, ProblemError
from seawall.webhooks.receiver import Delivery, WebhookReceiver

LAYER = Path(__file__).resolve().parents[2] / "layers" / "shared"


def delivery_event(body: str, **extra: Any) -> dict[str, Any]:
    return {
        "body": body,
        "headers": {"Webhook-Signature": "v1,abc", "Content-Type": "application/json"},
        "pathParameters": {"provider": "acme"},
        "requestContext": {"requestId": "req-1"},
        **extra,
    }


def receiver_raising(error: Exception | None, seen: list[Delivery]) -> WebhookReceiver:
    receiver = WebhookReceiver("/webhooks/<provider>", responses={200: {"description": "Verified and queued"}})

    @receiver.post
    def receive(delivery: Delivery) -> None:
        seen.append(delivery)
        if error is not None:
            raise error

    return receiver


def test_a_delivery_is_read_as_sent_and_acknowledged() -> None:
    seen: list[Delivery] = []
    body = base64.b64encode(b'{"id":"evt_1"}').decode()
    answer = receiver_raising(None, seen).resolve(delivery_event(body, isBase64Encoded=True), None)
    assert (answer["statusCode"], json.loads(answer["body"])) == (200, {"received": True})
    assert answer["multiValueHeaders"]["Content-Type"] == ["application/json"]
    assert seen == [
        Delivery(
            b'{"id":"evt_1"}',
            {"webhook-signature": "v1,abc", "content-type": "application/json"},
            {"provider": "acme"},
            "req-1",
        )
    ]


def test_refusals_and_failures_are_problem_json_with_the_request_id() -> None:
    cases = [
        (WebhookVerificationError("acme", "no match", reason="no-match"), 400, "invalid-signature"),
        (ProblemError(Problem(404, "http", "no such webhook provider")), 404, "http"),
        (RuntimeError("a bug"), 500, "internal"),
    ]
    for error, status, slug in cases:
        answer = receiver_raising(error, []).resolve(delivery_event("{}"), None)
        body = json.loads(answer["body"])
        assert (answer["statusCode"], body["type"], body["request_id"]) == (
            status,
            f"urn:seawall:problem:{slug}",
            "req-1",
        )
        assert answer["multiValueHeaders"]["Content-Type"] == ["application/problem+json"]
        assert "a bug" not in answer["body"]


def test_a_body_over_the_limit_is_refused_before_the_receive_function_runs() -> None:
    seen: list[Delivery] = []
    answer = receiver_raising(None, seen).resolve(delivery_event("x" * (MAX_BODY_BYTES + 1)), None)
    assert answer["statusCode"] == 413
    assert seen == []


def test_the_openapi_entry_names_the_path_parameter_and_the_receive_function() -> None:
    schema = json.loads(receiver_raising(None, []).get_openapi_json_schema(title="t", version="1"))
    operation = schema["paths"]["/webhooks/{provider}"]["post"]
    assert operation["operationId"] == "receive_webhooks__provider__post"
    assert [parameter["name"] for parameter in operation["parameters"]] == ["provider"]


def test_the_receiver_loads_no_powertools_event_handler() -> None:
    code = "import sys, seawall.webhooks.receiver; print('aws_lambda_powertools.event_handler' in sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", code], env={"PYTHONPATH": str(LAYER)}, capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "False"


def test_what_api_gateway_never_sends_is_answered_not_raised() -> None:
    seen: list[Delivery] = []
    receiver = receiver_raising(None, seen)
    bad_base64 = receiver.resolve(delivery_event("%%%not base64", isBase64Encoded=True), None)
    assert (bad_base64["statusCode"], json.loads(bad_base64["body"])["type"]) == (400, "urn:seawall:problem:malformed")
    wrong_method = receiver.resolve(delivery_event("{}", httpMethod="GET"), None)
    assert (wrong_method["statusCode"], wrong_method["multiValueHeaders"]["Allow"]) == (405, ["POST"])
    assert seen == []
    lone_surrogate = receiver.resolve({"body": "\udcff", "headers": None}, None)
    assert lone_surrogate["statusCode"] == 200
    assert seen[0].payload == b"\xed\xb3\xbf"  # the bytes as sent, not re-encoded
    assert seen[0].request_id  # a correlation id for the queue, although the event had none

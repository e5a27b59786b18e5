"""The Stripe webhook receiver: verified deliveries reach SQS as they were sent; nothing else does."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import boto3
import httpx
import pytest
import stripe

from local.sign import sign_stripe_event
from local.stack import LocalStack
from seawall.errors import IntegrationError
from seawall.errors.problem import problem_for
from seawall.webhooks import WebhookInbox
from tests.conftest import json_lines
from tests.functions.conftest import ROOT

SAMPLE = json.loads((ROOT / "events" / "stripe_webhook" / "payment_intent_succeeded.json").read_text())


@pytest.fixture
def queue(project_stack: LocalStack, moto_endpoint: str) -> Any:
    """Drain the events queue before the test; returns a reader of what arrives."""
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint)
    url = project_stack.template.physical["StripeEventsQueue"]["QueueUrl"]

    def received() -> list[dict[str, Any]]:
        """Everything waiting in the queue, taken off it."""
        taken: list[dict[str, Any]] = []
        while batch := sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", []):
            taken += batch
            for message in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return taken

    received()  # start empty
    return received


def deliver(api: str, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return httpx.post(f"{api}/webhooks/stripe", content=body, headers=headers, timeout=30)


def signing_secret(seeded_secrets: dict[str, Any]) -> str:
    secret: str = seeded_secrets["StripeSecret"]["webhook_secrets"][0]
    return secret


def test_a_verified_delivery_is_queued_byte_for_byte(api: str, seeded_secrets: dict[str, Any], queue: Any) -> None:
    body = SAMPLE["body"].encode()
    signature = stripe.WebhookSignature.generate_signature_header(
        SAMPLE["body"], signing_secret(seeded_secrets), int(time.time())
    )
    response = deliver(api, body, signature)
    assert (response.status_code, response.json()) == (200, {"received": True})
    (message,) = queue()
    assert message["Body"].encode() == body
    assert message["MessageAttributes"]["provider"]["StringValue"] == "stripe"
    assert message["MessageAttributes"]["correlation_id"]["StringValue"]


@pytest.mark.parametrize(
    ("body", "signature"),
    [
        (b"", "t=1,v1=00"),
        (b"not json at all", None),
        (b"\xff\xfe binary", "t=1,v1=00"),
        (json.dumps({"id": "evt_1", "type": "charge.refunded"}).encode(), "t=1795716000,v1=" + "0" * 64),
    ],
)
def test_unverified_deliveries_get_400_and_are_not_queued(
    api: str, queue: Any, body: bytes, signature: str | None
) -> None:
    response = deliver(api, body, signature)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "the webhook could not be verified"  # nothing about why
    assert queue() == []


def test_a_base64_body_from_api_gateway_is_verified_over_its_bytes(
    project_stack: LocalStack, seeded_secrets: dict[str, Any], queue: Any
) -> None:
    event = sign_stripe_event(SAMPLE, signing_secret(seeded_secrets))
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    response = project_stack.function("StripeWebhookFunction").invoke(event)
    assert response["statusCode"] == 200
    (message,) = queue()
    assert message["Body"] == SAMPLE["body"]


def test_an_oversized_delivery_is_refused_with_413_and_counted(
    project_stack: LocalStack, queue: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    event = sign_stripe_event(SAMPLE, "whsec_anything0000000000")
    event["body"] = "{" + " " * (300 * 1024) + "}"
    response = project_stack.function("StripeWebhookFunction").invoke(event)
    assert response["statusCode"] == 413
    assert queue() == []
    assert any("RequestTooLarge" in line for line in json_lines(capfd.readouterr().out))


class BrokenSQS:
    def send_message(self, **_: Any) -> dict[str, str]:
        raise ConnectionError("SQS unreachable")


def test_a_queue_that_cannot_be_reached_answers_5xx_so_stripe_retries() -> None:
    with pytest.raises(IntegrationError) as caught:
        WebhookInbox("stripe", "https://sqs.invalid/queue", BrokenSQS()).put(b"{}", "req-1")
    assert caught.value.retryable
    assert problem_for(caught.value).status >= 500

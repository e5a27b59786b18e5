"""The Stripe webhook receiver over HTTP: verified events reach SQS as they were sent; nothing else does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx
import pytest
import stripe

from local.aws import MotoServer, aws_client
from local.sandboxes.stripe import FIXTURES
from local.sign import sign_stripe_event
from local.stack import LocalStack
from tests.support.stack import ROOT, IsolatedStack

SAMPLE = json.loads((ROOT / "events" / "stripe" / "stripe_webhook" / "payment_intent_succeeded.json").read_text())


@pytest.fixture
def queue(project_stack: LocalStack, moto_endpoint: str) -> Any:
    """Drain the events queue before the test; returns a reader of what arrives."""
    sqs = aws_client("sqs", moto_endpoint)
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
    headers: dict[str, str | bytes] = {"Content-Type": "application/json; charset=utf-8"}
    if signature is not None:
        try:  # as a hostile client may send it: the gateway reads header bytes as ISO-8859-1, as HTTP says
            headers["Stripe-Signature"] = signature.encode("latin-1")
        except UnicodeEncodeError:
            headers["Stripe-Signature"] = signature.encode()
    return httpx.post(f"{api}/webhooks/stripe", content=body, headers=headers, timeout=30)


def signing_secret(seeded_secrets: dict[str, Any]) -> str:
    secret: str = seeded_secrets["StripeWebhookSecret"]["webhook_secrets"][0]
    return secret


def sign(body: bytes, secret: str) -> str:
    """Stripe-Signature for ``body``: Stripe's own signer, or its scheme over raw bytes where those are not text."""
    try:
        return stripe.WebhookSignature.generate_signature_header(body.decode(), secret, int(time.time()))
    except UnicodeDecodeError:
        stamp = int(time.time())
        return f"t={stamp},v1={hmac.new(secret.encode(), f'{stamp}.'.encode() + body, hashlib.sha256).hexdigest()}"


def test_a_verified_delivery_is_queued_byte_for_byte(api: str, seeded_secrets: dict[str, Any], queue: Any) -> None:
    body = SAMPLE["body"].encode()
    response = deliver(api, body, sign(body, signing_secret(seeded_secrets)))
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
        (SAMPLE["body"].encode(), "t=²,v1=" + "0" * 64),  # a digit to str.isdigit(), not to int()
        (SAMPLE["body"].encode(), "t=①②③,v1=" + "0" * 64),
        (SAMPLE["body"].encode(), "t=1795716000,v1=é"),
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


def _event(kind: str, obj: Any) -> bytes:
    return json.dumps(
        {"id": "evt_odd", "object": "event", "type": kind, "created": 1, "data": {"object": obj}}
    ).encode()


CUSTOMER, INTENT, CHARGE = (json.loads(json.dumps(FIXTURES[name])) for name in ("customer", "payment_intent", "charge"))
NOT_EVENTS = {
    "empty": b"",
    "not json": b"not json",
    "not an event": b'{"foo": 1}',
    "array": b"[1, 2]",
    "null": b"null",
    "binary": b"\xff\xfe binary",
    "no type or data": b'{"id": "evt_1", "object": "event"}',
    # Handled types whose object is not what Stripe's API says it is: they could only fail in the processor.
    "customer without id": _event("customer.created", {"object": "customer"}),
    "customer id a number": _event("customer.updated", {**CUSTOMER, "id": 7}),
    "customer id empty": _event("customer.deleted", {**CUSTOMER, "id": ""}),
    "metadata a list": _event("customer.created", {**CUSTOMER, "metadata": ["a"]}),
    "metadata value a number": _event("customer.created", {**CUSTOMER, "metadata": {"a": 1.5}}),
    "name beyond Stripe's limit": _event("customer.updated", {**CUSTOMER, "name": "é" * 257}),
    "amount a fraction": _event("payment_intent.succeeded", {**INTENT, "amount": 10.5}),
    "amount beyond 38 digits": _event("payment_intent.succeeded", {**INTENT, "amount": 10**40}),
    "amount as text": _event("payment_intent.succeeded", {**INTENT, "amount": "1000"}),
    "payment error as text": _event("payment_intent.payment_failed", {**INTENT, "last_payment_error": "declined"}),
    "refund as text": _event("charge.refunded", {**CHARGE, "amount_refunded": "abc"}),
    "refund a fraction": _event("charge.refunded", {**CHARGE, "amount_refunded": 5.5}),
}


@pytest.mark.parametrize("body", NOT_EVENTS.values(), ids=NOT_EVENTS.keys())
def test_a_correctly_signed_body_that_is_no_event_gets_400_and_is_never_queued(
    api: str, seeded_secrets: dict[str, Any], queue: Any, body: bytes
) -> None:
    response = deliver(api, body, sign(body, signing_secret(seeded_secrets)))
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "urn:seawall:problem:invalid-payload"
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


def test_an_oversized_delivery_is_refused_with_413_and_counted(api: str, queue: Any, capfd: Any) -> None:
    body = b"{" + b" " * (300 * 1024) + b"}"
    response = deliver(api, body, sign(body, "whsec_anything0000000000"))
    assert response.status_code == 413
    assert queue() == []
    assert '"RequestTooLarge"' in capfd.readouterr().out


def test_a_queue_that_cannot_be_reached_answers_5xx_so_stripe_delivers_again(
    api: str, seeded_secrets: dict[str, Any], moto_server: MotoServer, queue: Any
) -> None:
    body = SAMPLE["body"].encode()
    moto_server.down.add("sqs")
    try:
        response = deliver(api, body, sign(body, signing_secret(seeded_secrets)))
    finally:
        moto_server.down.discard("sqs")
    assert response.status_code >= 500
    assert response.headers["Content-Type"] == "application/problem+json"
    assert queue() == []
    assert deliver(api, body, sign(body, signing_secret(seeded_secrets))).status_code == 200  # Stripe's retry
    assert len(queue()) == 1


def test_a_secrets_manager_outage_is_503_to_a_cold_container_and_never_turns_a_bad_signature_into_a_500(
    isolated: IsolatedStack, moto_server: MotoServer, seeded_secrets: dict[str, Any]
) -> None:
    body = SAMPLE["body"].encode()
    moto_server.down.add("secretsmanager")
    try:
        cold = deliver(isolated.api, body, sign(body, signing_secret(seeded_secrets)))
    finally:
        moto_server.down.discard("secretsmanager")
    assert (cold.status_code, cold.headers["Retry-After"]) == (503, "1")  # Stripe delivers again later
    assert deliver(isolated.api, body, sign(body, signing_secret(seeded_secrets))).status_code == 200  # now cached
    moto_server.down.add("secretsmanager")
    try:
        forged = deliver(isolated.api, body, sign(body, "whsec_notthesecret00000000000"))
    finally:
        moto_server.down.discard("secretsmanager")
    assert forged.status_code == 400  # the re-read fails; the refusal stands


def test_a_rotated_signing_secret_takes_effect_at_once(
    api: str, project_stack: LocalStack, moto_endpoint: str, seeded_secrets: dict[str, Any], queue: Any
) -> None:
    body = SAMPLE["body"].encode()
    assert deliver(api, body, sign(body, signing_secret(seeded_secrets))).status_code == 200  # secret now cached
    secrets = aws_client("secretsmanager", moto_endpoint)
    secret_id = project_stack.template.physical["StripeWebhookSecret"]["Ref"]
    rolled = f"whsec_{uuid.uuid4().hex}"
    secrets.put_secret_value(
        SecretId=secret_id, SecretString=json.dumps({"webhook_secrets": [rolled, signing_secret(seeded_secrets)]})
    )
    try:
        assert deliver(api, body, sign(body, rolled)).status_code == 200  # not after the 300-second cache
    finally:
        secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps(seeded_secrets["StripeWebhookSecret"]))
    assert len(queue()) == 2


def _with_signature(signature: str | None) -> dict[str, Any]:
    event = json.loads(json.dumps(SAMPLE))
    for field in ("headers", "multiValueHeaders"):
        event[field] = {name: value for name, value in event[field].items() if name.lower() != "stripe-signature"}
        if signature is not None:
            event[field]["Stripe-Signature"] = signature if field == "headers" else [signature]
    return event


@pytest.mark.parametrize(
    ("reason", "signature"),
    [
        ("missing-header", lambda body, secret: None),
        ("malformed-header", lambda body, secret: "v1=only-a-signature"),
        ("timestamp", lambda body, secret: stripe.WebhookSignature.generate_signature_header(body, secret, 1_000_000)),
        ("no-match", lambda body, secret: sign(body.encode(), "whsec_" + "x" * 32)),
    ],
)
def test_a_rejected_signature_logs_and_counts_its_reason_and_nothing_secret(
    project_stack: LocalStack, seeded_secrets: dict[str, Any], reason: str, signature: Any
) -> None:
    secret = signing_secret(seeded_secrets)
    header = signature(SAMPLE["body"], secret)
    invocation = project_stack.function("StripeWebhookFunction").run(_with_signature(header))
    assert invocation.payload["statusCode"] == 400
    lines = [json.loads(line) for line in invocation.logs.splitlines() if line.startswith("{")]
    (logged,) = [line for line in lines if line.get("message") == "webhook rejected"]
    assert (logged["provider"], logged["reason"]) == ("stripe", reason)
    (counted,) = [line for line in lines if "WebhookRejected" in line]
    assert (counted["provider"], counted["reason"], counted["WebhookRejected"]) == ("stripe", reason, [1.0])
    assert secret not in invocation.logs
    assert header is None or header.split("v1=")[-1] not in invocation.logs


def test_a_verified_body_that_is_no_event_is_logged_and_counted_as_not_an_event(
    project_stack: LocalStack, seeded_secrets: dict[str, Any]
) -> None:
    body = '{"object": "not an event"}'
    event = {**_with_signature(sign(body.encode(), signing_secret(seeded_secrets))), "body": body}
    invocation = project_stack.function("StripeWebhookFunction").run(event)
    assert invocation.payload["statusCode"] == 400
    lines = [json.loads(line) for line in invocation.logs.splitlines() if line.startswith("{")]
    (logged,) = [line for line in lines if line.get("message") == "webhook rejected"]
    assert (logged["provider"], logged["reason"]) == ("stripe", "not-an-event")
    (counted,) = [line for line in lines if "WebhookRejected" in line]
    assert (counted["reason"], counted["WebhookRejected"]) == ("not-an-event", [1.0])


@pytest.mark.parametrize("path", ["/webhooks/stripe", "/webhooks/acme"])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_another_method_on_a_webhook_route_is_405_with_allow_post(api: str, path: str, method: str) -> None:
    answer = httpx.request(method, f"{api}{path}", content=b"{}")
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["status"] == 405

"""The next provider's path: Standard Webhooks deliveries verified, queued and published once."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from local.aws import aws_client
from local.stack import LocalStack
from seawall.errors import WebhookVerificationError
from seawall.webhooks.standard import verify_standard_webhook
from tests.support.stack import Pipeline

BODY = json.dumps({"type": "invoice.paid", "data": {"invoice_id": "inv_7", "amount": 4200}})


def signed(secret: str, webhook_id: str, body: str = BODY, at: dt.datetime | None = None) -> dict[str, str]:
    moment = at or dt.datetime.now(dt.UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, moment, body),
        "Content-Type": "application/json",
    }


@pytest.fixture
def acme_secret(seeded_secrets: dict[str, Any]) -> str:
    secret: str = seeded_secrets["StandardWebhooksSecret"]["providers"]["acme"][0]
    return secret


def test_a_delivery_is_verified_queued_and_published_once(api: str, acme_secret: str, pipeline: Pipeline) -> None:
    webhook_id = f"msg_{uuid.uuid4().hex}"
    for _ in range(3):  # the provider delivers the same message more than once
        answer = httpx.post(f"{api}/webhooks/acme", content=BODY, headers=signed(acme_secret, webhook_id))
        assert answer.status_code == 200
    pipeline.settle()
    (event,) = pipeline.published()
    assert (event["source"], event["detail-type"]) == ("integrations.acme", "ProviderEventReceived")
    assert event["detail"]["webhook_id"] == webhook_id
    assert event["detail"]["type"] == "invoice.paid"
    assert event["detail"]["event_id"] == f"acme:{webhook_id}"


@pytest.mark.parametrize(
    "body",
    ["", "not json", '{"foo": 1}', "[1, 2]", '{"type": "invoice.paid"}', '{"type": 7, "data": {}}'],
    ids=["empty", "not json", "no type", "array", "no data", "type not text"],
)
def test_a_correctly_signed_body_that_is_no_event_gets_400_and_is_never_queued(
    api: str, acme_secret: str, pipeline: Pipeline, body: str
) -> None:
    answer = httpx.post(f"{api}/webhooks/acme", content=body, headers=signed(acme_secret, "msg_x", body=body))
    assert answer.status_code == 400
    assert answer.json()["type"] == "urn:seawall:problem:invalid-payload"
    assert pipeline.provider_events.poll_once() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"webhook-signature": "v1"},  # no comma: the library would crash on it
        {"webhook-signature": "v1,not-base64!"},
        {"webhook-signature": "v1,abc"},  # base64 of the wrong length
        {"webhook-timestamp": "\uff11\uff12\uff13"},  # full-width digits, which float() would take
        {"webhook-timestamp": "1e9"},
        {"webhook-timestamp": "nan"},
        {"webhook-id": ""},
    ],
)
def test_malformed_headers_get_400_never_500(api: str, acme_secret: str, headers: dict[str, str]) -> None:
    sent = {**signed(acme_secret, "msg_y"), **headers}
    answer = httpx.post(
        f"{api}/webhooks/acme", content=BODY, headers={name: value.encode() for name, value in sent.items()}
    )
    assert answer.status_code == 400


def test_a_rotated_secret_takes_effect_at_once(
    api: str, project_stack: LocalStack, moto_endpoint: str, seeded_secrets: dict[str, Any], pipeline: Pipeline
) -> None:
    secret = seeded_secrets["StandardWebhooksSecret"]["providers"]["acme"][0]
    assert httpx.post(f"{api}/webhooks/acme", content=BODY, headers=signed(secret, "msg_warm")).status_code == 200
    rolled = "whsec_" + base64.b64encode(uuid.uuid4().bytes * 2).decode()
    secrets = aws_client("secretsmanager", moto_endpoint)
    secret_id = project_stack.template.physical["StandardWebhooksSecret"]["Ref"]
    secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps({"providers": {"acme": [rolled, secret]}}))
    try:
        answer = httpx.post(f"{api}/webhooks/acme", content=BODY, headers=signed(rolled, f"msg_{uuid.uuid4().hex}"))
    finally:
        secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps(seeded_secrets["StandardWebhooksSecret"]))
    assert answer.status_code == 200  # the cached secret did not know it; one read again did


@pytest.mark.parametrize("problem", ["wrong secret", "stale", "tampered"])
def test_bad_deliveries_get_400(api: str, acme_secret: str, problem: str) -> None:
    webhook_id = f"msg_{uuid.uuid4().hex}"
    headers = {
        "wrong secret": lambda: signed("whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY", webhook_id),
        "stale": lambda: signed(acme_secret, webhook_id, at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6)),
        "tampered": lambda: signed(acme_secret, webhook_id, body=BODY + " "),
    }[problem]()
    answer = httpx.post(f"{api}/webhooks/acme", content=BODY, headers=headers)
    assert answer.status_code == 400


def test_an_unknown_provider_is_404(api: str, acme_secret: str) -> None:
    answer = httpx.post(f"{api}/webhooks/nobody", content=BODY, headers=signed(acme_secret, "msg_1"))
    assert answer.status_code == 404


def test_any_configured_secret_verifies_while_rolling() -> None:
    old, new = "whsec_" + "T0xET0xET0xET0xET0xET0xET0xE", "whsec_" + "TkVXTkVXTkVXTkVXTkVXTkVXTkVX"
    headers = signed(old, "msg_roll")
    assert verify_standard_webhook("acme", BODY.encode(), headers, [new, old]) == "msg_roll"
    with pytest.raises(WebhookVerificationError):
        verify_standard_webhook("acme", BODY.encode(), headers, [new])


def test_a_large_delivery_in_any_script_is_published_whole(api: str, acme_secret: str, pipeline: Pipeline) -> None:
    body = json.dumps({"type": "doc.created", "data": {"text": "漢" * 75_000}}, ensure_ascii=False)  # 225 KB
    webhook_id = f"msg_{uuid.uuid4().hex}"
    answer = httpx.post(f"{api}/webhooks/acme", content=body.encode(), headers=signed(acme_secret, webhook_id, body))
    assert answer.status_code == 200
    pipeline.settle()
    (event,) = pipeline.published()
    assert event["detail"]["data"]["text"] == "漢" * 75_000


def test_a_delivery_whose_event_the_bus_cannot_take_is_413_and_never_queued(
    api: str, acme_secret: str, pipeline: Pipeline
) -> None:
    body = json.dumps({"type": "t", "data": {"x": "a" * 262_050}})  # under 256 KB; its event is not
    answer = httpx.post(f"{api}/webhooks/acme", content=body, headers=signed(acme_secret, "msg_big", body))
    assert answer.status_code == 413
    assert answer.json()["type"] == "urn:seawall:problem:payload-too-large"
    assert pipeline.provider_events.poll_once() == 0


@pytest.mark.parametrize(
    "listed",
    ["v1a,{ed25519} {valid}", "{valid} v1a,{ed25519}", "v1,abc {valid}", "v2,{ed25519} {valid}"],
    ids=["v1a first", "v1a last", "undecodable v1 first", "unknown version first"],
)
def test_a_valid_v1_signature_verifies_beside_entries_it_cannot_check(
    api: str, acme_secret: str, pipeline: Pipeline, listed: str
) -> None:
    webhook_id = f"msg_{uuid.uuid4().hex}"
    headers = signed(acme_secret, webhook_id)
    ed25519 = base64.b64encode(bytes(64)).decode()
    headers["webhook-signature"] = listed.format(valid=headers["webhook-signature"], ed25519=ed25519)
    assert httpx.post(f"{api}/webhooks/acme", content=BODY, headers=headers).status_code == 200
    pipeline.settle()
    (event,) = pipeline.published()
    assert event["detail"]["webhook_id"] == webhook_id


@pytest.mark.parametrize("number", ["NaN", "-Infinity", "1e400"])
def test_a_number_json_cannot_carry_gets_400_and_is_never_queued(
    api: str, acme_secret: str, pipeline: Pipeline, number: str
) -> None:
    body = '{"type": "t.number", "data": {"v": %s}}' % number  # noqa: UP031 (the number is JSON text)
    answer = httpx.post(f"{api}/webhooks/acme", content=body, headers=signed(acme_secret, "msg_n", body=body))
    assert answer.status_code == 400
    assert answer.json()["type"] == "urn:seawall:problem:invalid-payload"
    assert pipeline.provider_events.poll_once() == 0


def test_a_correctly_signed_body_that_is_not_utf8_is_an_invalid_payload(api: str, acme_secret: str) -> None:
    body = '{"type": "t", "data": {"n": "caf\xe9"}}'.encode("latin-1")
    webhook_id, timestamp = "msg_latin1", str(int(dt.datetime.now(dt.UTC).timestamp()))
    key = base64.b64decode(acme_secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()  # over the raw bytes
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }
    answer = httpx.post(f"{api}/webhooks/acme", content=body, headers=headers)
    assert answer.status_code == 400
    assert answer.json()["type"] == "urn:seawall:problem:invalid-payload"


def test_an_unknown_provider_is_not_echoed(api: str, acme_secret: str) -> None:
    answer = httpx.post(f"{api}/webhooks/{'a' * 5000}", content=BODY, headers=signed(acme_secret, "msg_1"))
    assert answer.status_code == 404
    assert "aaaa" not in answer.text

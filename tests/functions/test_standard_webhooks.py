"""The next provider's path: Standard Webhooks deliveries verified, queued and published once."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from local.aws import aws_client
from local.eventsource import QueuePoller
from local.stack import LocalStack
from seawall.errors import WebhookVerificationError
from seawall.webhooks.standard import verify_standard_webhook

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


@pytest.fixture
def bus(project_stack: LocalStack, moto_endpoint: str) -> Any:
    events, sqs = aws_client("events", moto_endpoint), aws_client("sqs", moto_endpoint)
    bus_name = project_stack.template.physical["DomainEventBus"]["Name"]
    url = sqs.create_queue(QueueName=f"acme-observer-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = f"acme-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=rule, EventBusName=bus_name, EventPattern=json.dumps({"source": ["integrations.acme"]}))
    events.put_targets(Rule=rule, EventBusName=bus_name, Targets=[{"Id": "observer", "Arn": arn}])

    def published() -> list[dict[str, Any]]:
        found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"]) for message in found]

    return published


def test_a_delivery_is_verified_queued_and_published_once(
    api: str, project_stack: LocalStack, acme_secret: str, bus: Any
) -> None:
    poller = QueuePoller(project_stack, "ProviderEventsFunction", "ProviderEventsQueue", 10)
    webhook_id = f"msg_{uuid.uuid4().hex}"
    for _ in range(3):  # the provider delivers the same message more than once
        answer = httpx.post(f"{api}/webhooks/acme", content=BODY, headers=signed(acme_secret, webhook_id))
        assert answer.status_code == 200
    poller.drain()
    (event,) = bus()
    assert event["detail-type"] == "ProviderEventReceived"
    assert event["detail"]["webhook_id"] == webhook_id
    assert event["detail"]["type"] == "invoice.paid"


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

"""Twin of StandardWebhookFunction: verify with standardwebhooks, queue with provider and webhook-id, answer 200."""

import base64
import os
from typing import Any

import boto3
from pydantic import ValidationError
from seed import json_response, logger, secret
from seed_events import StandardEvent
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

PROVIDERS: dict[str, list[str]] = secret("STANDARD_WEBHOOKS_SECRET_ARN")["providers"]
QUEUE_URL = os.environ["PROVIDER_EVENTS_QUEUE_URL"]
sqs = boto3.client("sqs")


def verified(payload: str, headers: dict[str, str], secrets: list[str]) -> bool:
    """Whether any of the provider's secrets signed the delivery."""
    for signing_secret in secrets:
        try:
            Webhook(signing_secret).verify(payload, headers)
        except WebhookVerificationError:
            continue
        return True
    return False


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Find the provider, verify the signature, validate the event, send it to the queue."""
    provider = (event.get("pathParameters") or {}).get("provider", "")
    if provider not in PROVIDERS:
        return json_response(404, {"success": False, "error": "Unknown provider"})
    body = event["body"]
    payload = base64.b64decode(body).decode() if event.get("isBase64Encoded") else body
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    if not verified(payload, headers, PROVIDERS[provider]):
        return json_response(400, {"success": False, "error": "Invalid signature"})
    try:
        received = StandardEvent.model_validate_json(payload)
    except ValidationError:
        return json_response(400, {"success": False, "error": "Invalid event"})
    attributes = {"provider": provider, "webhook_id": headers["webhook-id"]}
    sqs.send_message(
        QueueUrl=QUEUE_URL,
        MessageBody=payload,
        MessageAttributes={name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()},
    )
    logger.info("Received", extra={"provider": provider, "type": received.type})
    return json_response(200, {"received": True})

"""Twin of StripeWebhookFunction: verify with stripe-python, queue, answer 200, the guide's way."""

import base64
import json
import os
from typing import Any

import boto3
import stripe
from seed import Event, json_response, logger, secret

WEBHOOK_SECRET = secret("STRIPE_WEBHOOK_SECRET_ARN")["webhook_secrets"][0]
QUEUE_URL = os.environ["STRIPE_EVENTS_QUEUE_URL"]
sqs = boto3.client("sqs")


def verified(event: dict[str, Any]) -> tuple[str, Event] | None:
    """The delivery's body and its event, when the signature over the body holds; None when it does not."""
    body = event["body"]
    payload = base64.b64decode(body).decode() if event.get("isBase64Encoded") else body
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    try:
        checked = stripe.Webhook.construct_event(payload, headers.get("stripe-signature", ""), WEBHOOK_SECRET)
    except stripe.SignatureVerificationError:
        return None
    return payload, Event.model_validate(json.loads(str(checked)))


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Verify the signature over the body, validate the event, send it to the queue."""
    delivery = verified(event)
    if delivery is None:
        return json_response(400, {"success": False, "error": "Invalid signature"})
    payload, received = delivery
    sqs.send_message(QueueUrl=QUEUE_URL, MessageBody=payload)
    logger.info("Received", extra={"type": received.type})
    return json_response(200, {"received": True})

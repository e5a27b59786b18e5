"""Twin of StripeReconcileFunction: Stripe's events after the stored cursor (or undelivered) listed and queued."""

import json
import os
import time
from typing import Any, Literal

import boto3
import stripe
from pydantic import BaseModel
from seed import logger
from seed_stripe import client

QUEUE_URL = os.environ["STRIPE_EVENTS_QUEUE_URL"]
STATE_TABLE = os.environ["STATE_TABLE"]
LOOKBACK_SECONDS = int(os.environ["STRIPE_RECONCILE_LOOKBACK_DAYS"]) * 86_400
sqs = boto3.client("sqs")
dynamodb = boto3.client("dynamodb")


class ScheduledRun(BaseModel):
    """The schedule's input."""

    mode: Literal["events", "undelivered"] = "events"


def listed(mode: str, cursor: str | None) -> list[stripe.Event]:
    """The events to queue, oldest first: after the cursor, or in the look-back window."""
    since = int(time.time()) - LOOKBACK_SECONDS
    if mode == "undelivered":
        params: dict[str, Any] = {"delivery_success": False, "created": {"gte": since}, "limit": 100}
    else:
        params = {"ending_before": cursor, "limit": 100} if cursor else {"created": {"gte": since}, "limit": 100}
    events = list(client.v1.events.list(params=params).auto_paging_iter())  # type: ignore[arg-type]
    return events if cursor and mode == "events" else events[::-1]


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Queue the events for the processor (ten to a call), then store the newest as the cursor."""
    mode = ScheduledRun.model_validate(event).mode
    key = {"pk": {"S": f"seed-sync:stripe-{mode}"}}
    cursor = dynamodb.get_item(TableName=STATE_TABLE, Key=key).get("Item", {}).get("cursor", {}).get("S")
    events = listed(mode, cursor)
    for start in range(0, len(events), 10):
        entries = [
            {"Id": str(index), "MessageBody": json.dumps(item.to_dict())}
            for index, item in enumerate(events[start : start + 10])
        ]
        sqs.send_message_batch(QueueUrl=QUEUE_URL, Entries=entries)
    if events and mode == "events":
        cursor = events[-1].id
        dynamodb.update_item(
            TableName=STATE_TABLE,
            Key=key,
            UpdateExpression="SET #cursor = :cursor",
            ExpressionAttributeNames={"#cursor": "cursor"},
            ExpressionAttributeValues={":cursor": {"S": cursor}},
        )
    logger.info("Reconciled", extra={"mode": mode, "records": len(events)})
    return {"job": f"stripe-{mode}", "outcome": "caught-up", "records": len(events), "cursor": cursor}

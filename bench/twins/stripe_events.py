"""Twin of StripeEventsFunction: each Stripe event applied once (Powertools idempotency), projection and outbox row."""

import json
import os
from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from boto3.dynamodb.types import TypeSerializer
from seed import Event, logger
from seed_events import outbox_item
from seed_idempotency import persistence

CUSTOMERS_TABLE = os.environ["CUSTOMERS_TABLE"]
PAYMENTS_TABLE = os.environ["PAYMENTS_TABLE"]
OUTBOX_TABLE = os.environ["OUTBOX_TABLE"]
PAYMENT_EVENTS = {
    "payment_intent.succeeded": "PaymentSucceeded",
    "payment_intent.payment_failed": "PaymentFailed",
    "payment_intent.canceled": "PaymentCanceled",
}
dynamodb = boto3.client("dynamodb")
serializer = TypeSerializer()
processor = BatchProcessor(event_type=EventType.SQS)
config = IdempotencyConfig(event_key_jmespath="id", expires_after_seconds=7 * 86_400)


def projection(event: Event) -> tuple[str, str, dict[str, Any], str | None] | None:
    """Where the event's object goes (table, key, values) and the domain event it makes; None if not handled."""
    obj = event.data["object"]
    if event.type.startswith("payment_intent."):
        error = obj.get("last_payment_error") or {}
        values = {key: obj.get(key) for key in ("status", "amount", "currency", "customer")}
        values["failure_reason"] = error.get("decline_code") or error.get("code")
        return PAYMENTS_TABLE, obj["id"], values, PAYMENT_EVENTS.get(event.type)
    if event.type in ("customer.created", "customer.updated"):
        values = {"email": obj.get("email"), "name": obj.get("name"), "metadata": obj.get("metadata") or {}}
        return CUSTOMERS_TABLE, obj["id"], {**values, "deleted": False}, "CustomerUpserted"
    if event.type == "customer.deleted":
        return CUSTOMERS_TABLE, obj["id"], {"deleted": True}, "CustomerDeleted"
    if event.type == "charge.refunded":
        values = {"amount_refunded": obj["amount_refunded"], "currency": obj["currency"], "charge": obj["id"]}
        return PAYMENTS_TABLE, obj.get("payment_intent") or obj["id"], values, "PaymentRefunded"
    return None


def apply(event: Event) -> dict[str, Any]:
    """Write the projection and its domain event in one transaction."""
    write = projection(event)
    if write is None:
        return {"applied": event.id, "changed": False}
    table, key, values, detail_type = write
    update = {
        "TableName": table,
        "Key": {"id": {"S": key}},
        "UpdateExpression": "SET " + ", ".join(f"#{name} = :{name}" for name in values),
        "ExpressionAttributeNames": {f"#{name}": name for name in values},
        "ExpressionAttributeValues": {f":{name}": serializer.serialize(value) for name, value in values.items()},
    }
    items: list[dict[str, Any]] = [{"Update": update}]
    if detail_type is not None:
        detail = {"id": key, **values, "stripe_event_id": event.id, "occurred_at": event.created}
        row = outbox_item(f"stripe:{event.id}", "integrations.stripe", detail_type, detail)
        items.append(
            {"Put": {"TableName": OUTBOX_TABLE, "Item": row, "ConditionExpression": "attribute_not_exists(id)"}}
        )
    dynamodb.transact_write_items(TransactItems=items)
    return {"applied": event.id, "changed": True}


# A second delivery of the same event id returns the first result instead of applying again.
apply_once: Callable[..., dict[str, Any]] = idempotent_function(
    data_keyword_argument="event", persistence_store=persistence, config=config
)(apply)


def apply_record(record: SQSRecord) -> None:
    """One message: a Stripe event, or Stripe's EventBridge envelope around one."""
    body = json.loads(record.body)
    apply_once(event=Event.model_validate(body.get("detail", body) if "detail-type" in body else body))


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS entry point, with partial batch failures."""
    config.register_lambda_context(context)
    return dict(
        process_partial_response(event=event, record_handler=apply_record, processor=processor, context=context)
    )

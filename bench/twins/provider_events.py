"""Twin of ProviderEventsFunction: each queued Standard Webhooks delivery recorded once in the outbox."""

import os
from typing import Any

import boto3
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from seed import logger
from seed_events import StandardEvent, outbox_item

OUTBOX_TABLE = os.environ["OUTBOX_TABLE"]
dynamodb = boto3.client("dynamodb")
processor = BatchProcessor(event_type=EventType.SQS)


def record_event(record: SQSRecord) -> None:
    """One delivery: its outbox row, keyed by provider and webhook-id (a repeat finds it there)."""
    attributes = record.raw_event["messageAttributes"]
    provider, webhook_id = attributes["provider"]["stringValue"], attributes["webhook_id"]["stringValue"]
    event = StandardEvent.model_validate_json(record.body)
    detail = {"provider": provider, "webhook_id": webhook_id, "type": event.type, "data": event.data}
    item = outbox_item(f"{provider}:{webhook_id}", f"integrations.{provider}", "ProviderEventReceived", detail)
    try:
        dynamodb.put_item(TableName=OUTBOX_TABLE, Item=item, ConditionExpression="attribute_not_exists(id)")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        logger.info("Duplicate delivery", extra={"provider": provider, "webhook_id": webhook_id})


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS entry point, with partial batch failures."""
    return dict(
        process_partial_response(event=event, record_handler=record_event, processor=processor, context=context)
    )

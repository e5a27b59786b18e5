"""Twin of OutboxPublisherFunction: each new outbox row from the table's stream put on the domain event bus."""

import json
import os
from typing import Any

import boto3
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, DynamoDBRecordEventName
from seed import logger

EVENT_BUS_NAME = os.environ["EVENT_BUS_NAME"]
events = boto3.client("events")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def publish(record: DynamoDBRecord) -> None:
    """An inserted row, published (a row expiring publishes nothing)."""
    if record.event_name != DynamoDBRecordEventName.INSERT or record.dynamodb is None:
        return
    row = record.dynamodb.new_image
    entry = {
        "EventBusName": EVENT_BUS_NAME,
        "Source": row["source"],
        "DetailType": row["detail_type"],
        "Detail": json.dumps({**json.loads(row["detail"]), "event_id": row["id"]}),
    }
    if events.put_events(Entries=[entry])["FailedEntryCount"]:
        raise RuntimeError(f"EventBridge refused {row['id']}")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """DynamoDB Streams entry point, with partial batch failures."""
    return dict(process_partial_response(event=event, record_handler=publish, processor=processor, context=context))

"""SQS event source mappings, locally: poll the template's queues and invoke their functions with batches.

As Lambda's poller does with ReportBatchItemFailures: messages reported as
failed stay on the queue (made visible again at once, so the redrive policy
moves them to the dead-letter queue after maxReceiveCount receives), the rest
are deleted; a handler that raises fails the whole batch.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from local.aws import REGION, aws_client
from local.runtime import LocalFunction
from local.stack import LocalStack


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as Lambda hands it to a function (one of ``event["Records"]``)."""
    attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": attributes,
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


class QueuePoller:
    """One function's SQS event source."""

    def __init__(self, stack: LocalStack, function: str, queue: str, batch_size: int) -> None:
        physical = stack.template.physical[queue]
        self.queue_url, self.queue_arn = physical["QueueUrl"], physical["Arn"]
        self.function: LocalFunction = stack.function(function)
        self.batch_size = batch_size
        self.sqs = aws_client("sqs", stack.aws_endpoint)

    def poll_once(self) -> int:
        """Take one batch and run it; returns how many messages it held."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            return 0
        try:
            answer = self.function.invoke({"Records": [sqs_record(message, self.queue_arn) for message in messages]})
            failed = {item["itemIdentifier"] for item in (answer or {}).get("batchItemFailures", [])}
        except Exception:  # noqa: BLE001 (as Lambda: an error fails the whole batch)
            failed = {message["MessageId"] for message in messages}
        for message in messages:
            if message["MessageId"] in failed:
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def drain(self, rounds: int = 100) -> None:
        """Poll until the queue gives nothing (bounded, for tests)."""
        for _ in range(rounds):
            if not self.poll_once():
                return

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set."""
        while not stop.is_set():
            if not self.poll_once():
                time.sleep(0.2)


def pollers(stack: LocalStack) -> list[QueuePoller]:
    """One poller for each SQS event of each function of the template."""
    return [
        QueuePoller(stack, spec.name, source.queue, source.batch_size)
        for spec in stack.template.functions()
        for source in spec.queues
    ]

"""Event source mappings, locally: SQS queues and DynamoDB streams polled, their functions invoked with batches.

SQS, as Lambda's poller does with ReportBatchItemFailures: several pollers
per queue (up to the function's container cap), so batches run concurrently;
messages reported as failed stay on the queue and come back later (see
``RETRY_DELAY_SECONDS``, doubled at each receive), so the redrive policy moves them to the
dead-letter queue after maxReceiveCount receives; the rest are deleted; a
handler that fails fails the whole batch.

DynamoDB streams, as Lambda reads a shard: one batch at a time, in order; a
batch whose handler fails, or that reports a failed record, is retried from
that record; after ``MaximumRetryAttempts`` the batch's description goes to
the on-failure queue and reading moves on.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local.aws import REGION, aws_client
from local.runtime import FunctionError, LocalFunction
from local.stack import LocalStack
from local.template import StreamSource

# Locally a failed message comes back after this long the first time, instead of the queue's visibility
# timeout (minutes), and twice as long each time after (2, 4, 8, 16 s): by its fifth receive more than a
# function's timeout has passed, as it has in AWS, so an attempt that died holding an idempotency record
# in progress no longer blocks the message when its last retry comes.
RETRY_DELAY_SECONDS = 2
_IDLE_SLEEP = 0.2
_MAX_VISIBILITY_SECONDS = 43_200  # SQS's own cap
# How often an idle event source asks again (moto cannot long-poll; each ask costs the machine a little).
IDLE_POLL_SECONDS = 0.5


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


def poll_until(stop: threading.Event, poll_once: Callable[[], int], idle: float, name: str) -> None:
    """Poll until ``stop`` is set, resting ``idle`` seconds after finding nothing.

    An event source outlives a failed read of its queue or stream, as Lambda's pollers do: it asks again
    after resting (a moto restarting, or stopping under a stack that is stopping, is such a failure).
    """
    while not stop.is_set():
        try:
            found = poll_once()
        except (BotoCoreError, ClientError) as error:
            if stop.is_set():
                return
            print(f"[event source] {name}: reading failed ({type(error).__name__}); asking again")
            found = 0
        if not found:
            stop.wait(idle)


def _failed(function: LocalFunction, event: dict[str, Any]) -> set[str] | None:
    """The batch's failed item identifiers; ``None`` when the whole batch failed."""
    try:
        answer = function.invoke(event)
    except FunctionError:
        return None
    return {str(item["itemIdentifier"]) for item in (answer or {}).get("batchItemFailures", [])}


class QueuePoller:
    """One function's SQS event source."""

    def __init__(
        self, stack: LocalStack, function: str, queue: str, batch_size: int, retry_delay: int = RETRY_DELAY_SECONDS
    ) -> None:
        physical = stack.template.physical[queue]
        self.queue_url, self.queue_arn = physical["QueueUrl"], physical["Arn"]
        self.function = stack.function(function)
        self.batch_size = batch_size
        self.retry_delay = retry_delay
        self.sqs = aws_client("sqs", stack.aws_endpoint)

    def poll_once(self) -> int:
        """Take one batch and run it; returns how many messages it held."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,  # a long poll would hold moto, which serves one request at a time
        ).get("Messages", [])
        if not messages:
            return 0
        failed = _failed(self.function, {"Records": [sqs_record(message, self.queue_arn) for message in messages]})
        for message in messages:
            if failed is None or message["MessageId"] in failed:
                receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=min(self.retry_delay * 2 ** (receives - 1), _MAX_VISIBILITY_SECONDS),
                )
            else:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def empty(self) -> bool:
        """Whether the queue holds nothing, in flight or waiting to come back included."""
        counts = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return not any(int(value) for value in counts.values())

    def drain(self, seconds: float = 30, *, concurrently: bool = False) -> None:
        """Poll until the queue is empty (for tests): from this thread, or with every poller ``start`` runs."""
        limit = time.monotonic() + seconds
        stop = threading.Event()
        if concurrently:
            self.start(stop)
        try:
            while time.monotonic() < limit:
                if not concurrently and self.poll_once():
                    continue
                if self.empty():
                    return
                time.sleep(_IDLE_SLEEP)
        finally:
            stop.set()

    def run(self, stop: threading.Event, idle: float = IDLE_POLL_SECONDS) -> None:
        """Poll until ``stop`` is set, resting ``idle`` seconds after finding nothing."""
        poll_until(stop, self.poll_once, idle, self.function.config.name)

    def start(self, stop: threading.Event) -> None:
        """As many pollers as the function may have containers, each on a thread of its own.

        Idle, together they ask the queue as often as one poller would (moto cannot long-poll).
        """
        pollers = self.function.config.max_containers
        for _ in range(pollers):
            threading.Thread(target=self.run, args=(stop, IDLE_POLL_SECONDS * pollers), daemon=True).start()
            stop.wait(IDLE_POLL_SECONDS / pollers)


def _stream_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A stream record as Lambda hands it over (moto gives the creation time as a date)."""
    data = dict(record["dynamodb"])
    created = data.get("ApproximateCreationDateTime")
    if isinstance(created, dt.datetime):
        data["ApproximateCreationDateTime"] = created.timestamp()
    return {**record, "dynamodb": data, "eventSourceARN": stream_arn}


class StreamPoller:
    """One function's DynamoDB stream event source (every shard from its start)."""

    def __init__(self, stack: LocalStack, function: str, source: StreamSource) -> None:
        self.stream_arn = stack.template.physical[source.table]["StreamArn"]
        self.function = stack.function(function)
        self.batch_size = source.batch_size
        self.max_retries = source.max_retries
        self.on_failure = stack.template.physical[source.on_failure]["QueueUrl"] if source.on_failure else None
        self.streams = aws_client("dynamodbstreams", stack.aws_endpoint)
        self.sqs = aws_client("sqs", stack.aws_endpoint)
        self._positions: dict[str, str | None] = {}  # shard → last sequence number done
        self._attempts = 0

    def _iterator(self, shard: str) -> str | None:
        done = self._positions.get(shard)
        kind = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": done} if done else {}
        answer = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard, **(kind or {"ShardIteratorType": "TRIM_HORIZON"})
        )
        iterator: str | None = answer.get("ShardIterator")
        return iterator

    def poll_once(self) -> int:
        """Read each shard's next batch and run it; returns how many records ran."""
        handled = 0
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        for shard in (item["ShardId"] for item in shards):
            iterator = self._iterator(shard)
            if iterator is None:
                continue
            records = self.streams.get_records(ShardIterator=iterator, Limit=self.batch_size).get("Records", [])
            if records:
                handled += len(records)
                self._run(shard, records)
        return handled

    def _run(self, shard: str, records: list[dict[str, Any]]) -> None:
        failed = _failed(self.function, {"Records": [_stream_record(record, self.stream_arn) for record in records]})
        numbers = [record["dynamodb"]["SequenceNumber"] for record in records]
        if failed == set():
            self._positions[shard], self._attempts = numbers[-1], 0
            return
        reported = [index for index, number in enumerate(numbers) if failed and number in failed]
        first = reported[0] if reported else 0
        if first:
            self._positions[shard] = numbers[first - 1]  # what came before the failure is done
        self._attempts += 1
        if 0 <= self.max_retries < self._attempts:
            self._give_up(shard, numbers[first], numbers[-1])
            self._positions[shard], self._attempts = numbers[-1], 0

    def _give_up(self, shard: str, first: str, last: str) -> None:
        print(f"[streams] {self.function.config.name}: records {first}..{last} given up after retries")
        if self.on_failure is None:
            return
        description = {
            "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": self._attempts},
            "DDBStreamBatchInfo": {
                "shardId": shard,
                "startSequenceNumber": first,
                "endSequenceNumber": last,
                "streamArn": self.stream_arn,
            },
        }
        self.sqs.send_message(QueueUrl=self.on_failure, MessageBody=json.dumps(description))

    def drain(self, seconds: float = 30) -> None:
        """Poll until the stream has nothing new (for tests)."""
        limit = time.monotonic() + seconds
        while time.monotonic() < limit and self.poll_once():
            pass

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set."""
        poll_until(stop, self.poll_once, IDLE_POLL_SECONDS, self.function.config.name)

    def start(self, stop: threading.Event) -> None:
        """One reader (shards are read in order, one batch at a time)."""
        threading.Thread(target=self.run, args=(stop,), daemon=True).start()


class FunctionStreams:
    """Every DynamoDB stream event source of one function, each polled as Lambda would (for tests and benchmarks)."""

    def __init__(self, stack: LocalStack, function: str) -> None:
        self.pollers = [StreamPoller(stack, function, source) for source in stack.spec(function).streams]

    def poll_once(self) -> int:
        """Read each stream's next batches and run them; returns how many records ran."""
        return sum(poller.poll_once() for poller in self.pollers)

    def drain(self, seconds: float = 30) -> None:
        """Poll until no stream has anything new."""
        limit = time.monotonic() + seconds
        while time.monotonic() < limit and self.poll_once():
            pass


def pollers(stack: LocalStack) -> list[QueuePoller | StreamPoller]:
    """One poller for each SQS and DynamoDB stream event source of each function of the template."""
    found: list[QueuePoller | StreamPoller] = []
    for spec in stack.template.functions():
        found += [QueuePoller(stack, spec.name, source.queue, source.batch_size) for source in spec.queues]
        found += [StreamPoller(stack, spec.name, source) for source in spec.streams]
    return found

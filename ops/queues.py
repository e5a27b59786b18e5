"""The stack's SQS queues: each one's depth, its dead-letter queue, and which queue a dead-letter queue serves.

Queues are the stack's resources of type ``AWS::SQS::Queue``; their depths
and redrive policies come from SQS itself, the age of the oldest message from
where the target keeps it (:meth:`Target.oldest_message_ages`).
"""

from __future__ import annotations

import json
from argparse import Namespace
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ops.errors import OpsError
from ops.output import Output, Table
from ops.target import QUEUE, Target


@dataclass(frozen=True)
class Queue:
    """One queue of the stack, as SQS describes it now."""

    logical_id: str
    url: str
    attributes: dict[str, str]

    @property
    def arn(self) -> str:
        """The queue's ARN."""
        return self.attributes["QueueArn"]

    @property
    def name(self) -> str:
        """The queue's name (what CloudWatch's dimension says)."""
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def visible(self) -> int:
        """Messages waiting (approximately)."""
        return int(self.attributes.get("ApproximateNumberOfMessages", 0))

    @property
    def in_flight(self) -> int:
        """Messages received and not yet deleted (approximately)."""
        return int(self.attributes.get("ApproximateNumberOfMessagesNotVisible", 0))

    @property
    def redrive_policy(self) -> dict[str, Any] | None:
        """Where failures go: ``deadLetterTargetArn`` and ``maxReceiveCount``; ``None`` for a queue without one."""
        policy = self.attributes.get("RedrivePolicy")
        return json.loads(policy) if policy else None


def stack_queues(target: Target) -> dict[str, Queue]:
    """Every queue of the stack, by logical id."""
    sqs = target.client("sqs")
    queues = {}
    for logical_id in target.logical_ids(QUEUE):
        url = target.physical_id(logical_id)
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        queues[logical_id] = Queue(logical_id, url, attributes)
    return queues


def find(queues: dict[str, Queue], logical_id: str) -> Queue:
    """The queue ``logical_id``; an unknown one is an error naming those there are."""
    if logical_id not in queues:
        raise OpsError(f"no queue {logical_id!r} in the stack; there are: {', '.join(sorted(queues))}")
    return queues[logical_id]


def dead_letter_queue(queues: dict[str, Queue], queue: Queue) -> Queue | None:
    """The queue's dead-letter queue (its redrive policy's target), if it has one in the stack."""
    policy = queue.redrive_policy
    if policy is None:
        return None
    return next((other for other in queues.values() if other.arn == policy["deadLetterTargetArn"]), None)


def sources(queues: dict[str, Queue], dead_letters: Queue) -> list[Queue]:
    """The queues whose redrive policy sends their failures to ``dead_letters``."""
    return [queue for queue in queues.values() if dead_letter_queue(queues, queue) is dead_letters]


COLUMNS = (
    "queue",
    "visible",
    "in_flight",
    "oldest_age_seconds",
    "dead_letter_queue",
    "dead_letter_visible",
    "dead_letter_of",
)


def list_queues(target: Target, args: Namespace) -> Output:
    """``queues``: every queue's depth, the age of its oldest message, its dead-letter queue and that one's depth."""
    queues = stack_queues(target)
    notes = []
    try:
        by_name = target.oldest_message_ages([queue.name for queue in queues.values()])
        ages = {queue.logical_id: by_name[queue.name] for queue in queues.values() if queue.name in by_name}
    except ClientError as error:  # depths still help without the ages (a role without cloudwatch:GetMetricData)
        ages = {}
        notes.append(f"(no message ages: CloudWatch refused: {error.response.get('Error', {}).get('Code')})")
    rows = []
    for logical_id, queue in sorted(queues.items()):
        dead_letters = dead_letter_queue(queues, queue)
        rows.append(
            {
                "queue": logical_id,
                "visible": queue.visible,
                "in_flight": queue.in_flight,
                "oldest_age_seconds": ages.get(logical_id),
                "dead_letter_queue": dead_letters.logical_id if dead_letters else None,
                "dead_letter_visible": dead_letters.visible if dead_letters else None,
                "dead_letter_of": [source.logical_id for source in sources(queues, queue)],
            }
        )
    return Output(rows, [Table(COLUMNS, rows), *notes])

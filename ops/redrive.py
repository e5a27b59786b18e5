"""``redrive``: every message of a dead-letter queue back to the queue whose redrive policy sends failures there.

Deployed, SQS moves them itself (``StartMessageMoveTask``), and this waits
for the task to finish. moto (the local stack) does not implement message
move tasks, so locally the messages are moved in batches: received, sent to
the source queue with their attributes, and only then deleted (a failure in
between sends one twice: the consumers are idempotent).
"""

from __future__ import annotations

import time
from argparse import Namespace
from typing import Any

from ops.errors import OpsError, Refused
from ops.output import Output
from ops.queues import Queue, find, sources, stack_queues
from ops.target import Target

# A move task reports its progress; this is how often it is asked, and how long this command waits for the end.
_POLL_SECONDS = 2.0
_WAIT_SECONDS = 600.0
# While a batch moves by hand its messages stay hidden this long; a failed batch shows again after it.
_BATCH_VISIBILITY_SECONDS = 60
_BATCH = 10


def _move_task(sqs: Any, dead_letters: Queue, source: Queue) -> tuple[int, str]:
    """SQS's own move; (messages moved, the task's status), once it ended or this stopped waiting."""
    sqs.start_message_move_task(SourceArn=dead_letters.arn, DestinationArn=source.arn)
    until = time.monotonic() + _WAIT_SECONDS
    while True:
        (task,) = sqs.list_message_move_tasks(SourceArn=dead_letters.arn, MaxResults=1)["Results"]
        moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
        if task["Status"] != "RUNNING" or time.monotonic() > until:
            return moved, task["Status"]
        time.sleep(_POLL_SECONDS)


def _copied_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """Message attributes as SendMessageBatch takes them (a receive adds empty list fields it refuses)."""
    return {
        name: {key: value[key] for key in ("DataType", "StringValue", "BinaryValue") if key in value}
        for name, value in attributes.items()
    }


def _move_by_hand(sqs: Any, dead_letters: Queue, source: Queue) -> int:
    """Receive, send, delete, ten at a time, until the dead-letter queue has nothing visible; messages moved."""
    moved = 0
    while batch := sqs.receive_message(
        QueueUrl=dead_letters.url,
        MaxNumberOfMessages=_BATCH,
        VisibilityTimeout=_BATCH_VISIBILITY_SECONDS,
        WaitTimeSeconds=1,
        MessageAttributeNames=["All"],
    ).get("Messages", []):
        entries = [
            {
                "Id": str(index),
                "MessageBody": message["Body"],
                "MessageAttributes": _copied_attributes(message.get("MessageAttributes", {})),
            }
            for index, message in enumerate(batch)
        ]
        sent = sqs.send_message_batch(QueueUrl=source.url, Entries=entries)
        done = [batch[int(entry["Id"])] for entry in sent.get("Successful", [])]
        if done:
            sqs.delete_message_batch(
                QueueUrl=dead_letters.url,
                Entries=[{"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(done)],
            )
        moved += len(done)
        if sent.get("Failed"):
            raise OpsError(
                f"moved {moved}; {len(sent['Failed'])} could not be sent to {source.logical_id} and show again in"
                f" {dead_letters.logical_id} within {_BATCH_VISIBILITY_SECONDS} s: run redrive again"
            )
    return moved


def redrive(target: Target, args: Namespace) -> Output:
    """``redrive DLQ``: its messages back to their source queue (``--yes``; without it, what it would move)."""
    queues = stack_queues(target)
    dead_letters = find(queues, args.queue)
    sending = sources(queues, dead_letters)
    if not sending:
        raise OpsError(
            f"no queue of the stack sends its failures to {dead_letters.logical_id}: its messages are not a queue's"
            " to take again (a schedule's or a stream's failures: run the job again, `python -m ops sync run`)"
        )
    if len(sending) > 1:
        raise OpsError(f"{len(sending)} queues send their failures to {dead_letters.logical_id}: move them by hand")
    (source,) = sending
    plan = {"from": dead_letters.logical_id, "to": source.logical_id, "messages": dead_letters.visible}
    if not dead_letters.visible:  # nothing to confirm, nothing to do: not a refusal
        return Output(
            {**plan, "moved": 0, "status": "EMPTY"},
            [f"{dead_letters.logical_id} holds no message to move back to {source.logical_id}."],
        )
    if not args.yes:
        raise Refused(
            f"would move the {dead_letters.visible} messages of {dead_letters.logical_id} back to {source.logical_id}",
            plan,
        )
    sqs = target.client("sqs")
    if target.moves_messages:
        moved, status = _move_task(sqs, dead_letters, source)
    else:
        moved, status = _move_by_hand(sqs, dead_letters, source), "COMPLETED"
    result = {**plan, "moved": moved, "status": status}
    lines = [f"Moved {moved} messages from {dead_letters.logical_id} to {source.logical_id} ({status})."]
    if status == "RUNNING":
        lines.append("The move goes on: `python -m ops queues` shows what is left.")
    return Output(result, lines)

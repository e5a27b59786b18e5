"""``peek``: a queue's messages, looked at without taking them: received with a visibility timeout of 0, never deleted.

Bodies and attributes are redacted with the layer's redaction (the shapes the
providers register, such as Stripe's keys) and their personal data masked
(``ops.personal``) before they are cut to length, so a secret or an address
is never cut into a piece the masks would no longer recognise.
"""

from __future__ import annotations

from argparse import Namespace
from typing import Any

from ops.output import Output, timestamp
from ops.personal import mask_personal
from ops.queues import find, stack_queues
from ops.target import Target
from seawall.observability import redact

# SQS answers at most ten messages a receive.
_RECEIVE_MAX = 10
# Long polling asks every SQS server; short polling (0) samples some and may miss messages that are there.
_WAIT_SECONDS = 1


def _shortened(text: str, limit: int) -> str:
    masked = redact(mask_personal(text))
    if len(masked) <= limit:
        return masked
    return f"{masked[:limit]}... ({len(masked) - limit} more characters)"


def _attribute(value: dict[str, Any], limit: int) -> str:
    if "StringValue" in value:
        return _shortened(str(value["StringValue"]), limit)
    return f"<{value.get('DataType', 'Binary')}>"


def _message(message: dict[str, Any], limit: int) -> dict[str, Any]:
    system = message.get("Attributes", {})
    sent = system.get("SentTimestamp")
    return {
        "message_id": message["MessageId"],
        "sent_at": timestamp(int(sent) / 1000) if sent else None,
        "receive_count": int(system.get("ApproximateReceiveCount", 0)),
        "attributes": {
            name: _attribute(value, limit) for name, value in sorted(message.get("MessageAttributes", {}).items())
        },
        "body": _shortened(message.get("Body", ""), limit),
    }


def peek(target: Target, args: Namespace) -> Output:
    """``peek QUEUE``: up to ``--max`` messages, each with its attributes and its body (redacted, shortened)."""
    queues = stack_queues(target)
    queue = find(queues, args.queue)
    sqs = target.client("sqs")
    seen: dict[str, dict[str, Any]] = {}
    # Visible messages stay visible (timeout 0), so a receive may answer ones already seen: stop when none is new.
    while len(seen) < args.max:
        answer = sqs.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=min(_RECEIVE_MAX, args.max - len(seen)),
            VisibilityTimeout=0,
            WaitTimeSeconds=_WAIT_SECONDS,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        new = [message for message in answer.get("Messages", []) if message["MessageId"] not in seen]
        if not new:
            break
        seen.update((message["MessageId"], _message(message, args.body_chars)) for message in new)
    messages = list(seen.values())
    blocks: list[str] = [
        f"{queue.logical_id}: {queue.visible} visible, {queue.in_flight} in flight; showing {len(messages)}"
    ]
    for message in messages:
        attributes = ", ".join(f"{name}={value}" for name, value in message["attributes"].items()) or "-"
        blocks += [
            "",
            f"message {message['message_id']}  sent {message['sent_at']}  received {message['receive_count']} times",
            f"  attributes: {attributes}",
            f"  body: {message['body']}",
        ]
    policy = queue.redrive_policy
    note = None
    if policy is not None:
        note = (
            f"Each look counts as a receive: after {policy['maxReceiveCount']} receives SQS moves a message"
            f" of {queue.logical_id} to its dead-letter queue."
        )
        blocks += ["", note]
    return Output({"queue": queue.logical_id, "messages": messages, "note": note}, blocks)

"""Inbound webhooks, edge to bus: verify and queue, process each event once, publish through an outbox.

- ``inbox``: the receiver's half — the exact raw body verified (one re-read of
  the signing secret on a mismatch), checked to be an event, put on SQS.
- ``processor``: the consumer's half — SQS batches with partial failures, each
  failed record logged once and counted.
- ``projections``: convergent projection writes, each event's fact and marker in the same write.
- ``outbox``: the stream-triggered publisher onto the domain event bus.
- ``standard``: Standard Webhooks signatures and envelope.
"""

from seawall.webhooks.inbox import WebhookInbox, verify_rotating

__all__ = ["WebhookInbox", "verify_rotating"]

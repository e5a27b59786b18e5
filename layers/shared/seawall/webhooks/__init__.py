"""Inbound webhooks: take the exact raw body, verify it, queue it, answer fast.

Business parsing happens in the processor, not at the edge: the receiver only
proves the delivery came from the provider and hands it to SQS.
"""

from seawall.webhooks.inbox import WebhookInbox, raw_body

__all__ = ["WebhookInbox", "raw_body"]

"""The Stripe events queue's consumer: each message read as the way it came says, each event applied once.

Failed records return to the queue, and after five receives go to the
dead-letter queue. An event is applied once by its id, not the SQS message
id: its write is conditional on the event's marker, which the same write
leaves on its aggregate (``seawall.webhooks.projections``), so Stripe's
duplicate deliveries, reconciliation's overlap, SQS redeliveries and redrives
have one effect, two at once too. There is no Powertools idempotency record
in front of it: the marker is the record, kept 35 days and written in the
same write, where a record would cost two more writes an event and guard
against nothing the marker lets through.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.providers.stripe.events import StripeEventApplier
from seawall.providers.stripe.webhooks import Envelope, parse_event
from seawall.webhooks.processor import QueueProcessor, message_attributes


class StripeEventsProcessor:
    """SQS batches of Stripe events in, each event applied by ``applier`` once per event id."""

    def __init__(self, applier: StripeEventApplier) -> None:
        self.applier = applier
        self._queue = QueueProcessor("stripe-events", self.apply_record)

    def apply_record(self, record: SQSRecord) -> None:
        """One message: a Stripe event, read as the way it came says.

        The receiver and reconciliation queue the event itself and mark the
        message with its provider; Stripe's EventBridge destination (the partner
        bus's rule) cannot set attributes and puts its EventBridge event.
        """
        envelope: Envelope = "stripe" if message_attributes(record, "provider") else "eventbridge"
        self.applier.apply(parse_event(record.body, envelope=envelope))

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        """One SQS batch; the answer lists the failed records (ReportBatchItemFailures)."""
        return self._queue(event, context)

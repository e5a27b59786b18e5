"""The Stripe events queue's consumer: each message read as the way it came says, each event applied once.

Failed records return to the queue, and after five receives go to the
dead-letter queue. Idempotency is keyed on Stripe's event id, not the SQS
message id, so Stripe's duplicate deliveries, reconciliation's overlap and SQS
redeliveries have one effect; past the idempotency record's week, the event's
marker in the outbox makes a repeat a no-op (``seawall.webhooks.projections``).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.providers.stripe.events import StripeEventApplier
from seawall.providers.stripe.webhooks import Envelope, StripeEvent, parse_event
from seawall.webhooks.processor import QueueProcessor, message_attributes

IDEMPOTENCY_SECONDS = 7 * 24 * 3600


class StripeEventsProcessor:
    """SQS batches of Stripe events in, each event applied by ``applier`` once per event id.

    ``persistence`` keeps the idempotency records (one layer for this processor
    alone: Powertools configures a layer once); ``key_prefix`` keeps their keys
    stable across refactors.
    """

    def __init__(
        self, applier: StripeEventApplier, persistence: BasePersistenceLayer, *, key_prefix: str = "stripe-event"
    ) -> None:
        self.applier = applier
        self.config = IdempotencyConfig(
            event_key_jmespath="id", raise_on_no_idempotency_key=True, expires_after_seconds=IDEMPOTENCY_SECONDS
        )
        self._apply_once = idempotent_function(
            data_keyword_argument="event", persistence_store=persistence, config=self.config, key_prefix=key_prefix
        )(self._apply)
        self._queue = QueueProcessor("stripe-events", self.apply_record)

    def _apply(self, event: StripeEvent) -> dict[str, Any]:
        return {"applied": event.id, "outcome": self.applier.apply(event)}

    def apply_record(self, record: SQSRecord) -> None:
        """One message: a Stripe event, read as the way it came says.

        The receiver and reconciliation queue the event itself and mark the
        message with its provider; Stripe's EventBridge destination (the partner
        bus's rule) cannot set attributes and puts its EventBridge event.
        """
        envelope: Envelope = "stripe" if message_attributes(record, "provider") else "eventbridge"
        self._apply_once(event=parse_event(record.body, envelope=envelope))

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        """One SQS batch; the answer lists the failed records (ReportBatchItemFailures)."""
        self.config.register_lambda_context(context)  # an in-progress record lives as long as the invocation
        return self._queue(event, context)

"""The outbox's publisher: domain events from the outbox table's stream onto the EventBridge bus.

Records are published one at a time, in stream order: an aggregate's facts
are writes to its one outbox row, which the stream gives in the order they
were made, so they reach the bus in ``sequence`` order. Rows that hold no
event (an event's marker) and expiring rows publish nothing. On the first failure
the rest of the batch is left unpublished and reported from that record on
(ReportBatchItemFailures), so a retry never sends an event twice; only an
answer lost after EventBridge accepted an event can repeat it, and
subscribers deduplicate on ``detail.event_id``.
"""

from __future__ import annotations

from typing import Any

from seawall.observability._logging import error_name, logger
from seawall.observability._metrics import emit
from seawall.webhooks.projections import DomainEvent


class OutboxPublisher:
    """Publishes the outbox's new rows to ``bus``."""

    def __init__(self, events: Any, bus: str) -> None:
        self.events = events
        self.bus = bus

    def publish(self, event: DomainEvent) -> None:
        """Put one event on the bus; raises when EventBridge refuses it."""
        answer = self.events.put_events(Entries=[event.entry(self.bus)])
        if answer.get("FailedEntryCount"):
            code = (answer.get("Entries") or [{}])[0].get("ErrorCode", "unknown")
            raise RuntimeError(f"EventBridge refused the event ({code})")

    def __call__(self, stream_event: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
        """Publish a DynamoDB stream batch; answers the first failed record (and so all after it) as failed."""
        for record in stream_event.get("Records", []):
            if record.get("eventName") not in ("INSERT", "MODIFY"):
                continue  # an outbox row expiring (REMOVE) publishes nothing
            event = DomainEvent.from_outbox(record["dynamodb"]["NewImage"])
            if event is None:
                continue
            try:
                self.publish(event)
            except Exception as error:  # noqa: BLE001 (any failure leaves it and the rest for the retry)
                logger.warning(
                    "domain event not published; the batch resumes here",
                    extra={"event_id": event.event_id, "detail_type": event.detail_type, "error": error_name(error)},
                )
                emit("DomainEventPublishFailed", detail_type=event.detail_type)
                return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
            emit("DomainEventPublished", detail_type=event.detail_type)
        return {"batchItemFailures": []}

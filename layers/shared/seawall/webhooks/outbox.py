"""The outbox's publisher: domain events from the tables' streams onto the EventBridge bus.

Records are published one at a time, in stream order: an aggregate's facts
are writes to its one item (the projection), which the stream gives in the
order they were made, so they reach the bus in ``sequence`` order. An outbox
row holds an event with no projection. Writes that bring no event (an event's
marker, a write that only tidies an item) and expiring rows publish nothing
(``DomainEvent.from_image``). On the first failure
the rest of the batch is left unpublished and reported from that record on
(ReportBatchItemFailures), so a retry never sends an event twice; only an
answer lost after EventBridge accepted an event can repeat it, and
subscribers deduplicate on ``detail.event_id``.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from seawall.observability._logging import error_name, logger
from seawall.observability._metrics import emit
from seawall.webhooks.projections import DomainEvent

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient


class OutboxPublisher:
    """Publishes the events the tables' new and changed items bring to ``bus``."""

    def __init__(self, events: EventBridgeClient, bus: str) -> None:
        self.events = events
        self.bus = bus

    def publish(self, event: DomainEvent) -> None:
        """Put one event on the bus; raises when EventBridge refuses it."""
        answer = self.events.put_events(Entries=[event.entry(self.bus)])
        if answer.get("FailedEntryCount"):
            code = (answer.get("Entries") or [{}])[0].get("ErrorCode", "unknown")
            raise RuntimeError(f"EventBridge refused the event ({code})")

    def __call__(self, stream_event: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
        """Publish a DynamoDB stream batch; answers the first failed record (and so all after it) as failed.

        ``DomainEventPublished`` is counted once per batch and detail type (one log line each, not one an
        event): a batch that fails or times out is sent again whole, and counted when it is published.
        """
        published: Counter[str] = Counter()
        for record in stream_event.get("Records", []):
            if record.get("eventName") not in ("INSERT", "MODIFY"):
                continue  # an outbox row expiring (REMOVE) publishes nothing
            event = DomainEvent.from_image(record["dynamodb"]["NewImage"], record["dynamodb"].get("OldImage"))
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
                _count(published)  # the records before it are done
                return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
            published[event.detail_type] += 1
        _count(published)
        return {"batchItemFailures": []}


def _count(published: Counter[str]) -> None:
    for detail_type, count in published.items():
        emit("DomainEventPublished", count, detail_type=detail_type)

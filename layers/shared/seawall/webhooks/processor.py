"""The consuming half every webhook provider shares: SQS batches in, each record handled on its own.

Powertools' batch processing reports partial failures (a failed message
returns to the queue and, after the redrive policy's receives, moves to the
dead-letter queue). Powertools says nothing when a record fails; here each
failure is logged once — the message id, what ``describe`` tells of it (an
event id and type), the error class, never the payload — and counted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.observability._logging import error_name, logger
from seawall.observability._metrics import emit
from seawall.observability.correlation import correlate_record


def event_fields(record: SQSRecord) -> dict[str, str]:
    """The ``id`` and ``type`` of a record whose body is a JSON event, as far as they can be read."""
    try:
        body = json.loads(record.body)
    except ValueError:
        return {}
    if not isinstance(body, dict):
        return {}
    return {f"event_{name}": str(body[name])[:255] for name in ("id", "type") if isinstance(body.get(name), str)}


def message_attributes(record: SQSRecord, *names: str) -> dict[str, str]:
    """The named string attributes the receiver put on the message (those it has)."""
    attributes = record.raw_event.get("messageAttributes") or {}
    found = {name: (attributes.get(name) or {}).get("stringValue") for name in names}
    return {name: value for name, value in found.items() if isinstance(value, str)}


class _ReportingBatchProcessor(BatchProcessor):
    def __init__(self, name: str, describe: Callable[[SQSRecord], Mapping[str, str]]) -> None:
        # Every record failing is no exception: each is reported as failed, as when some fail.
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self.name = name
        self.describe = describe

    def failure_handler(self, record: Any, exception: Any) -> Any:
        facts = self.describe(record) if isinstance(record, SQSRecord) else {}
        logger.warning(
            "record failed; it returns to the queue",
            extra={
                "processor": self.name,
                "message_id": getattr(record, "message_id", None),
                **facts,
                "error": error_name(exception[1]) if exception[1] else None,
            },
        )
        emit("RecordFailed", processor=self.name)
        return super().failure_handler(record, exception)


class QueueProcessor:
    """A queue's consumer: ``handle`` runs per record, under the record's correlation id."""

    def __init__(
        self,
        name: str,
        handle: Callable[[SQSRecord], object],
        describe: Callable[[SQSRecord], Mapping[str, str]] = event_fields,
    ) -> None:
        self.handle = handle
        self._batch = _ReportingBatchProcessor(name, describe)

    def _record(self, record: SQSRecord) -> None:
        correlate_record(record.raw_event)
        self.handle(record)

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        """Process one SQS batch; the answer lists the failed records (ReportBatchItemFailures)."""
        return process_partial_response(
            event=event, record_handler=self._record, processor=self._batch, context=context
        )

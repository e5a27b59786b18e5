"""The guide's events package: the Standard Webhooks payload, and domain events as outbox rows."""

import json
import time
from typing import Any

from pydantic import BaseModel

OUTBOX_DAYS = 7


class StandardEvent(BaseModel):
    """A Standard Webhooks payload: ``{"type": ..., "timestamp": ..., "data": {...}}``."""

    type: str
    data: dict[str, Any]


def outbox_item(event_id: str, source: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    """The outbox row of one domain event (the stream publishes it to the bus)."""
    return {
        "id": {"S": event_id},
        "source": {"S": source},
        "detail_type": {"S": detail_type},
        "detail": {"S": json.dumps(detail)},
        "expires_at": {"N": str(int(time.time()) + OUTBOX_DAYS * 86_400)},
    }

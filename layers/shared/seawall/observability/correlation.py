"""Where each kind of event carries its correlation id.

API Gateway gives a request id; an SQS message carries the id of the request
that queued it as the ``correlation_id`` message attribute (falling back to
its own message id), so one id follows a webhook from the edge to its effects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from seawall.observability._logging import logger

CORRELATION_ATTRIBUTE = "correlation_id"

API_GATEWAY_REST = correlation_paths.API_GATEWAY_REST
SQS = f"Records[0].messageAttributes.{CORRELATION_ATTRIBUTE}.stringValue || Records[0].messageId"


def correlate_record(record: Mapping[str, Any]) -> str:
    """Make one SQS record's correlation id the logger's (batch handlers call it per record)."""
    attribute = record.get("messageAttributes", {}).get(CORRELATION_ATTRIBUTE, {})
    correlation_id = str(attribute.get("stringValue") or record["messageId"])
    logger.set_correlation_id(correlation_id)
    return correlation_id

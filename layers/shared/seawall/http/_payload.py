"""Validating what a provider sent against the model we expect."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from seawall.errors import IntegrationError
from seawall.observability._logging import logger
from seawall.observability._redaction import redact

M = TypeVar("M", bound=BaseModel)

BODY_LOG_LIMIT = 2048


def parse_payload(model: type[M], payload: bytes | str | Mapping[str, Any], *, service: str) -> M:
    """Validate ``payload`` as ``model``.

    On failure the raw body is logged once, truncated to ``BODY_LOG_LIMIT``
    characters and redacted, and a non-retryable :class:`IntegrationError` is
    raised without the validation error attached (its text quotes the body).
    """
    try:
        if isinstance(payload, (bytes, str)):
            return model.model_validate_json(payload)
        return model.model_validate(payload)
    except ValidationError as error:
        if isinstance(payload, bytes):
            raw = payload.decode("utf-8", errors="replace")
        elif isinstance(payload, str):
            raw = payload
        else:
            raw = json.dumps(payload, default=str)
        truncated = len(raw) > BODY_LOG_LIMIT
        logger.error(
            "provider response failed validation",
            extra={
                "provider": service,
                "model": model.__name__,
                "errors": [
                    {"loc": ".".join(str(part) for part in item["loc"]), "type": item["type"]}
                    for item in error.errors(include_input=False, include_url=False)
                ],
                "body": redact(raw[:BODY_LOG_LIMIT]),
                "body_truncated": truncated,
            },
        )
    raise IntegrationError(service, "unexpected response from provider", retryable=False)

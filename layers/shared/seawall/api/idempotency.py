"""Idempotent API actions: the client's Idempotency-Key, through Powertools idempotency.

A retried request with the same key and body gets the first response without
running the action again; the same key with another body is refused (422); a
duplicate while the first still runs is refused (409). Keys come only from the
client, never from the clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, ServiceError
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from seawall.idempotency import persistence_layer

HEADER = "Idempotency-Key"
_VALID = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, as Stripe accepts


def idempotency_key(app: ApiGatewayResolver) -> str:
    """The request's Idempotency-Key header; 400 when it is missing or malformed."""
    key = app.current_event.headers.get(HEADER)  # case-insensitive in Powertools v3
    if not key:
        raise BadRequestError(f"the {HEADER} header is required")
    if not _VALID.match(key):
        raise BadRequestError(f"the {HEADER} header must be 1-255 printable ASCII characters")
    return key


class IdempotentAction:
    """One action's idempotency: records keyed by ``name`` and the client's key, checked against the body."""

    def __init__(self, name: str, *, expires_after_seconds: int = 24 * 3600) -> None:
        self.name = name
        self.config = IdempotencyConfig(
            event_key_jmespath="key", payload_validation_jmespath="body", expires_after_seconds=expires_after_seconds
        )
        self._run = idempotent_function(
            data_keyword_argument="request",
            persistence_store=persistence_layer(),
            config=self.config,
            key_prefix=name,
        )(self._invoke)

    def register(self, context: LambdaContext) -> None:
        """Give Powertools the invocation's context (its in-progress expiry follows the remaining time)."""
        self.config.register_lambda_context(context)

    def run(self, key: str, body: dict[str, Any], action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``action()`` once per key; a repeat returns the first result.

        The same key with another body answers 422; a duplicate while the first
        still runs answers 409.
        """
        try:
            result: dict[str, Any] = self._run(request={"key": key, "body": body}, action=action)
        except IdempotencyValidationError:
            raise ServiceError(422, f"this {HEADER} was used with a different request body") from None
        except IdempotencyAlreadyInProgressError:
            raise ServiceError(409, f"a request with this {HEADER} is in progress; retry shortly") from None
        return result

    def created(
        self, app: ApiGatewayResolver, request: BaseModel, create: Callable[[str], BaseModel]
    ) -> Response[dict[str, Any]]:
        """201 with what ``create(provider_key)`` made, made once per Idempotency-Key and ``request`` body."""
        key = idempotency_key(app)
        result = self.run(
            key, request.model_dump(mode="json"), lambda: create(self.provider_key(key)).model_dump(mode="json")
        )
        return Response(status_code=201, content_type="application/json", body=result)

    def provider_key(self, key: str) -> str:
        """The key sent to the provider: the client's, scoped to this action (never the clock)."""
        return f"{self.name}:{key}"

    @staticmethod
    def _invoke(request: dict[str, Any], action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return action()

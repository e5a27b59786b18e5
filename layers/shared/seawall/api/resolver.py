"""The resolver factory for API actions."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.api.problems import problem_response, register_problem_handlers
from seawall.observability.metrics import emit

MAX_BODY_BYTES = 256 * 1024


def _body_size(event: Mapping[str, Any]) -> int:
    body = event.get("body") or ""
    return len(base64.b64decode(body)) if event.get("isBase64Encoded") else len(body.encode())


class ActionResolver(APIGatewayRestResolver):
    """Powertools' REST resolver that refuses bodies over MAX_BODY_BYTES (413) before anything parses them.

    The check sits in ``resolve`` because Powertools runs request validation
    before any middleware.
    """

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Answer 413 for an oversized body; otherwise resolve as Powertools does."""
        if _body_size(event) <= MAX_BODY_BYTES:
            return super().resolve(event, context)
        emit("RequestTooLarge")  # alarmed: a provider's webhook this large would otherwise be refused unseen
        request_id = (event.get("requestContext") or {}).get("requestId")
        response = problem_response(
            ServiceError(413, f"the request body exceeds {MAX_BODY_BYTES // 1024} KB"), request_id
        )
        headers = {"Content-Type": response.content_type or "", **response.headers}
        return {
            "statusCode": response.status_code,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "body": response.body,
            "isBase64Encoded": False,
        }


def create_resolver(**options: Any) -> APIGatewayRestResolver:
    """A REST API resolver (``options`` as Powertools takes them) answering errors as problem+json."""
    app = ActionResolver(**options)
    register_problem_handlers(app)
    return app

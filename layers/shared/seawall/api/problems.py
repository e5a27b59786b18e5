"""Answering every error of an API action with ``application/problem+json``."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict

from seawall.errors.problem import CONTENT_TYPE, Problem, problem_for
from seawall.observability.logging import logger

# What each status means for the API's callers (the OpenAPI document lists them per operation).
PROBLEM_STATUSES = {
    400: "Malformed body, missing or malformed Idempotency-Key, or a webhook that is not verified or not an event",
    402: "The provider declined the request (a card error carries decline_code)",
    403: "Not authenticated (SigV4)",
    404: "No such object",
    409: "A request with this Idempotency-Key is in progress (see Retry-After)",
    413: "Body over 256 KB",
    415: "A body that is not application/json",
    422: "Validation failed (field errors in `errors`), or an Idempotency-Key reused with another body",
    429: "Rate limited: the API's, ours or the provider's (see Retry-After)",
    500: "Internal error",
    502: "The provider, or the queue behind a webhook, failed",
    503: "The provider's circuit is open, or our state store is unreachable (see Retry-After)",
    504: "The provider or the deadline ran out",
}


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error is answered (extension members may follow)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    request_id: str | None = None


def problem_responses(*statuses: int) -> dict[int, OpenAPIResponse]:
    """The OpenAPI responses for the problems an operation may answer (``statuses``, and 500, which any may)."""
    content: Any = {CONTENT_TYPE: {"model": ProblemDetails}}
    return {
        status: {"description": PROBLEM_STATUSES[status], "content": content} for status in sorted({*statuses, 500})
    }


class ProblemError(Exception):
    """Answer the request with this problem (a refusal that needs headers, such as 409 with Retry-After)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def _validation_problem(error: RequestValidationError) -> Problem:
    items = error.errors()
    if any(item.get("type") == "json_invalid" for item in items):
        return Problem(400, "malformed", "the request body is not valid JSON")
    errors = [
        {"loc": [str(part) for part in item.get("loc", ())], "msg": str(item.get("msg")), "type": item.get("type")}
        for item in items
    ]
    return Problem(422, "validation", "the request is not valid", {"errors": errors})


def _problem(error: BaseException) -> Problem:
    if isinstance(error, ProblemError):
        return error.problem
    if isinstance(error, RequestValidationError):
        return _validation_problem(error)
    if isinstance(error, ServiceError):
        return Problem(error.status_code, "http", str(error.msg) or HTTPStatus(error.status_code).phrase)
    return problem_for(error)


def problem_response(error: BaseException, request_id: str | None = None) -> Response[str]:
    """The problem+json response for ``error``, logged by what it means.

    A bug (500) is logged with its traceback; a provider's failure (502, 504)
    once, at warning; refusals (4xx, and 503 from an open circuit or our
    store, whose cause is logged where it happened) at info.
    """
    problem = _problem(error)
    extra = {"status": problem.status, "error": type(error).__name__}
    if problem.status == HTTPStatus.INTERNAL_SERVER_ERROR:
        logger.exception("request failed", exc_info=error)
    elif problem.status in (HTTPStatus.BAD_GATEWAY, HTTPStatus.GATEWAY_TIMEOUT):
        logger.warning("provider call failed", extra={**extra, "detail": problem.detail})
    else:
        logger.info("request refused", extra=extra)
    body = problem.body()
    if request_id:
        body["request_id"] = request_id
    return Response(
        status_code=problem.status, content_type=CONTENT_TYPE, body=json.dumps(body), headers=problem.headers
    )


def _allowed_methods(app: ApiGatewayResolver, path: str) -> list[str]:
    # Powertools answers 404 for a known path with another method and has no public route table.
    routes = app._static_routes + app._dynamic_routes
    return sorted({route.method for route in routes if route.rule.match(path)})


def register_problem_handlers(app: ApiGatewayResolver) -> None:
    """Route every exception ``app`` meets (unknown routes and methods included) through :func:`problem_response`."""

    def answer(error: Exception) -> Response[str]:
        event = app.current_event
        context = event.raw_event.get("requestContext") or {}
        if isinstance(error, NotFoundError):
            allowed = _allowed_methods(app, event.path)
            if allowed:
                response = problem_response(ServiceError(405, f"use {', '.join(allowed)}"), context.get("requestId"))
                response.headers["Allow"] = ", ".join(allowed)
                return response
            error = ServiceError(404, "no such route")
        return problem_response(error, context.get("requestId"))

    app.exception_handler(Exception)(answer)

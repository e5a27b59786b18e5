"""Answering every error of an API action with ``application/problem+json``."""

from __future__ import annotations

import json
from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from seawall.errors.problem import CONTENT_TYPE, Problem, problem_for
from seawall.observability.logging import logger


def _problem(error: BaseException) -> Problem:
    if isinstance(error, RequestValidationError):
        errors = [
            {
                "loc": [str(part) for part in item.get("loc", ())],
                "msg": str(item.get("msg", "")),
                "type": item.get("type"),
            }
            for item in error.errors()
        ]
        return Problem(422, "validation", "the request is not valid", {"errors": errors})
    if isinstance(error, ServiceError):
        return Problem(error.status_code, "http", str(error.msg) or "request failed")
    return problem_for(error)


def problem_response(error: BaseException, request_id: str | None = None) -> Response[str]:
    """The problem+json response for ``error``; 5xx are logged with their cause, the rest at info."""
    problem = _problem(error)
    if problem.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        logger.exception("request failed", exc_info=error)
    else:
        logger.info("request refused", extra={"status": problem.status, "error": type(error).__name__})
    body = problem.body()
    if request_id:
        body["request_id"] = request_id
    return Response(
        status_code=problem.status, content_type=CONTENT_TYPE, body=json.dumps(body), headers=problem.headers
    )


def register_problem_handlers(app: ApiGatewayResolver) -> None:
    """Route every exception ``app`` meets (unknown routes included) through :func:`problem_response`."""

    def answer(error: Exception) -> Response[str]:
        context = app.current_event.raw_event.get("requestContext") or {}
        return problem_response(error, context.get("requestId"))

    app.exception_handler(Exception)(answer)

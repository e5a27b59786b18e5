"""Answering every error of an API action with ``application/problem+json``."""

from __future__ import annotations

import json
from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from seawall.errors.problem import CONTENT_TYPE, Problem, problem_for
from seawall.observability.logging import logger


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
    if isinstance(error, RequestValidationError):
        return _validation_problem(error)
    if isinstance(error, ServiceError):
        return Problem(error.status_code, "http", str(error.msg) or HTTPStatus(error.status_code).phrase)
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

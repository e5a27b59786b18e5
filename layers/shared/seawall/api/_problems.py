"""The API actions' problems in Powertools' terms: its validation and HTTP errors, answered as its Response.

The mapping itself (:func:`~seawall.problems.problem_for`) lives in
:mod:`seawall.problems`, which the webhook receivers use without Powertools.
"""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from seawall.problems import CONTENT_TYPE, Problem, answer, problem_for


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
    """The problem+json response for ``error``, logged by what it means (:func:`seawall.problems.answer`)."""
    problem = _problem(error)
    return Response(
        status_code=problem.status,
        content_type=CONTENT_TYPE,
        body=answer(problem, error, request_id),
        headers=problem.headers,
    )

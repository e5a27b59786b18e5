"""API actions: a router that validates typed parameters and answers every error as problem+json.

- :class:`ActionRouter`: an action's routes; refuses oversized (413), non-JSON
  (415) and non-UTF-8 (400) bodies early, answers 404, 405 (with ``Allow``)
  and every exception as ``application/problem+json``, and generates the
  OpenAPI document through Powertools only when asked for it.
- :class:`Response`: an answer other than 200, with its status and headers.
- :func:`problem_responses`: the OpenAPI responses an operation declares.
- :func:`problem_for`: the one mapping from the layer's errors to problems.

Idempotent actions are in :mod:`seawall.idempotency`.
"""

from seawall.api._request import Request, raw_body
from seawall.api._router import ActionRouter, Response
from seawall.problems import CONTENT_TYPE, Problem, ProblemError, problem_for, problem_responses, retry_after_headers

__all__ = [
    "CONTENT_TYPE",
    "ActionRouter",
    "Problem",
    "ProblemError",
    "Request",
    "Response",
    "problem_for",
    "problem_responses",
    "raw_body",
    "retry_after_headers",
]

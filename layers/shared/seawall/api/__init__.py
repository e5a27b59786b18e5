"""API actions: the resolver every action uses, with every error answered as problem+json.

- :func:`create_resolver`: Powertools' REST resolver that refuses oversized,
  non-JSON and non-UTF-8 bodies early and answers 404, 405 and every exception
  as ``application/problem+json``.
- :func:`problem_responses`: the OpenAPI responses an operation declares.
- :func:`problem_for`: the one mapping from the layer's errors to problems.

Idempotent actions are in :mod:`seawall.idempotency`.
"""

from seawall.api._problems import problem_response
from seawall.api._resolver import ActionResolver, create_resolver
from seawall.problems import CONTENT_TYPE, Problem, ProblemError, problem_for, problem_responses, retry_after_headers

__all__ = [
    "CONTENT_TYPE",
    "ActionResolver",
    "Problem",
    "ProblemError",
    "create_resolver",
    "problem_for",
    "problem_response",
    "problem_responses",
    "retry_after_headers",
]

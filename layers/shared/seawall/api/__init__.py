"""API actions: a router that validates typed parameters and answers every error as problem+json.

- :class:`ActionRouter`: an action's routes; refuses oversized (413), non-JSON
  (415) and non-UTF-8 (400) bodies early, answers 404, 405 (with ``Allow``)
  and every exception as ``application/problem+json``, and generates the
  OpenAPI document through Powertools only when asked for it.
- :class:`Response`: an answer other than 200, with its status and headers.

Problems (``Problem``, ``ProblemError``, ``problem_for``, ``problem_responses``)
have one home, :mod:`seawall.problems`, which the webhook receivers share.

Idempotent actions are in :mod:`seawall.idempotency`.
"""

from seawall.api._request import Request, raw_body
from seawall.api._router import ActionRouter, Response

__all__ = ["ActionRouter", "Request", "Response", "raw_body"]

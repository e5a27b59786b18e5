"""The API Gateway resolver every API action uses, with errors answered as problem+json.

Idempotent actions live in ``seawall.api.idempotency`` (imported by the
actions that need it: it loads Powertools idempotency and boto3).
"""

from seawall.api.problems import problem_response, problem_responses, register_problem_handlers
from seawall.api.resolver import create_resolver

__all__ = ["create_resolver", "problem_response", "problem_responses", "register_problem_handlers"]

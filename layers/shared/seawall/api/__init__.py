"""The API Gateway resolver every API action uses, with errors answered as problem+json."""

from seawall.api.problems import problem_response, register_problem_handlers
from seawall.api.resolver import create_resolver

__all__ = ["create_resolver", "problem_response", "register_problem_handlers"]

"""The resolver factory for API actions."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from seawall.api.problems import register_problem_handlers


def create_resolver(**options: Any) -> APIGatewayRestResolver:
    """A REST API resolver (``options`` as Powertools takes them) answering errors as problem+json."""
    app = APIGatewayRestResolver(**options)
    register_problem_handlers(app)
    return app

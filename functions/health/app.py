"""GET /health: the stack is deployed, configured and answering.

Public by design (uptime checks call it without credentials), so it says
nothing beyond status, service, stage and version.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.api import ActionRouter
from seawall.config import core_settings
from seawall.handler import instrumented
from seawall.observability import correlation
from seawall.problems import problem_responses
from seawall.version import __version__

settings = core_settings()
app = ActionRouter()


@app.get("/health", responses={200: {"description": "The function runs and is configured"}, **problem_responses()})
def health() -> dict[str, str]:
    """Report that this function runs, and which deployment it belongs to."""
    return {"status": "ok", "service": settings.service, "stage": settings.stage, "version": __version__}


@instrumented(correlation.API_GATEWAY_REST, trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway entry point."""
    return app.resolve(event, context)

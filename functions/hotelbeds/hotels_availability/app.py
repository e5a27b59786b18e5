"""POST /hotels/availability: hotels and rates for a stay, validated before any of Hotelbeds' quota is spent."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.api import ActionRouter, Response
from seawall.handler import instrumented
from seawall.observability import correlation
from seawall.problems import problem_responses
from seawall.providers.hotelbeds.client import HotelbedsGateway
from seawall.providers.hotelbeds.models import Availability
from seawall.providers.hotelbeds.search import AvailabilitySearch
from seawall.state import SharedState

app = ActionRouter()
hotelbeds = HotelbedsGateway(SharedState.from_env())


@app.post(
    "/hotels/availability",
    summary="Search hotel availability",
    responses={
        200: {"description": "Hotels with rooms and rates", "content": {"application/json": {"model": Availability}}},
        **problem_responses(400, 413, 415, 422, 429, 502, 503, 504),
    },
    # A search changes nothing: no Idempotency-Key (local/openapi.py).
    openapi_extensions={"x-safe": True},
)
def search(request: AvailabilitySearch) -> Response:
    """Hotels and rates; equal searches within the cache's lifetime are answered without calling Hotelbeds."""
    availability = hotelbeds.availability(request)
    return Response(status_code=200, body=availability)


@instrumented(correlation.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway entry point."""
    return app.resolve(event, context)

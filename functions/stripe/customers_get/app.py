"""GET /customers/{customer_id}: a live Stripe customer, or 404."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.api import ActionRouter
from seawall.handler import instrumented
from seawall.observability import correlation
from seawall.problems import problem_responses
from seawall.providers.stripe.client import StripeGateway
from seawall.providers.stripe.limits import CustomerId
from seawall.providers.stripe.models import Customer
from seawall.state import SharedState

app = ActionRouter()
stripe = StripeGateway(SharedState.from_env())


@app.get(
    "/customers/<customer_id>",
    summary="Get a customer",
    responses={200: {"description": "The customer"}, **problem_responses(404, 422, 429, 502, 503, 504)},
)
def get_customer(customer_id: CustomerId) -> Customer:
    """The customer; unknown and deleted customers answer 404."""
    return stripe.get_customer(customer_id)


@instrumented(correlation.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway entry point."""
    return app.resolve(event, context)

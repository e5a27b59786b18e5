"""GET /customers/{customer_id}: a live Stripe customer, or 404."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.api import create_resolver
from seawall.observability import correlation, instrumented
from seawall.providers.stripe.client import StripeGateway
from seawall.providers.stripe.limits import CustomerId
from seawall.providers.stripe.models import Customer

app = create_resolver(enable_validation=True)
stripe = StripeGateway()


@app.get("/customers/<customer_id>", summary="Get a customer")
def get_customer(customer_id: Annotated[CustomerId, Path()]) -> Customer:
    """The customer; unknown and deleted customers answer 404."""
    return stripe.get_customer(customer_id)


@instrumented(correlation.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway entry point."""
    return app.resolve(event, context)

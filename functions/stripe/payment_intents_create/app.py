"""POST /payment-intents: create a Stripe payment intent, once per Idempotency-Key."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from seawall.api import ActionRouter, Response
from seawall.handler import instrumented
from seawall.idempotency import IdempotentAction
from seawall.observability import correlation
from seawall.problems import problem_responses
from seawall.providers.stripe.client import StripeGateway
from seawall.providers.stripe.limits import Amount, Currency, CustomerId, Metadata
from seawall.providers.stripe.models import PaymentIntent
from seawall.state import SharedState

app = ActionRouter()
state = SharedState.from_env()
stripe = StripeGateway(state)
action = IdempotentAction("payment-intents-create", state)


class NewPaymentIntent(BaseModel):
    """Money as an integer amount in the currency's smallest unit, and a three-letter currency."""

    model_config = ConfigDict(extra="forbid")

    amount: Amount
    currency: Currency
    customer: CustomerId | None = None
    metadata: Metadata = Field(default_factory=dict)


@app.post(
    "/payment-intents",
    summary="Create a payment intent",
    responses={
        201: {"description": "Created", "content": {"application/json": {"model": PaymentIntent}}},
        **problem_responses(400, 402, 409, 413, 415, 422, 429, 502, 503, 504),
    },
)
def create_payment_intent(intent: NewPaymentIntent) -> Response:
    """Create the payment intent at Stripe; a retry with the same key returns the first answer."""
    return action.created(
        app,
        intent,
        lambda key: stripe.create_payment_intent(
            amount=intent.amount,
            currency=intent.currency,
            customer=intent.customer,
            metadata=intent.metadata,
            idempotency_key=key,
        ),
    )


@instrumented(correlation.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway entry point."""
    action.register(context)
    return app.resolve(event, context)

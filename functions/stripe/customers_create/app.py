"""POST /customers: create a Stripe customer, once per Idempotency-Key."""

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
from seawall.providers.stripe.limits import Metadata
from seawall.providers.stripe.models import Customer
from seawall.state import SharedState

app = ActionRouter()
state = SharedState.from_env()
stripe = StripeGateway(state)
action = IdempotentAction("customers-create", state)


class NewCustomer(BaseModel):
    """The request body; every field may be left out, as Stripe allows."""

    model_config = ConfigDict(extra="forbid")

    # No \s: JSON Schema's (ECMA) and Python's disagree on it (U+0085); controls and spaces are spelled out.
    email: str | None = Field(
        default=None, max_length=512, pattern=r"^[^@\x00-\x20\x7f-\x9f]+@[^@\x00-\x20\x7f-\x9f]+$"
    )
    name: str | None = Field(default=None, max_length=256)
    metadata: Metadata = Field(default_factory=dict)


@app.post(
    "/customers",
    summary="Create a customer",
    responses={
        201: {"description": "Created", "content": {"application/json": {"model": Customer}}},
        **problem_responses(400, 409, 413, 415, 422, 429, 502, 503, 504),
    },
)
def create_customer(customer: NewCustomer) -> Response:
    """Create the customer at Stripe; a retry with the same key returns the first answer."""
    return action.created(
        app,
        customer,
        lambda key: stripe.create_customer(
            email=customer.email, name=customer.name, metadata=customer.metadata, idempotency_key=key
        ),
    )


@instrumented(correlation.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway entry point."""
    action.register(context)
    return app.resolve(event, context)

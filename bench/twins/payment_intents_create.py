"""Twin of PaymentIntentsCreateFunction: validate with pydantic, create the payment intent at Stripe, once per key."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict, Field
from seed import logger
from seed_idempotency import once_per_key
from seed_stripe import client

app = APIGatewayRestResolver(enable_validation=True)


class NewPaymentIntent(BaseModel):
    """The request body: an amount in the currency's smallest unit."""

    model_config = ConfigDict(extra="forbid")

    amount: int = Field(gt=0, le=99_999_999)
    currency: str = Field(pattern=r"^[a-z]{3}$")
    customer: str | None = Field(default=None, pattern=r"^cus_[A-Za-z0-9]{1,64}$")
    metadata: dict[str, str] = Field(default_factory=dict)


class PaymentIntent(BaseModel):
    """A payment intent as the API answers it."""

    id: str
    amount: int
    currency: str
    status: str
    customer: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    created: int
    client_secret: str | None = None
    livemode: bool = False


@app.post("/payment-intents")
def create_payment_intent(intent: Annotated[NewPaymentIntent, Body()]) -> Response[dict[str, Any]]:
    """Create the payment intent at Stripe under the caller's key."""
    created = client.v1.payment_intents.create(
        params={**intent.model_dump(exclude_none=True), "automatic_payment_methods": {"enabled": True}},  # type: ignore[typeddict-item]
        options={"idempotency_key": app.current_event.headers["Idempotency-Key"]},
    )
    body = PaymentIntent.model_validate(created.to_dict()).model_dump()
    return Response(status_code=201, content_type="application/json", body=body)


@logger.inject_lambda_context
@once_per_key
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway entry point."""
    return app.resolve(event, context)

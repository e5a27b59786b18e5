"""Twin of CustomersCreateFunction: validate with pydantic, create the customer at Stripe, once per Idempotency-Key."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict, Field
from seed import logger
from seed_idempotency import once_per_key
from seed_stripe import Customer, client

app = APIGatewayRestResolver(enable_validation=True)


class NewCustomer(BaseModel):
    """The request body."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, max_length=512, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str | None = Field(default=None, max_length=256)
    metadata: dict[str, str] = Field(default_factory=dict)


@app.post("/customers")
def create_customer(customer: Annotated[NewCustomer, Body()]) -> Response[dict[str, Any]]:
    """Create the customer at Stripe under the caller's key."""
    created = client.v1.customers.create(
        params=customer.model_dump(exclude_none=True),  # type: ignore[arg-type]
        options={"idempotency_key": app.current_event.headers["Idempotency-Key"]},
    )
    body = Customer.model_validate(created.to_dict()).model_dump()
    return Response(status_code=201, content_type="application/json", body=body)


@logger.inject_lambda_context
@once_per_key
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway entry point."""
    return app.resolve(event, context)

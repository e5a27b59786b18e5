"""Twin of CustomersGetFunction: the customer read from Stripe, 404 when unknown or deleted."""

from typing import Annotated, Any

import stripe
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.params import Path
from seed import logger
from seed_stripe import Customer, client

app = APIGatewayRestResolver(enable_validation=True)


@app.get("/customers/<customer_id>")
def get_customer(customer_id: Annotated[str, Path(pattern=r"^cus_[A-Za-z0-9]{1,64}$")]) -> dict[str, Any]:
    """The customer, live at Stripe."""
    try:
        customer = client.v1.customers.retrieve(customer_id).to_dict()
    except stripe.InvalidRequestError as error:
        raise ServiceError(404, "no such customer") from error
    if customer.get("deleted"):
        raise ServiceError(404, "no such customer")
    return Customer.model_validate(customer).model_dump()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway entry point."""
    return app.resolve(event, context)

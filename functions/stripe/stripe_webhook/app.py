"""POST /webhooks/stripe: verify Stripe's signature over the raw body, queue the delivery, answer 200.

No business parsing here: Stripe gives up on endpoints that are slow, so the
edge only proves the delivery is Stripe's and is an event at all, and keeps it
(SQS). A warm delivery costs one AWS call; the signing secrets (a secret of
their own: this public function cannot read the API key) are cached.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.config import Secret
from seawall.handler import instrumented
from seawall.observability import correlation
from seawall.problems import problem_responses
from seawall.providers.stripe.secrets import StripeWebhookSecret
from seawall.providers.stripe.webhooks import parse_event, verify_signature
from seawall.webhooks import WebhookInbox, verify_rotating
from seawall.webhooks.receiver import Delivery, WebhookReceiver

app = WebhookReceiver(
    "/webhooks/stripe",
    responses={200: {"description": "Verified and queued"}, **problem_responses(400, 413, 502, 503, 504)},
)
secret = Secret.from_env("STRIPE_WEBHOOK_SECRET_ARN", StripeWebhookSecret, label="stripe-webhook")
inbox = WebhookInbox.from_env("stripe", "STRIPE_EVENTS_QUEUE_URL")


@app.post
def receive(delivery: Delivery) -> None:
    """Verify, check, queue; a bad signature or a body that is no event is 400, a queue failure 5xx."""

    def verify() -> None:
        verify_rotating(
            secret,
            lambda value: verify_signature(
                delivery.payload,
                delivery.headers.get("stripe-signature"),
                [item.get_secret_value() for item in value.webhook_secrets],
            ),
        )
        parse_event(delivery.payload)

    inbox.receive(delivery.payload, delivery.request_id, verify)


@instrumented(correlation.API_GATEWAY_REST, trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway entry point (untraced: the receiver's cold start must stay the shortest)."""
    return app.resolve(event, context)

"""POST /webhooks/stripe: verify Stripe's signature over the raw body, queue the delivery, answer 200.

No business parsing here: Stripe gives up on endpoints that are slow, so the
edge only proves the delivery is Stripe's and keeps it (SQS). A warm delivery
costs one AWS call; the signing secrets are cached.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.api import create_resolver
from seawall.config import Secret
from seawall.errors import WebhookVerificationError
from seawall.observability import correlation, emit, instrumented
from seawall.providers.stripe.secrets import StripeSecret
from seawall.providers.stripe.webhooks import verify_signature
from seawall.webhooks import WebhookInbox, raw_body

app = create_resolver()
secret = Secret.from_env("STRIPE_SECRET_ARN", StripeSecret, label="stripe")
inbox = WebhookInbox.from_env("stripe", "STRIPE_EVENTS_QUEUE_URL")


@app.post("/webhooks/stripe")
def receive() -> dict[str, bool]:
    """Verify, queue, acknowledge; a bad signature is 400, a queue failure 5xx (Stripe retries)."""
    event = app.current_event
    payload = raw_body(event.raw_event)
    signing_secrets = [value.get_secret_value() for value in secret.get().webhook_secrets]
    try:
        verify_signature(payload, event.headers.get("Stripe-Signature"), signing_secrets)
    except WebhookVerificationError:
        emit("WebhookRejected", provider="stripe")
        raise
    inbox.put(payload, correlation_id=event.request_context.request_id)
    return {"received": True}


@instrumented(correlation.API_GATEWAY_REST, trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway entry point (untraced: the receiver's cold start must stay the shortest)."""
    return app.resolve(event, context)

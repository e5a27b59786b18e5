"""POST /webhooks/{provider}: any provider signing with Standard Webhooks, verified and queued.

The next provider plugs in by adding its name and signing secret to the
StandardWebhooksSecret; deliveries follow the same queue-and-processor path as
Stripe's.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.api import create_resolver
from seawall.config import Secret
from seawall.errors import WebhookVerificationError
from seawall.observability import correlation, emit, instrumented
from seawall.webhooks import WebhookInbox, raw_body
from seawall.webhooks.standard import StandardWebhookSecrets, verify_standard_webhook

app = create_resolver()
secret = Secret.from_env("STANDARD_WEBHOOKS_SECRET_ARN", StandardWebhookSecrets, label="standard-webhooks")
inbox = WebhookInbox.from_env("standard-webhooks", "PROVIDER_EVENTS_QUEUE_URL")


@app.post("/webhooks/<provider>")
def receive(provider: str) -> dict[str, bool]:
    """Verify, queue, acknowledge; an unknown provider is 404, a bad signature 400."""
    secrets = secret.get().providers.get(provider)
    if secrets is None:
        raise ServiceError(404, f"no webhook provider {provider!r}")  # not NotFoundError: that means "no route"
    event = app.current_event
    payload = raw_body(event.raw_event)
    try:
        webhook_id = verify_standard_webhook(
            provider, payload, dict(event.headers), [value.get_secret_value() for value in secrets]
        )
    except WebhookVerificationError:
        emit("WebhookRejected", provider=provider)
        raise
    inbox.put(payload, event.request_context.request_id, {"provider": provider, "webhook_id": webhook_id})
    return {"received": True}


@instrumented(correlation.API_GATEWAY_REST, trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway entry point."""
    return app.resolve(event, context)

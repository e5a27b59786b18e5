"""POST /webhooks/{provider}: any provider signing with Standard Webhooks, verified and queued.

The next provider plugs in by adding its name and signing secret to the
StandardWebhooksSecret; deliveries follow the same queue-and-processor path as
Stripe's.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.config import Secret
from seawall.handler import instrumented
from seawall.observability import correlation
from seawall.problems import Problem, ProblemError, problem_responses
from seawall.webhooks import WebhookInbox, verify_rotating
from seawall.webhooks.receiver import Delivery, WebhookReceiver
from seawall.webhooks.standard import StandardWebhookSecrets, publishable_event, verify_standard_webhook

app = WebhookReceiver(
    "/webhooks/<provider>",
    responses={200: {"description": "Verified and queued"}, **problem_responses(400, 404, 413, 502, 503, 504)},
)
secret = Secret.from_env("STANDARD_WEBHOOKS_SECRET_ARN", StandardWebhookSecrets, label="standard-webhooks")
inbox = WebhookInbox.from_env("standard-webhooks", "PROVIDER_EVENTS_QUEUE_URL")


@app.post
def receive(delivery: Delivery) -> None:
    """Verify, check, queue; an unknown provider is 404, a bad signature or body 400."""
    provider = delivery.path.get("provider", "")
    if provider not in secret.get().providers:
        raise ProblemError(Problem(404, "http", "no such webhook provider"))  # the path is not echoed

    def verify() -> dict[str, str]:
        webhook_id = verify_rotating(
            secret,
            lambda value: verify_standard_webhook(
                provider,
                delivery.payload,
                delivery.headers,
                [item.get_secret_value() for item in value.providers.get(provider, [])],
            ),
        )
        publishable_event(provider, webhook_id, delivery.payload)
        return {"provider": provider, "webhook_id": webhook_id}

    inbox.receive(delivery.payload, delivery.request_id, verify, provider=provider)


@instrumented(correlation.API_GATEWAY_REST, trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway entry point."""
    return app.resolve(event, context)

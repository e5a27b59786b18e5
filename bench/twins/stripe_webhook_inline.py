"""The guide's synchronous Stripe webhook: verify, then apply in the same invocation (bench/cost.py's baseline).

Not the twin of one function: it does in one invocation what StripeWebhookFunction
and StripeEventsFunction do between them, as the guide's handler does (its
replay protection as Powertools idempotency, the projection and the domain
event's outbox row in one transaction, as the processor's twin writes them).
"""

from typing import Any

from seed import json_response, logger
from stripe_events import apply_once, config
from stripe_webhook import verified


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Verify the signature over the body, apply the event once, answer 200."""
    config.register_lambda_context(context)
    delivery = verified(event)
    if delivery is None:
        return json_response(400, {"success": False, "error": "Invalid signature"})
    _, received = delivery
    apply_once(event=received)
    logger.info("Received", extra={"type": received.type})
    return json_response(200, {"received": True})

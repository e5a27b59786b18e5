"""Stripe: the typed client (``client``), its models, input limits, webhook signatures and events.

Import from the submodules: this package stays light so the webhook receiver
verifies signatures without loading the stripe SDK. Importing it teaches the
layer's redaction Stripe's key shapes.
"""

from seawall.observability import register_secret_shape

SERVICE = "stripe"

# Stripe's advice on retrying, which overrules the status code ("true"/"false").
SHOULD_RETRY_HEADER = "Stripe-Should-Retry"

register_secret_shape(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]+")  # secret, restricted and publishable keys
register_secret_shape(r"\bwhsec_[A-Za-z0-9+/=_-]+")  # webhook signing secrets
# A payment's or setup's client secret: whoever holds it can confirm the payment from a browser.
register_secret_shape(r"\b(?:pi|seti)_[A-Za-z0-9]+_secret_[A-Za-z0-9]+")

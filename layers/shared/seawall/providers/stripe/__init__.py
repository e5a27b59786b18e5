"""Stripe: the typed client (``client``), its models, error mapping, input limits, webhook signatures.

Import from the submodules: this package stays light so the webhook receiver
verifies signatures without loading the stripe SDK.
"""

SERVICE = "stripe"

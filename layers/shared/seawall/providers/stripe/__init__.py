"""Stripe: the secret's shape (the client arrives with the API actions)."""

from seawall.providers.stripe.secrets import StripeSecret

__all__ = ["StripeSecret"]

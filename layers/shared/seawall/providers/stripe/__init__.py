"""Stripe: the secret's shape, the typed client, its models and error mapping."""

from seawall.providers.stripe.client import StripeGateway
from seawall.providers.stripe.models import Customer, DeletedCustomer, PaymentIntent
from seawall.providers.stripe.secrets import StripeSecret
from seawall.providers.stripe.settings import StripeSettings

__all__ = ["Customer", "DeletedCustomer", "PaymentIntent", "StripeGateway", "StripeSecret", "StripeSettings"]

"""The one way every provider client calls out: deadline, retry, breaker, limiter, bounded call."""

from seawall.provider.call import ProviderCall, ProviderPolicy

__all__ = ["ProviderCall", "ProviderPolicy"]

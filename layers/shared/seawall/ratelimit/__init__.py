"""A rate limiter shared by the whole fleet: fixed windows, several limits at once, one store round trip.

Build one with ``SharedState.rate_limiter(provider, limits)``.
"""

from seawall.ratelimit._limiter import RateLimiter, StorePolicy
from seawall.ratelimit._limits import Decision, Limit, Usage

__all__ = ["Decision", "Limit", "RateLimiter", "StorePolicy", "Usage"]

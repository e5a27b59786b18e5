"""A rate limiter shared by the whole fleet: fixed windows, several limits at once, one store round trip.

Build one with ``SharedState.rate_limiter(provider, limits)``.
"""

from seawall.ratelimit.limiter import RateLimiter
from seawall.ratelimit.limits import Decision, Limit, decide

__all__ = ["Decision", "Limit", "RateLimiter", "decide"]

"""A rate limiter shared by the whole fleet: fixed windows, several limits at once, one store round trip."""

from seawall.ratelimit.limiter import RateLimiter, rate_limiter
from seawall.ratelimit.limits import Decision, Limit, decide

__all__ = ["Decision", "Limit", "RateLimiter", "decide", "rate_limiter"]

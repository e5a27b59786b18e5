"""A fleet-wide rate limiter: exact over any sliding interval (GCRA) or in fixed windows, one round trip.

Several limits are decided at once, atomically.

Build one with ``SharedState.rate_limiter(provider, limits)``.
"""

from seawall.ratelimit._limiter import RateLimiter, StorePolicy
from seawall.ratelimit._limits import ARRIVAL_ALLOWANCE_SECONDS, Decision, Limit, Usage

__all__ = ["ARRIVAL_ALLOWANCE_SECONDS", "Decision", "Limit", "RateLimiter", "StorePolicy", "Usage"]

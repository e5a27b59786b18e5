"""A circuit breaker per provider, shared by every container of every function that calls it.

Build one with ``SharedState.circuit_breaker(provider, config)``.
"""

from seawall.breaker._breaker import CircuitBreaker
from seawall.breaker._config import BreakerConfig
from seawall.breaker._record import BreakerState, Snapshot

__all__ = ["BreakerConfig", "BreakerState", "CircuitBreaker", "Snapshot"]

"""A circuit breaker per provider, shared by every container of every function that calls it.

Build one with ``SharedState.circuit_breaker(provider, config)``.
"""

from seawall.breaker.breaker import CircuitBreaker, is_provider_fault
from seawall.breaker.config import BreakerConfig
from seawall.breaker.state import BreakerState

__all__ = ["BreakerConfig", "BreakerState", "CircuitBreaker", "is_provider_fault"]

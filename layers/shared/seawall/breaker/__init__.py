"""A circuit breaker per provider, shared by every container of every function that calls it."""

from seawall.breaker.breaker import CircuitBreaker, circuit_breaker, is_provider_fault
from seawall.breaker.config import BreakerConfig
from seawall.breaker.state import BreakerState

__all__ = ["BreakerConfig", "BreakerState", "CircuitBreaker", "circuit_breaker", "is_provider_fault"]

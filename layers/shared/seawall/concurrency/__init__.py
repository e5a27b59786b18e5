"""Bounded fan-out within one invocation."""

from seawall.concurrency.bounded import bounded_map

__all__ = ["bounded_map"]

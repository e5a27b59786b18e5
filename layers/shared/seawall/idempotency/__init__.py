"""Idempotency through Powertools, on the configured state backend."""

from seawall.idempotency.store import persistence_layer
from seawall.idempotency.upstash import UpstashPersistenceLayer

__all__ = ["UpstashPersistenceLayer", "persistence_layer"]

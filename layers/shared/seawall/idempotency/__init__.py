"""Idempotency through Powertools on the configured state backend (``SharedState.persistence_layer``).

Powertools has a DynamoDB persistence layer; ``UpstashPersistenceLayer`` adds one for Upstash's REST API.
"""

from seawall.idempotency.upstash import UpstashPersistenceLayer

__all__ = ["UpstashPersistenceLayer"]

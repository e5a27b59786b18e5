"""Where the fleet's shared state lives: DynamoDB (default) or Upstash Redis, chosen by STATE_BACKEND.

Idempotency records, rate-limit counters and breaker state must be shared by
every container of every function: a Lambda container's memory protects
nothing when fifty run at once.
"""

from seawall.state.clients import UpstashSecret, dynamodb_client, upstash_client
from seawall.state.settings import StateSettings, state_settings
from seawall.state.stores import store_for_backend

__all__ = ["StateSettings", "UpstashSecret", "dynamodb_client", "state_settings", "store_for_backend", "upstash_client"]

"""Where the fleet's shared state lives: DynamoDB (default) or Upstash Redis, chosen by STATE_BACKEND.

Idempotency records, rate-limit counters and breaker state must be shared by
every container of every function: a Lambda container's memory protects
nothing when fifty run at once. A function builds one :class:`SharedState`
at init and takes its limiters, breakers and persistence layers from it.
"""

from seawall.state._clients import UpstashSecret
from seawall.state._settings import StateSettings
from seawall.state._shared import SharedState

__all__ = ["SharedState", "StateSettings", "UpstashSecret"]

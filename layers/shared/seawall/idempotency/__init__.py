"""Idempotency, through Powertools, on the state backend the function's :class:`~seawall.state.SharedState` chose.

- :class:`IdempotentAction`: an API action run once per caller and Idempotency-Key.
- :func:`idempotency_key` and :func:`caller_identity`: what the records are keyed by (400 and 403 when absent).

Event consumers use Powertools' ``idempotent_function`` with
``SharedState.persistence_layer()`` directly. Powertools has a DynamoDB
persistence layer; ``_upstash`` adds one for Upstash's REST API.
"""

from seawall.idempotency._action import IdempotentAction, caller_identity, idempotency_key

__all__ = ["IdempotentAction", "caller_identity", "idempotency_key"]

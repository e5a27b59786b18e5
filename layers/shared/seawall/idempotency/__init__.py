"""Idempotency, through Powertools, on the state backend the function's :class:`~seawall.state.SharedState` chose.

- :class:`IdempotentAction`: an API action run once per caller and Idempotency-Key.

Event consumers use Powertools' ``idempotent_function`` with
``SharedState.persistence_layer()`` directly. Powertools has a DynamoDB
persistence layer; ``_upstash`` adds one for Upstash's REST API.
"""

from seawall.idempotency._action import IdempotentAction, caller_identity

__all__ = ["IdempotentAction", "caller_identity"]

"""The Powertools persistence layer for STATE_BACKEND."""

from __future__ import annotations

import functools

from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

from seawall.state import dynamodb_client, state_settings, upstash_client


@functools.cache
def persistence_layer() -> BasePersistenceLayer:
    """DynamoDBPersistenceLayer on IDEMPOTENCY_TABLE, or the Upstash layer; one per container."""
    settings = state_settings()
    if settings.backend == "upstash":
        from seawall.idempotency.upstash import UpstashPersistenceLayer  # noqa: PLC0415

        return UpstashPersistenceLayer(upstash_client())
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer  # noqa: PLC0415

    return DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=dynamodb_client())

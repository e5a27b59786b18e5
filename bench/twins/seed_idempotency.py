"""The guide's idempotency: Powertools on the DynamoDB table, an API action once per caller and Idempotency-Key."""

import os

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent

persistence = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE"])

# The handler's answer is kept per caller and key; the same key with another body is refused.
once_per_key = idempotent(
    persistence_store=persistence,
    config=IdempotencyConfig(
        event_key_jmespath='[requestContext.identity.userArn, headers."Idempotency-Key"]',
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
    ),
)

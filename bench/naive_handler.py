"""The baseline for bench/coldstart.py: a handler written the way the original guide does it.

Everything is imported eagerly and every client is created at import, whether
the invocation needs it or not. Not deployed; measured only.
"""

import os
from typing import Any

import boto3
import httpx
import pydantic  # noqa: F401
import stripe
import upstash_redis
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities import parameters  # noqa: F401
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, idempotent  # noqa: F401

logger = Logger()
metrics = Metrics()
tracer = Tracer()
app = APIGatewayRestResolver()

dynamodb = boto3.client("dynamodb")
secrets = boto3.client("secretsmanager")
sqs = boto3.client("sqs")
stripe_client = stripe.StripeClient(os.environ.get("STRIPE_SECRET_KEY", "sk_test_naive"))
http = httpx.Client(timeout=30)
redis = upstash_redis.Redis(url="https://naive.upstash.io", token=os.environ.get("UPSTASH_TOKEN", "naive"))
persistence = DynamoDBPersistenceLayer(table_name="idempotency")


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)

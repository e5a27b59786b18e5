"""What every twin shares, written the way the original guide writes its packages: all at import.

The guide's core package imports its SDKs at the top, validates its settings
when the module loads (its ``env``), and exports ready-made clients. A twin's
handler module imports this, and the provider modules it uses, before its
first event arrives: that is the seed style the cold-start benchmark compares
against. Not deployed; measured only.
"""

import json
import os
from typing import Any

import boto3
import httpx
import pydantic
from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
metrics = Metrics()
tracer = Tracer()

secretsmanager = boto3.client("secretsmanager")
http = httpx.Client(timeout=30)


def secret(variable: str) -> dict[str, Any]:
    """The JSON secret whose ARN is in ``variable``, read now (the guide reads its env at import)."""
    value: dict[str, Any] = json.loads(secretsmanager.get_secret_value(SecretId=os.environ[variable])["SecretString"])
    return value


def json_response(status: int, body: Any) -> dict[str, Any]:
    """An API Gateway proxy response."""
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


class Event(pydantic.BaseModel):
    """The guide's webhook event schema (its zod ``StripeWebhookEventSchema``)."""

    id: str
    type: str
    data: dict[str, Any]
    created: int

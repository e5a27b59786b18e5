from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.stack import LocalStack

FIXTURE = Path(__file__).parent / "fixture" / "template.yaml"
SECRET = {"fixture_key": "local-fixture-secret-value"}


@pytest.fixture(scope="session")
def fixture_stack(moto_endpoint: str) -> Iterator[LocalStack]:
    """The fixture template provisioned once per run in moto (names are unique to it)."""
    stack = LocalStack(FIXTURE, moto_endpoint)
    stack.provision({"Secret": SECRET})
    yield stack
    stack.stop()


@pytest.fixture
def tables(aws: str) -> tuple[Any, str, str]:
    """A client, a table with a stream and a table with a sort key."""
    dynamodb = boto3.client("dynamodb", endpoint_url=aws)
    streamed, sorted_ = f"streamed-{uuid.uuid4().hex[:8]}", f"sorted-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=streamed,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    dynamodb.create_table(
        TableName=sorted_,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb, streamed, sorted_

"""What local/aws.py takes from moto's internals, checked by name: an upgrade that moves one fails here.

No public moto API does these jobs (TransactWriteItems rolled back item by item,
models not tracked forever, a queue's oldest message read without receiving it,
the server's own request handler), so local/aws.py reaches in. moto is pinned
(requirements-dev.txt); before raising the pin, run this file against the new
release: each failure names the internal that moved, and local/aws.py is
re-checked against it.
"""

from __future__ import annotations

import inspect
import re
import uuid
from pathlib import Path
from typing import Any

import boto3
import moto
import moto.dynamodb.models as moto_dynamodb
from moto.core.common_models import BaseModel
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_server import werkzeug_app
from moto.s3.models import FakeBucket
from moto.sqs.models import sqs_backends

from local import aws as local_aws

ROOT = Path(__file__).resolve().parents[2]


def test_the_moto_that_runs_is_the_pinned_one_these_internals_were_checked_against() -> None:
    pinned = re.search(r"^moto\[server\]==(\S+)$", (ROOT / "requirements-dev.txt").read_text(), re.MULTILINE)
    assert pinned is not None
    assert moto.__version__ == pinned.group(1)


def test_the_dynamodb_backends_transaction_and_copy_are_where_local_aws_replaces_them() -> None:
    original = local_aws._transact_write_items  # moto's, kept before it was replaced
    assert list(inspect.signature(original).parameters) == ["self", "transact_items"]
    assert moto_dynamodb.DynamoDBBackend.transact_write_items is local_aws._transact_rolling_back_items
    assert moto_dynamodb.copy is local_aws._TablesKept  # the module's own name for copy, which it deep-copies with
    assert inspect.signature(DynamoType).parameters.keys() >= {"type_as_dict"}


def test_a_tables_keys_items_and_stream_are_read_where_local_aws_reads_them(tables: tuple[Any, str, str]) -> None:
    dynamodb, name, _ = tables  # a table with a stream
    dynamodb.put_item(TableName=name, Item={"id": {"S": "a"}})
    table = dynamodb_backends[local_aws.ACCOUNT][local_aws.REGION].tables[name]
    assert isinstance(table, Table)
    assert (table.hash_key_attr, table.range_key_attr, table.has_range_key) == ("id", None, False)
    key = DynamoType({"S": "a"})
    assert table.get_item(key, None) is table.items[key]
    assert table.stream_shard is not None
    assert isinstance(table.stream_shard.items, list)
    assert len(table.stream_shard.items) == 1


def test_a_queues_counts_and_its_messages_send_times_are_read_where_local_aws_reads_them(moto_endpoint: str) -> None:
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint)
    name = f"contract-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    queue = sqs_backends[local_aws.ACCOUNT][local_aws.REGION].queues[name]
    assert (queue.approximate_number_of_messages, queue.approximate_number_of_messages_not_visible) == (1, 0)
    (message,) = queue.messages
    assert isinstance(message.sent_timestamp, int)
    assert local_aws.queue_metrics()[name]["ApproximateNumberOfMessagesVisible"] == 1.0


def test_models_are_made_through_base_models_new_and_s3_still_tracks_its_own() -> None:
    assert BaseModel.__new__ is local_aws._untracked
    assert isinstance(FakeBucket.instances_tracked, list)  # type: ignore[attr-defined]


def test_the_server_is_built_from_motos_werkzeug_app_as_moto_server_builds_it() -> None:
    for name in ("DomainDispatcherApplication", "MotoRequestHandler", "create_backend_app"):
        assert callable(getattr(werkzeug_app, name)), name

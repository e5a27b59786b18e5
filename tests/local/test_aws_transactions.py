"""TransactWriteItems on the local AWS endpoint: all or nothing, items and stream records, at DynamoDB's cost."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest


def stream_records(aws: str, dynamodb: Any, table: str) -> list[dict[str, Any]]:
    streams = boto3.client("dynamodbstreams", endpoint_url=aws)
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
    records: list[dict[str, Any]] = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return records


def test_a_cancelled_transaction_leaves_every_item_and_stream_as_it_was(tables: tuple[Any, str, str], aws: str) -> None:
    dynamodb, streamed, sorted_ = tables
    dynamodb.put_item(TableName=streamed, Item={"id": {"S": "kept"}, "count": {"N": "1"}})
    dynamodb.put_item(TableName=sorted_, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"S": "old"}})
    before = stream_records(aws, dynamodb, streamed)
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException) as cancelled:
        dynamodb.transact_write_items(
            TransactItems=[
                {  # applies (an update in place), then is undone
                    "Update": {
                        "TableName": streamed,
                        "Key": {"id": {"S": "kept"}},
                        "UpdateExpression": "SET #c = #c + :one",
                        "ExpressionAttributeNames": {"#c": "count"},
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Put": {"TableName": streamed, "Item": {"id": {"S": "new"}}}},  # applies, then is undone
                {
                    "Put": {
                        "TableName": sorted_,
                        "Item": {"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"S": "new"}},
                        "ConditionExpression": "attribute_not_exists(pk)",  # fails: the whole transaction is off
                    }
                },
            ]
        )
    codes = [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]]
    assert codes == ["None", "None", "ConditionalCheckFailed"]
    assert dynamodb.get_item(TableName=streamed, Key={"id": {"S": "kept"}})["Item"]["count"] == {"N": "1"}
    assert "Item" not in dynamodb.get_item(TableName=streamed, Key={"id": {"S": "new"}})
    assert dynamodb.get_item(TableName=sorted_, Key={"pk": {"S": "a"}, "sk": {"S": "1"}})["Item"]["v"] == {"S": "old"}
    assert stream_records(aws, dynamodb, streamed) == before  # nothing a publisher could read


def test_a_transaction_that_succeeds_writes_everything(tables: tuple[Any, str, str], aws: str) -> None:
    dynamodb, streamed, sorted_ = tables
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": streamed, "Item": {"id": {"S": "one"}}}},
            {"Put": {"TableName": sorted_, "Item": {"pk": {"S": "b"}, "sk": {"S": "2"}}}},
        ]
    )
    assert "Item" in dynamodb.get_item(TableName=streamed, Key={"id": {"S": "one"}})
    assert "Item" in dynamodb.get_item(TableName=sorted_, Key={"pk": {"S": "b"}, "sk": {"S": "2"}})
    assert [record["eventName"] for record in stream_records(aws, dynamodb, streamed)] == ["INSERT"]


def increment(table: str, token: str, by: int = 1) -> dict[str, Any]:
    return {
        "ClientRequestToken": token,
        "TransactItems": [
            {
                "Update": {
                    "TableName": table,
                    "Key": {"id": {"S": "counted"}},
                    "UpdateExpression": "ADD #c :by",
                    "ExpressionAttributeNames": {"#c": "count"},
                    "ExpressionAttributeValues": {":by": {"N": str(by)}},
                }
            }
        ],
    }


def test_a_transaction_sent_again_with_its_token_is_applied_once(tables: tuple[Any, str, str]) -> None:
    dynamodb, streamed, _ = tables
    token = uuid.uuid4().hex
    first = dynamodb.transact_write_items(**increment(streamed, token))
    again = dynamodb.transact_write_items(**increment(streamed, token))  # as the SDK does when an answer is lost
    dynamodb.transact_write_items(**increment(streamed, uuid.uuid4().hex))  # a new transaction applies
    assert dynamodb.get_item(TableName=streamed, Key={"id": {"S": "counted"}})["Item"]["count"] == {"N": "2"}
    assert {k: v for k, v in again.items() if k != "ResponseMetadata"} == {
        k: v for k, v in first.items() if k != "ResponseMetadata"
    }


def test_a_token_sent_again_with_other_items_is_refused(tables: tuple[Any, str, str]) -> None:
    dynamodb, streamed, _ = tables
    token = uuid.uuid4().hex
    dynamodb.transact_write_items(**increment(streamed, token))
    with pytest.raises(dynamodb.exceptions.IdempotentParameterMismatchException):
        dynamodb.transact_write_items(**increment(streamed, token, by=5))
    assert dynamodb.get_item(TableName=streamed, Key={"id": {"S": "counted"}})["Item"]["count"] == {"N": "1"}


def test_a_cancelled_transactions_token_may_be_sent_again_and_apply(tables: tuple[Any, str, str]) -> None:
    dynamodb, streamed, _ = tables
    token = uuid.uuid4().hex
    guarded = increment(streamed, token)
    guarded["TransactItems"][0]["Update"]["ConditionExpression"] = "attribute_exists(#c)"
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(**guarded)
    dynamodb.put_item(TableName=streamed, Item={"id": {"S": "counted"}, "count": {"N": "0"}})
    dynamodb.transact_write_items(**guarded)
    assert dynamodb.get_item(TableName=streamed, Key={"id": {"S": "counted"}})["Item"]["count"] == {"N": "1"}

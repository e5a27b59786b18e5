"""A table's DynamoDB stream read whole, as a test reads it (Lambda's own reading is local/eventsource.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from local.aws import aws_client


def stream_pages(endpoint: str, table: str, page_size: int = 100) -> Iterator[list[dict[str, Any]]]:
    """Every record of ``table``'s stream on moto at ``endpoint``, from its start, a page at a time."""
    dynamodb, streams = aws_client("dynamodb", endpoint), aws_client("dynamodbstreams", endpoint)
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            answer = streams.get_records(ShardIterator=iterator, Limit=page_size)
            page: list[dict[str, Any]] = answer["Records"]
            if not page:
                break
            yield page
            iterator = answer.get("NextShardIterator")

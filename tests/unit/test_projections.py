"""The projector's rarer paths, on DynamoDB in moto: markers pruned, a busy aggregate's markers moved to rows,
an item from before facts moved onto items, a closed aggregate keeping nothing of a stale event."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import boto3
import pytest

from seawall.webhooks.projections import (
    MARKER_PREFIX,
    DomainEvent,
    Projector,
    Write,
    markers_are_rows,
    order_key,
)


@pytest.fixture
def tables(aws: str) -> tuple[Any, str, str]:
    """A client, a projection table and an outbox table."""
    dynamodb = boto3.client("dynamodb", endpoint_url=aws)
    names = (f"projection-{uuid.uuid4().hex[:8]}", f"outbox-{uuid.uuid4().hex[:8]}")
    for name in names:
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    return dynamodb, *names


def write(table: str, key: str, created: int, name: str = "n", *, final: bool = False, condition: str = "") -> Write:
    """A customer's update (or, ``final``, its deletion) under a fresh event id."""
    event_id = f"evt_{uuid.uuid4().hex}"
    fact = DomainEvent(f"stripe:{event_id}", "integrations.stripe", "CustomerUpserted", {"name": name})
    if final:
        values, rank, remove = {"deleted": True}, 2, ("name",)
    else:
        values, rank, remove = {"name": name, "deleted": False}, 1, ()
    order = order_key(created, rank, event_id)
    return Write(table, key, "customer", values, order, fact, condition=condition, final=final, remove=remove)


def item(dynamodb: Any, table: str, key: str) -> dict[str, Any]:
    found: dict[str, Any] = dynamodb.get_item(TableName=table, Key={"id": {"S": key}}, ConsistentRead=True)["Item"]
    return found


def test_a_busy_aggregate_moves_its_markers_to_rows_and_still_applies_each_event_once(
    tables: tuple[Any, str, str],
) -> None:
    dynamodb, projections, outbox = tables
    projector = Projector(dynamodb, outbox, markers_per_item=3)
    writes = [write(projections, "cus_1", 100 + n, f"v{n}") for n in range(6)]
    assert [projector.apply(w) for w in writes] == ["changed"] * 6
    stored = item(dynamodb, projections, "cus_1")
    assert markers_are_rows(stored)
    assert sum(name.startswith(MARKER_PREFIX) for name in stored) == 3  # the item holds no more than it did
    rows = [w.event.event_id for w in writes[3:]]  # the events after it became busy: a row each
    assert all("Item" in dynamodb.get_item(TableName=outbox, Key={"id": {"S": row}}) for row in rows)
    assert [projector.apply(w) for w in writes] == ["duplicate"] * 6  # marked on the item or as a row: once
    assert item(dynamodb, projections, "cus_1")["fact_sequence"] == {"N": "6"}


def test_markers_past_their_time_are_pruned_by_the_next_write(tables: tuple[Any, str, str]) -> None:
    dynamodb, projections, outbox = tables
    projector = Projector(dynamodb, outbox)
    projector.apply(write(projections, "cus_2", 100))
    old = f"{MARKER_PREFIX}stripe:evt_old"
    dynamodb.update_item(
        TableName=projections,
        Key={"id": {"S": "cus_2"}},
        UpdateExpression="SET #old = :past",
        ExpressionAttributeNames={"#old": old},
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )
    projector.apply(write(projections, "cus_2", 101))
    stored = item(dynamodb, projections, "cus_2")
    assert old not in stored
    assert sum(name.startswith(MARKER_PREFIX) for name in stored) == 2


def test_an_aggregate_counted_before_facts_were_held_on_items_checks_its_marker_rows(
    tables: tuple[Any, str, str],
) -> None:
    dynamodb, projections, outbox = tables
    projector = Projector(dynamodb, outbox)
    earlier = write(projections, "cus_3", 100)
    # As the three-item transaction left it: a count on the item, the event's marker as a row.
    dynamodb.put_item(TableName=projections, Item={"id": {"S": "cus_3"}, "fact_sequence": {"N": "1"}})
    dynamodb.put_item(TableName=outbox, Item={"id": {"S": earlier.event.event_id}, "expires_at": {"N": "1"}})
    assert projector.apply(earlier) == "duplicate"
    later = write(projections, "cus_3", 101)
    assert projector.apply(later) == "changed"
    assert markers_are_rows(item(dynamodb, projections, "cus_3"))  # for good, though it now holds a fact
    assert [projector.apply(later), projector.apply(earlier)] == ["duplicate", "duplicate"]
    assert item(dynamodb, projections, "cus_3")["fact_sequence"] == {"N": "2"}


def test_a_closed_aggregate_keeps_nothing_of_a_stale_event_but_counts_its_fact(tables: tuple[Any, str, str]) -> None:
    dynamodb, projections, outbox = tables
    projector = Projector(dynamodb, outbox)
    assert projector.apply(write(projections, "cus_4", 100, final=True)) == "changed"
    customer = "attribute_not_exists(#deleted) OR #deleted = :deleted"
    late, later = (write(projections, "cus_4", 200 + n, f"secret-name-{n}", condition=customer) for n in range(2))
    for stale in (late, later):
        assert projector.apply(stale) == "unchanged"
        # Never written with the object's values, so no failure between two writes can leave them there.
        fact = json.loads(item(dynamodb, projections, "cus_4")["fact_detail"]["S"])
        assert fact == {"changed": False}
    assert [projector.apply(late), projector.apply(later)] == ["duplicate", "duplicate"]
    stored = item(dynamodb, projections, "cus_4")
    assert stored["fact_sequence"] == {"N": "3"}
    assert "secret-name" not in json.dumps(stored)


def test_a_value_may_not_take_a_name_the_projector_uses() -> None:
    fact = DomainEvent("stripe:evt_1", "integrations.stripe", "CustomerUpserted", {})
    with pytest.raises(ValueError, match="order"):
        Write("t", "k", "customer", {"order": 1}, order_key(1, 0, "evt_1"), fact)

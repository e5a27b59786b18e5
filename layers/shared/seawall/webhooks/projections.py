"""Writing projections so that a late, older event never overwrites newer data.

Each write carries the event's ``created`` time and id under an ordering key;
DynamoDB applies it only when nothing newer is stored (ties broken by event id,
and the same event may apply again, so a retried event still completes).
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeSerializer

_SERIALIZER = TypeSerializer()


def ordered_update(
    client: Any,
    *,
    table: str,
    key: str,
    values: dict[str, Any],
    order: str,
    created: int,
    event_id: str,
    condition: str = "",
) -> bool:
    """SET ``values`` on item ``key`` if event (created, id) is not older than what ``order`` recorded.

    ``condition`` adds a clause over the same names, ``#name`` for the stored
    attribute and ``:name`` for the value being written (e.g. a deleted customer
    stays deleted). Returns whether it applied.
    """
    names = {f"#{name}": name for name in values}
    assignments = [f"#{name} = :{name}" for name in values]
    attribute_values = {f":{name}": _SERIALIZER.serialize(value) for name, value in values.items()}
    names |= {"#created": f"{order}_created", "#event": f"{order}_event"}
    attribute_values |= {":created": {"N": str(created)}, ":event": {"S": event_id}}
    newer = "attribute_not_exists(#created) OR #created < :created OR (#created = :created AND #event <= :event)"
    try:
        client.update_item(
            TableName=table,
            Key={"id": {"S": key}},
            UpdateExpression="SET " + ", ".join([*assignments, "#created = :created", "#event = :event"]),
            ConditionExpression=f"({newer})" + (f" AND ({condition})" if condition else ""),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=attribute_values,
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True

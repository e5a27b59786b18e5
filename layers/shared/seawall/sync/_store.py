"""Where a sync job keeps its cursor and its lease: one record per job on the state backend.

The record holds the cursor (an opaque string), the time of the position it
marks, and the lease: who holds it and until when (ms since the epoch, on the
caller's clock, which Lambda keeps synchronised). A checkpoint stores the
position exactly as given: a position without a cursor (a pass to start over)
is recorded as such, never read as "keep the old cursor". Taking the lease succeeds
when nobody holds it or the holder's lease has run out; a checkpoint is
written only by the holder and extends its lease, so a run that lost the lease
(it outlived it and another took over) can never move the cursor back. A run
giving its lease up records when and how it ended, for operators to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class Position:
    """A job's stored cursor and the time (Unix seconds) of the newest record it covers."""

    cursor: str | None = None
    at: float | None = None


@dataclass(frozen=True)
class JobState:
    """A job's record as stored: its position, who holds the lease and until when, and how its last run ended.

    Times are Unix seconds. ``last_run_at`` and ``last_outcome`` are written when
    a run gives its lease up (``None`` before any run finished).
    """

    position: Position
    holder: str | None = None
    lease_until: float | None = None
    last_run_at: float | None = None
    last_outcome: str | None = None


class SyncStore(Protocol):
    """The lease and checkpoint operations, each one atomic store call."""

    def acquire(self, job: str, holder: str, now_ms: int, until_ms: int) -> Position | None:
        """Take the lease for ``holder`` until ``until_ms``; the stored position, or ``None`` when another holds it."""
        ...

    def checkpoint(self, job: str, holder: str, position: Position, until_ms: int) -> bool:
        """Store ``position`` as it is (``None`` clears a field) and extend the lease, while ``holder`` holds it.

        Whether it did.
        """
        ...

    def release(self, job: str, holder: str, *, outcome: str, now_ms: int) -> None:
        """Give the lease up, if ``holder`` still holds it, recording how and when its run ended."""
        ...

    def read(self, job: str) -> JobState:
        """The job's record as it is (an empty one for a job that never ran)."""
        ...


def _key(job: str) -> str:
    return f"sync:{job}"


def _state(fields: dict[str, str]) -> JobState:
    """A record's fields (strings, as both stores can give them) read as a :class:`JobState`."""

    def seconds(name: str, scale: float = 1.0) -> float | None:
        value = fields.get(name)
        return float(value) / scale if value else None

    return JobState(
        Position(fields.get("cursor") or None, seconds("position_at")),
        holder=fields.get("holder") or None,
        lease_until=seconds("lease_until", 1000),
        last_run_at=seconds("last_run_at", 1000),
        last_outcome=fields.get("last_outcome") or None,
    )


class DynamoDBSyncStore:
    """One item per job in the state table, changed by conditional updates."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self.client = client
        self.table = table

    def acquire(self, job: str, holder: str, now_ms: int, until_ms: int) -> Position | None:
        """See :class:`SyncStore`."""
        try:
            answer = self.client.update_item(
                TableName=self.table,
                Key={"pk": {"S": _key(job)}},
                UpdateExpression="SET #holder = :me, #until = :until",
                ConditionExpression="attribute_not_exists(#holder) OR #until < :now OR #holder = :me",
                ExpressionAttributeNames={"#holder": "holder", "#until": "lease_until"},
                ExpressionAttributeValues={
                    ":me": {"S": holder},
                    ":until": {"N": str(until_ms)},
                    ":now": {"N": str(now_ms)},
                },
                ReturnValues="ALL_NEW",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return None
        item = answer["Attributes"]
        return Position(
            item["cursor"]["S"] if "cursor" in item else None,
            float(item["position_at"]["N"]) if "position_at" in item else None,
        )

    def checkpoint(self, job: str, holder: str, position: Position, until_ms: int) -> bool:
        """See :class:`SyncStore`."""
        names = {"#holder": "holder", "#until": "lease_until", "#cursor": "cursor", "#at": "position_at"}
        values: dict[str, Any] = {":me": {"S": holder}, ":until": {"N": str(until_ms)}}
        assignments, removals = ["#until = :until"], []
        if position.cursor is None:
            removals.append("#cursor")
        else:
            assignments.append("#cursor = :cursor")
            values[":cursor"] = {"S": position.cursor}
        if position.at is None:
            removals.append("#at")
        else:
            assignments.append("#at = :at")
            values[":at"] = {"N": repr(position.at)}
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"pk": {"S": _key(job)}},
                UpdateExpression="SET "
                + ", ".join(assignments)
                + (" REMOVE " + ", ".join(removals) if removals else ""),
                ConditionExpression="#holder = :me",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release(self, job: str, holder: str, *, outcome: str, now_ms: int) -> None:
        """See :class:`SyncStore`."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"pk": {"S": _key(job)}},
                UpdateExpression="REMOVE #holder, #until SET #last = :now, #outcome = :outcome",
                ConditionExpression="#holder = :me",
                ExpressionAttributeNames={
                    "#holder": "holder",
                    "#until": "lease_until",
                    "#last": "last_run_at",
                    "#outcome": "last_outcome",
                },
                ExpressionAttributeValues={
                    ":me": {"S": holder},
                    ":now": {"N": str(now_ms)},
                    ":outcome": {"S": outcome},
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return  # already taken over: nothing of ours to give up

    def read(self, job: str) -> JobState:
        """See :class:`SyncStore`."""
        item = self.client.get_item(TableName=self.table, Key={"pk": {"S": _key(job)}}, ConsistentRead=True)
        return _state({name: value.get("S", value.get("N", "")) for name, value in item.get("Item", {}).items()})


# A hash per job. Lua's nil ends a table, so absent fields come back as "".
_ACQUIRE = """
local h = redis.call('HMGET', KEYS[1], 'holder', 'lease_until', 'cursor', 'position_at')
if h[1] and h[1] ~= ARGV[1] and tonumber(h[2]) >= tonumber(ARGV[2]) then return {0} end
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'lease_until', ARGV[3])
return {1, h[3] or '', h[4] or ''}
"""
_CHECKPOINT = """
if redis.call('HGET', KEYS[1], 'holder') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'lease_until', ARGV[2])
for i, name in ipairs({'cursor', 'position_at'}) do
  local value = ARGV[i + 2]
  if value == '' then redis.call('HDEL', KEYS[1], name) else redis.call('HSET', KEYS[1], name, value) end
end
return 1
"""
_RELEASE = """
if redis.call('HGET', KEYS[1], 'holder') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'holder', 'lease_until')
  redis.call('HSET', KEYS[1], 'last_run_at', ARGV[2], 'last_outcome', ARGV[3])
end
return 1
"""


class RedisSyncStore:
    """One hash per job, changed by scripts that check the holder first."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def acquire(self, job: str, holder: str, now_ms: int, until_ms: int) -> Position | None:
        """See :class:`SyncStore`."""
        answer = self.client.eval(_ACQUIRE, keys=[_key(job)], args=[holder, now_ms, until_ms])
        if not int(answer[0]):
            return None
        cursor, at = answer[1], answer[2]
        return Position(cursor or None, float(at) if at else None)

    def checkpoint(self, job: str, holder: str, position: Position, until_ms: int) -> bool:
        """See :class:`SyncStore`."""
        at = "" if position.at is None else repr(position.at)
        arguments = [holder, until_ms, position.cursor or "", at]
        return bool(int(self.client.eval(_CHECKPOINT, keys=[_key(job)], args=arguments)))

    def release(self, job: str, holder: str, *, outcome: str, now_ms: int) -> None:
        """See :class:`SyncStore`."""
        self.client.eval(_RELEASE, keys=[_key(job)], args=[holder, now_ms, outcome])

    def read(self, job: str) -> JobState:
        """See :class:`SyncStore`."""
        return _state(dict(self.client.hgetall(_key(job))))

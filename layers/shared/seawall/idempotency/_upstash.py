"""A Powertools idempotency persistence layer on Upstash Redis (REST), which Powertools lacks.

Each record is one JSON string whose key expires with the record. The
in-progress record is written with SET NX, so of two concurrent callers exactly
one proceeds; an in-progress record left by a Lambda that timed out is replaced
by a compare-and-set script, so two callers cannot both take it over.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS, DataRecord

# Replace the value only if it is still the one we read (an orphaned in-progress record).
_REPLACE_IF_UNCHANGED = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""


class UpstashPersistenceLayer(BasePersistenceLayer):
    """Idempotency records in Upstash Redis, through the layer's REST client.

    The client must never resend a command (``seawall.state`` builds one that
    does not): a resent SET NX after a lost answer would find our own record
    and report the call as already in progress.
    """

    def __init__(self, client: Any, key_prefix: str = "idempotency:") -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated
        self.client = client
        self.key_prefix = key_prefix

    def _key(self, idempotency_key: str) -> str:
        return self.key_prefix + idempotency_key

    def _serialise(self, record: DataRecord) -> str:
        return json.dumps(
            {
                "status": record.status,
                "expiration": record.expiry_timestamp,
                "in_progress_expiration": record.in_progress_expiry_timestamp,
                "data": record.response_data,
                "validation": record.payload_hash if self.payload_validation_enabled else None,
            }
        )

    def _record(self, idempotency_key: str, raw: str) -> DataRecord:
        item = json.loads(raw)
        return DataRecord(
            idempotency_key=idempotency_key,
            status=item["status"],
            expiry_timestamp=item["expiration"],
            in_progress_expiry_timestamp=item.get("in_progress_expiration"),
            response_data=item.get("data") or "",
            payload_hash=item.get("validation") or "",
        )

    @staticmethod
    def _ttl_ms(record: DataRecord) -> int:
        expiry = record.expiry_timestamp or 0
        return max(1, int(expiry * 1000 - time.time() * 1000))

    def _get_record(self, idempotency_key: str) -> DataRecord:
        raw = self.client.get(self._key(idempotency_key))
        if raw is None:
            raise IdempotencyItemNotFoundError
        return self._record(idempotency_key, raw)

    def _put_record(self, data_record: DataRecord) -> None:
        key = self._key(data_record.idempotency_key)
        value = self._serialise(data_record)
        ttl_ms = self._ttl_ms(data_record)
        if self.client.set(key, value, nx=True, px=ttl_ms):
            return
        current = self.client.get(key)
        if current is None:  # expired between the two calls: one more atomic attempt
            if self.client.set(key, value, nx=True, px=ttl_ms):
                return
            current = self.client.get(key)
            if current is None:
                raise IdempotencyItemAlreadyExistsError
        existing = self._record(data_record.idempotency_key, current)
        orphaned = (
            existing.status == STATUS_CONSTANTS["INPROGRESS"]
            and existing.in_progress_expiry_timestamp is not None
            and existing.in_progress_expiry_timestamp < int(time.time() * 1000)
        )
        if orphaned and self.client.eval(_REPLACE_IF_UNCHANGED, keys=[key], args=[current, value, ttl_ms]) == 1:
            return
        # Without the record Powertools reads it again through get_record, which checks the payload's hash.
        raise IdempotencyItemAlreadyExistsError

    def _update_record(self, data_record: DataRecord) -> None:
        self.client.set(
            self._key(data_record.idempotency_key), self._serialise(data_record), px=self._ttl_ms(data_record)
        )

    def _delete_record(self, data_record: DataRecord) -> None:
        self.client.delete(self._key(data_record.idempotency_key))

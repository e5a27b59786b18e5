"""What a breaker store does, and the per-process store used when the shared one is down.

Every operation is atomic on its store. ``record`` and ``read`` return the
whole record; ``acquire_probe`` returns the half-open period's token (its lease
end) or ``None``; ``finish_probe`` only counts a probe of the current period.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

Record = dict[str, Any]


class BreakerStore(Protocol):
    """The breaker's shared record, one per provider."""

    def read(self, name: str) -> Record:
        """The record as it is."""
        ...

    def record(self, name: str, *, slot: int, bucket: int, fault: bool, slow: bool, holds_bucket: bool) -> Record:
        """Count one call in ``bucket``, kept in ``slot``.

        ``holds_bucket`` is the caller's guess that the slot already holds that
        bucket (stores that cannot branch use it).
        """
        ...

    def trip(self, name: str, open_until: int) -> bool:
        """Open the breaker if it is closed; whether this call opened it."""
        ...

    def acquire_probe(self, name: str, *, now: int, probes: int, lease_ms: int) -> int | None:
        """A probe slot of the half-open period, starting one if the open period is over."""
        ...

    def finish_probe(
        self, name: str, *, token: int, success: bool, now: int, probes: int, open_ms: int, slots: int
    ) -> Record:
        """Count a probe's outcome: enough successes close (and clear the window), a failure reopens."""
        ...

    def release_probe(self, name: str, *, token: int) -> None:
        """Free a probe slot of the period ``token`` without an outcome (the call was never made)."""
        ...

    def close(self, name: str, *, slots: int) -> Record:
        """Close the breaker whatever its state and clear the window (an operator's override); the new record."""
        ...


class MemoryBreakerStore:
    """The same record in this process's memory: the fallback while the shared store is unreachable.

    It protects this container only; the fleet-wide view returns with the store.
    """

    def __init__(self) -> None:
        self._records: dict[str, Record] = {}
        self._lock = threading.Lock()

    def _get(self, name: str) -> Record:
        return self._records.setdefault(name, {})

    def read(self, name: str) -> Record:
        """The record as it is."""
        with self._lock:
            return dict(self._get(name))

    def record(self, name: str, *, slot: int, bucket: int, fault: bool, slow: bool, holds_bucket: bool) -> Record:
        """Count one call."""
        with self._lock:
            record = self._get(name)
            held = int(record.get(f"b{slot}", -1))
            if held == bucket:
                record[f"n{slot}"] += 1
                record[f"f{slot}"] += int(fault)
                record[f"s{slot}"] += int(slow)
            elif held < bucket:
                record.update({f"b{slot}": bucket, f"n{slot}": 1, f"f{slot}": int(fault), f"s{slot}": int(slow)})
            return dict(record)

    def trip(self, name: str, open_until: int) -> bool:
        """Open if closed."""
        with self._lock:
            record = self._get(name)
            if record.get("state", "closed") != "closed":
                return False
            record.update({"state": "open", "open_until": open_until})
            return True

    def acquire_probe(self, name: str, *, now: int, probes: int, lease_ms: int) -> int | None:
        """A probe slot, if one is free."""
        with self._lock:
            record = self._get(name)
            state = record.get("state", "closed")
            lease_until = int(record.get("lease_until", 0))
            if state == "half_open" and lease_until > now:
                if int(record.get("probes", 0)) < probes:
                    record["probes"] = int(record.get("probes", 0)) + 1
                    return lease_until
                return None
            if (state == "open" and int(record.get("open_until", 0)) <= now) or (
                state == "half_open" and lease_until <= now
            ):
                record.update({"state": "half_open", "probes": 1, "successes": 0, "lease_until": now + lease_ms})
                return now + lease_ms
            return None

    def finish_probe(
        self, name: str, *, token: int, success: bool, now: int, probes: int, open_ms: int, slots: int
    ) -> Record:
        """Count a probe's outcome."""
        with self._lock:
            record = self._get(name)
            if record.get("state") == "half_open" and int(record.get("lease_until", 0)) == token:
                if not success:
                    record.update({"state": "open", "open_until": now + open_ms})
                else:
                    record["successes"] = int(record.get("successes", 0)) + 1
                    if record["successes"] >= probes:
                        _close(record, slots)
            return dict(record)

    def release_probe(self, name: str, *, token: int) -> None:
        """Free a probe slot of the current period."""
        with self._lock:
            record = self._get(name)
            if record.get("state") == "half_open" and int(record.get("lease_until", 0)) == token:
                record["probes"] = max(0, int(record.get("probes", 0)) - 1)

    def close(self, name: str, *, slots: int) -> Record:
        """Close whatever the state, the window cleared."""
        with self._lock:
            record = self._get(name)
            _close(record, slots)
            return dict(record)


def _close(record: Record, slots: int) -> None:
    """Closed, with every bucket slot cleared: the window starts again empty."""
    record["state"] = "closed"
    record.update({f"b{slot}": -1 for slot in range(slots)})

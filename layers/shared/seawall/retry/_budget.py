"""A retry budget, after botocore's standard retry quota (one per provider client, per container).

Each retry withdraws tokens (a timeout costs more); each success puts some
back. When a provider keeps failing the budget runs dry and calls fail fast
instead of multiplying the load on it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class RetryBudget:
    """A token bucket of retries for one provider in this process."""

    capacity: int = 500
    retry_cost: int = 5
    timeout_cost: int = 10
    success_refund: int = 1
    available: int = field(init=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.available = self.capacity

    def withdraw(self, cost: int) -> bool:
        """Take ``cost`` tokens for a retry; ``False`` (and nothing taken) when too few remain."""
        with self._lock:
            if cost > self.available:
                return False
            self.available -= cost
            return True

    def deposit(self, amount: int) -> None:
        """Give back ``amount`` tokens after a success, up to the capacity."""
        with self._lock:
            self.available = min(self.capacity, self.available + amount)

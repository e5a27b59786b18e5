"""The invocation's time budget, so nothing starts work it cannot finish.

A handler binds a :class:`Deadline` from its Lambda context (``instrumented``
does it); retries, waits and request timeouts read it through
:func:`current_deadline`. The deadline sits ``margin`` seconds before the
Lambda's own timeout so the handler still has time to answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol


class _HasRemainingTime(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


DEFAULT_MARGIN_SECONDS = 0.5


@dataclass(frozen=True)
class Deadline:
    """A point on the monotonic clock after which no new work should start."""

    expires_at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """A deadline ``seconds`` from now."""
        return cls(time.monotonic() + seconds)

    @classmethod
    def from_lambda_context(cls, context: _HasRemainingTime, margin: float = DEFAULT_MARGIN_SECONDS) -> Deadline:
        """The Lambda's remaining time minus ``margin`` seconds."""
        return cls.after(context.get_remaining_time_in_millis() / 1000 - margin)

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.expires_at - time.monotonic()

    def allows(self, seconds: float) -> bool:
        """Whether work taking ``seconds`` would end before the deadline."""
        return seconds <= self.remaining()


_current: ContextVar[Deadline | None] = ContextVar("seawall_deadline", default=None)


def current_deadline() -> Deadline | None:
    """The deadline bound for this invocation, if any."""
    return _current.get()


@contextmanager
def bind_deadline(deadline: Deadline) -> Iterator[Deadline]:
    """Make ``deadline`` the current one for the duration of the block."""
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)

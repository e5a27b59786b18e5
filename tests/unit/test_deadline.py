"""The invocation's deadline."""

from __future__ import annotations

from dataclasses import dataclass

from seawall.deadline import Deadline, bind_deadline, current_deadline


@dataclass
class Context:
    remaining_ms: int

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_deadline_keeps_a_margin_before_the_lambda_timeout() -> None:
    deadline = Deadline.from_lambda_context(Context(3000), margin=0.5)
    assert 2.0 < deadline.remaining() <= 2.5
    assert deadline.allows(2.0)
    assert not deadline.allows(2.6)


def test_binding_is_scoped_to_the_block() -> None:
    assert current_deadline() is None
    with bind_deadline(Deadline.after(5)) as deadline:
        assert current_deadline() is deadline
    assert current_deadline() is None

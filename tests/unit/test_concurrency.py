"""Bounded fan-out."""

from __future__ import annotations

import threading
import time

import pytest

from seawall.concurrency import bounded_map
from seawall.deadline import Deadline, bind_deadline, current_deadline
from seawall.errors import ConfigError


def test_never_more_than_the_limit_in_flight_and_results_in_order() -> None:
    running, peak = 0, 0
    lock = threading.Lock()

    def work(item: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return item * 2

    assert bounded_map(work, range(20), limit=3) == [item * 2 for item in range(20)]
    assert peak == 3


def test_the_first_failure_is_raised_and_the_rest_not_started() -> None:
    started: list[int] = []

    def work(item: int) -> int:
        started.append(item)
        if item == 0:
            raise ValueError("first item failed")
        time.sleep(0.05)
        return item

    with pytest.raises(ValueError, match="first item failed"):
        bounded_map(work, range(50), limit=2)
    assert len(started) < 50


def test_workers_see_the_invocation_deadline() -> None:
    with bind_deadline(Deadline.after(5)) as deadline:
        seen = bounded_map(lambda _: current_deadline(), range(4), limit=2)
    assert seen == [deadline] * 4


def test_a_limit_below_one_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        bounded_map(str, [1], limit=0)
    assert bounded_map(str, [], limit=1) == []

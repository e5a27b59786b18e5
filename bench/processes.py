"""Measuring children (a process each, as Lambda containers are): their results, or a failure at once."""

from __future__ import annotations

from collections.abc import Sequence
from multiprocessing.process import BaseProcess
from queue import Empty
from typing import Any


def collect(children: Sequence[BaseProcess], queue: Any, expected: int) -> list[Any]:
    """``expected`` results that ``children`` put on ``queue``, then the children joined.

    A child that fails, or all of them ending short of their results, ends the wait within a second
    with the exit codes: a benchmark never waits out a timeout for a child that is gone.
    """
    results: list[Any] = []
    while len(results) < expected:
        try:
            results.append(queue.get(timeout=1))
        except Empty:
            codes = [child.exitcode for child in children]
            if any(code not in (None, 0) for code in codes) or None not in codes:
                raise SystemExit(f"a measuring child failed: exit codes {codes}") from None
    for child in children:
        child.join()
    return results

"""At most N calls in flight, each seeing the invocation's deadline."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TypeVar

from seawall.errors import ConfigError

A = TypeVar("A")
R = TypeVar("R")


def bounded_map(function: Callable[[A], R], items: Iterable[A], *, limit: int) -> list[R]:
    """``[function(item) for item in items]`` with at most ``limit`` running at once.

    Results keep the items' order. The first failure cancels what has not
    started and is raised. Each call runs in a copy of the caller's context, so
    the bound deadline (and the logger's correlation id) apply inside.
    """
    if limit < 1:
        raise ConfigError("bounded_map", ["limit"], "must be at least 1")
    work = list(items)
    if not work:
        return []
    with ThreadPoolExecutor(max_workers=min(limit, len(work)), thread_name_prefix="seawall-fanout") as pool:
        futures = [pool.submit(contextvars.copy_context().run, function, item) for item in work]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((future for future in futures if future in done and future.exception() is not None), None)
        if failed is not None:
            for future in futures:
                future.cancel()
            raise failed.exception()  # type: ignore[misc]
        return [future.result() for future in futures]

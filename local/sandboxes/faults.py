"""Fault injection a sandbox shares: one-off faults queued for matching requests, and random rules.

Kinds: ``status`` (answer an error without doing the request), ``reset`` (drop the connection without
doing it), ``lost`` (do it, then drop the connection: the client never hears), ``error_after`` (do it,
then answer an error), ``slow`` (wait, then do it and answer) and ``malformed`` (do it, then answer with
its body cut short). Each fault and rule may be limited to a method and a path prefix; an error answer
carries the fault's ``headers`` (a provider's retry advice). :func:`faulted` runs a request as its fault
says, for every sandbox.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.httpserver import Answer

FAULT_KINDS = ("lost", "reset", "slow", "error_after", "status", "malformed")


def _matches(method: str | None, prefix: str | None, request_method: str, request_path: str) -> bool:
    return (method is None or method.upper() == request_method) and (prefix is None or request_path.startswith(prefix))


@dataclass
class Fault:
    """One failure to inject into the first API request it matches (``method``, ``path`` prefix)."""

    kind: str = "status"
    status: int = 500  # for ``status`` and ``error_after``
    seconds: float = 1.0  # for ``slow``
    method: str | None = None
    path: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # sent with ``status`` and ``error_after``

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}: one of {', '.join(FAULT_KINDS)}")

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to the request."""
        return _matches(self.method, self.path, method, path)


@dataclass
class Rule:
    """Faults drawn at random for every matching request: each kind with its probability."""

    method: str | None = None
    path: str | None = None
    lost: float = 0.0
    reset: float = 0.0
    slow: float = 0.0
    error_after: float = 0.0
    status: float = 0.0
    malformed: float = 0.0
    slow_seconds: float = 1.0
    status_code: int = 500
    error_after_status: int = 502

    def __post_init__(self) -> None:
        if sum(getattr(self, kind) for kind in FAULT_KINDS) > 1:
            raise ValueError("a rule's probabilities add up to more than 1")

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule applies to the request."""
        return _matches(self.method, self.path, method, path)

    def draw(self) -> Fault | None:
        """The fault for one request, or None (most of the time, usually)."""
        roll = random.random()  # noqa: S311 (a simulated failure, not crypto)
        for kind in FAULT_KINDS:
            chance = getattr(self, kind)
            if roll < chance:
                status = self.error_after_status if kind == "error_after" else self.status_code
                return Fault(kind=kind, status=status, seconds=self.slow_seconds)
            roll -= chance
        return None


@dataclass
class FaultPlan:
    """The faults queued for the next matching requests, and the rules drawn from for every request."""

    queue: deque[Fault] = field(default_factory=deque)
    rules: list[Rule] = field(default_factory=list)

    def draw(self, method: str, path: str) -> Fault | None:
        """The first queued fault the request matches (taken off the queue), else a rule's draw. Under a lock."""
        for index, fault in enumerate(self.queue):
            if fault.matches(method, path):
                del self.queue[index]
                return fault
        for rule in self.rules:
            if rule.matches(method, path) and (drawn := rule.draw()) is not None:
                return drawn
        return None

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> FaultPlan:
        """From JSON: ``{"queue": [Fault's fields], "rules": [Rule's fields]}``, both optional; other keys ignored."""
        return cls(
            queue=deque(Fault(**item) for item in spec.get("queue", [])),
            rules=[Rule(**item) for item in spec.get("rules", [])],
        )


def faulted(fault: Fault | None, perform: Callable[[], Answer], refuse: Callable[[int], Answer]) -> Answer | None:
    """``perform`` the request as ``fault`` says; ``refuse(status)`` is the sandbox's error answer.

    ``None`` drops the connection (``reset``: before the request is done; ``lost``: after).
    """
    if fault is None:
        return perform()
    if fault.kind == "slow":
        time.sleep(fault.seconds)  # outside any lock: other requests go on meanwhile
    if fault.kind in ("reset", "status"):  # before the request is done
        return None if fault.kind == "reset" else _with_headers(refuse(fault.status), fault.headers)
    answer = perform()
    if fault.kind in ("lost", "error_after"):  # after it is done
        return None if fault.kind == "lost" else _with_headers(refuse(fault.status), fault.headers)
    if fault.kind == "malformed":
        status, headers, body = answer
        return status, headers, body[: len(body) // 2]
    return answer


def _with_headers(answer: Answer, headers: Mapping[str, str]) -> Answer:
    status, sent, body = answer
    return status, {**sent, **headers}, body

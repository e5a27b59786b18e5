"""How a command ends other than with its answer: an error (exit status 1) or a refusal (exit status 2)."""

from __future__ import annotations

from typing import Any


class OpsError(Exception):
    """Something the engineer must fix or know, in words for the terminal (never a traceback)."""


class Refused(Exception):
    """A command that changes something, run without ``--yes``: what it would do; nothing was done."""

    def __init__(self, would: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(would)
        self.would = would
        self.details = details or {}

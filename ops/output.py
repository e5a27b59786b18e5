"""What a command prints: a table (or lines) for people, JSON with ``--json``; every character redacted.

Commands return an :class:`Output`: ``data`` is what ``--json`` prints, ``blocks``
what a person reads. Both go out through :func:`write`, which masks secrets as
the layer's log formatter does (``seawall.observability.redact``) and the shapes
of personal data (``ops.personal``): one place, whatever a command put in its answer.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from ops.errors import Refused
from ops.personal import mask_shapes
from seawall.observability import redact


@dataclass(frozen=True)
class Table:
    """Rows shown as columns ``columns`` (keys of each row), under a header."""

    columns: Sequence[str]
    rows: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class Output:
    """A command's answer: ``data`` for ``--json``, ``blocks`` (tables and lines of text) for people."""

    data: Any
    blocks: Sequence[Table | str] = field(default_factory=list)


def timestamp(seconds: float | None) -> str | None:
    """A Unix time as ISO 8601 in UTC, to the second (``None`` stays ``None``)."""
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.1f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(item) for item in value) or "-"
    return str(value)


def _table(table: Table) -> str:
    if not table.rows:
        return "(none)"
    cells = [[_cell(row.get(column)) for column in table.columns] for row in table.rows]
    widths = [max(len(column), *(len(row[i]) for row in cells)) for i, column in enumerate(table.columns)]
    lines = ["  ".join(column.ljust(width) for column, width in zip(table.columns, widths, strict=True))]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def as_text(output: Output) -> str:
    """The answer for people."""
    return "\n".join(_table(block) if isinstance(block, Table) else block for block in output.blocks)


def as_json(data: Any) -> str:
    """The answer for programs."""
    return json.dumps(data, indent=2, sort_keys=False, default=str)


def refusal(refused: Refused, *, json_output: bool) -> str:
    """What a command would have done without ``--yes``."""
    if json_output:
        return as_json({"refused": True, "would": refused.would, **refused.details})
    return f"Not done: {refused.would}\nRun it again with --yes to do it."


def write(stream: TextIO, text: str) -> None:
    """``text`` on ``stream``, every secret masked."""
    stream.write(mask_shapes(redact(text)) + "\n")
    stream.flush()


class Redacting(io.TextIOBase):
    """A text stream passing what is written to it on to ``stream``, every secret masked (one line at a time)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def writable(self) -> bool:
        """It is written to."""
        return True

    def write(self, text: str) -> int:
        """Pass ``text`` on, masked; what the caller wrote is taken whole."""
        self.stream.write(mask_shapes(redact(text)))
        return len(text)

    def flush(self) -> None:
        """Flush the stream passed to."""
        self.stream.flush()

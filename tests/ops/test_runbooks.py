"""Every `python -m ops` and `make ops` line of docs/runbooks runs against `make run`, as written.

Each line of a ```sh block that starts with one of them is run (its placeholders filled in from
``PLACEHOLDERS``), in the runbook's order; it must succeed, or, without --yes, refuse (exit status 2,
saying it did nothing).
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
import sys

import pytest

from tests.ops.conftest import ROOT, Stack, run_ops

RUNBOOKS = ROOT / "docs" / "runbooks"
EXPECTED = [
    "redrive-dead-letter-queue.md",
    "replay-events.md",
    "rotate-secrets.md",
    "breaker-stuck-open.md",
    "quota-exhausted.md",
    "booking-in-doubt.md",
]
PLACEHOLDERS = {
    "<dead-letter-queue>": "StripeEventsDeadLetterQueue",
    "<provider>": "stripe",
    "<since>": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "<event-id>": "evt_1Pgc76B7WZ01zgkWwyRHS12y",
}
_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


def commands() -> list[tuple[str, str]]:
    """(runbook, line) for every ops line of every runbook, comments after ``#`` left out."""
    found = []
    for path in sorted(RUNBOOKS.glob("*.md")):
        for block in _BLOCK.findall(path.read_text()):
            for line in block.splitlines():
                command = line.strip().split(" #", 1)[0].strip()
                if command.startswith(("python -m ops", "make ops")):
                    found.append((path.name, command))
    return found


def test_every_runbook_is_there_and_uses_the_ops_command() -> None:
    used = {runbook for runbook, _ in commands()}
    assert set(EXPECTED) <= used


@pytest.mark.parametrize(("runbook", "line"), commands(), ids=[f"{r}: {c}" for r, c in commands()])
def test_each_runbook_command_runs(stack: Stack, runbook: str, line: str) -> None:
    filled = line
    for placeholder, value in PLACEHOLDERS.items():
        filled = filled.replace(placeholder, value)
    assert "<" not in filled, f"{runbook}: a placeholder the test does not know: {line}"
    argv = shlex.split(filled)
    command = [sys.executable, "-m", "ops"] if argv[0] == "python" else argv[:2]
    arguments = argv[3:] if argv[0] == "python" else argv[2:]
    result = run_ops(arguments, stack.state_dir, command=command)
    refused = "--yes" not in argv and ("Not done:" in result.stdout or '"refused": true' in result.stdout)
    assert result.returncode == 0 or (result.returncode == 2 and refused), (
        f"{runbook}: {filled} -> {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    assert "Traceback" not in result.stderr


def test_the_placeholders_are_all_used() -> None:
    text = "\n".join(line for _, line in commands())
    assert [placeholder for placeholder in PLACEHOLDERS if placeholder not in text] == []

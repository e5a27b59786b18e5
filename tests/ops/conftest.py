"""One `make run` for the ops tests (state in a temporary directory), and the ops command run against it.

``python -m ops`` runs as on-call engineers run it: a process of its own,
finding the stack through LOCAL_STATE_DIR; the tests look at what it changed
as any AWS client or the sandboxes' control endpoints would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.make_run import BANNER_END, ROOT, follow, outside_client, read_until, stack_state, start, stop


def run_ops(
    arguments: Sequence[str], state_dir: Path, *, command: Sequence[str] | None = None, **environment: str
) -> subprocess.CompletedProcess[str]:
    """``python -m ops <arguments>`` (or ``command``, a runbook's line) to completion, against ``state_dir``'s stack."""
    inherited = {name: value for name, value in os.environ.items() if name != "OPS_STACK"}
    return subprocess.run(
        [*(command or [sys.executable, "-m", "ops"]), *arguments],
        cwd=ROOT,
        env={**inherited, "LOCAL_STATE_DIR": str(state_dir), **environment},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@dataclass
class Stack:
    """The running stack, the ops command against it, and an outsider's clients for it."""

    state_dir: Path
    state: dict[str, Any]

    def ops(self, *arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
        return run_ops(arguments, self.state_dir, **environment)

    def ops_json(self, *arguments: str) -> Any:
        """The command's answer with --json; it must have succeeded."""
        result = self.ops(*arguments, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def aws(self, service: str) -> Any:
        return outside_client(self.state, service)

    def resource(self, logical_id: str) -> str:
        physical: str = self.state["resources"][logical_id]["Ref"]
        return physical

    def stripe_sandbox(self) -> httpx.Client:
        return httpx.Client(base_url=self.state["environment"]["STRIPE_API_BASE"], timeout=30)

    @property
    def log(self) -> Path:
        """The stack's output, for when a test fails."""
        return self.state_dir / "make-run.log"


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`make run` on free ports, its state in a temporary directory, for every test of tests/ops."""
    state_dir = tmp_path_factory.mktemp("ops-stack")
    process = start(state_dir, ROOT / "template.yaml")
    try:
        read_until(process, BANNER_END)
        follow(process, state_dir / "make-run.log")
        yield Stack(state_dir, stack_state(state_dir))
    finally:
        stop(process)

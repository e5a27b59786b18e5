"""`make run` as its users run it: ``python -m local`` in a process of its own, driven from outside."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.__main__ import PORTS

ROOT = Path(__file__).resolve().parents[2]
# Every port the stack opens, on a free one: two stacks (two suites at once) never meet.
FREE_PORTS = [argument for option in PORTS for argument in ("--" + option.replace("_", "-"), "0")]
BANNER_END = "Ctrl-C stops everything."


def start(state_dir: Path, template: Path, *arguments: str) -> subprocess.Popen[str]:
    """``python -m local`` on free ports with its state in ``state_dir``; its output is readable as text."""
    environment = {**os.environ, "LOCAL_STATE_DIR": str(state_dir), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "local", "--template", str(template), *FREE_PORTS, *arguments],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def read_until(process: subprocess.Popen[str], marker: str) -> str:
    """The process's output up to and including the line holding ``marker``."""
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if marker in line:
            return "".join(lines)
    pytest.fail(f"process ended before {marker!r}:\n{''.join(lines)}")


def follow(process: subprocess.Popen[str], log: Path) -> None:
    """Keep copying the process's output to ``log`` from now on (unread, a full pipe would block it)."""
    assert process.stdout is not None
    stdout = process.stdout

    def copy() -> None:
        with log.open("a") as file:
            for line in stdout:
                file.write(line)
                file.flush()

    threading.Thread(target=copy, daemon=True).start()


def stop(process: subprocess.Popen[str]) -> None:
    """Ctrl-C, so that it stops what it started (Valkey is a child process); killed if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_module(
    arguments: list[str], state_dir: Path, timeout: float = 60, **environment: str
) -> subprocess.CompletedProcess[str]:
    """``python -m <arguments>`` to completion, with the stack's state in ``state_dir``."""
    return subprocess.run(
        [sys.executable, "-m", *arguments],
        cwd=ROOT,
        env={**os.environ, "LOCAL_STATE_DIR": str(state_dir), **environment},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def outside_client(state: dict[str, Any], service: str) -> Any:
    """A boto3 client for the running stack's AWS endpoint, as an outsider (any credentials do)."""
    return boto3.client(
        service,
        endpoint_url=state["aws_endpoint"],
        region_name="us-east-1",
        aws_access_key_id="outsider",
        aws_secret_access_key="outsider",
    )


def stack_state(state_dir: Path) -> dict[str, Any]:
    """What the running stack wrote about itself: endpoints, resources, parameters."""
    state: dict[str, Any] = json.loads((state_dir / "stack.json").read_text())
    return state


def as_a_person_runs_make() -> dict[str, str]:
    """This environment without the suite's own make's job server and flags: `make` run as a person runs it."""
    return {name: value for name, value in os.environ.items() if name not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}

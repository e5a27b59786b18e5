"""The running stack's state file: one stack at a time, and what the invoke command needs to join it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# LOCAL_STATE_DIR lets tests run a stack beside a developer's own.
LOCAL_DIR = Path(os.environ.get("LOCAL_STATE_DIR", ROOT / ".local")).resolve()
STATE_FILE = LOCAL_DIR / "stack.json"
SECRETS_FILE = LOCAL_DIR / "secrets.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_stack(path: Path = STATE_FILE) -> dict[str, Any] | None:
    """The state of the stack that is running now, or ``None`` (a stale file is removed)."""
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if _alive(int(state.get("pid", 0))):
        return state
    path.unlink(missing_ok=True)
    return None


def write_state(state: dict[str, Any], path: Path = STATE_FILE) -> None:
    """Record the running stack."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2) + "\n")


def clear_state(path: Path = STATE_FILE) -> None:
    """Forget the stack (it stopped)."""
    path.unlink(missing_ok=True)

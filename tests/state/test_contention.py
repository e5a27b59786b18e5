"""Four OS processes on one key: the fleet-wide guarantees hold under real contention."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 4


def run_workers(kind: str, scope: str, attempts: int) -> list[dict[str, list[float]]]:
    start_at = time.time() + 2  # all four start together, after their imports
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.state.worker", kind, scope, str(attempts), str(start_at)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'shared'}:{ROOT}"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_no_window_admits_more_than_the_limit_across_processes(backend: str) -> None:
    results = run_workers("limiter", uuid.uuid4().hex, attempts=40)
    per_window = collections.Counter(window for result in results for window in result["admitted_windows"])
    assert per_window, "nothing was admitted"
    assert max(per_window.values()) <= 10
    # 160 attempts against 10 a second: the contended windows are filled exactly.
    assert max(per_window.values()) == 10

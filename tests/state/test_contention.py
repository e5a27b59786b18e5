"""Four OS processes on one key: the fleet-wide guarantees hold under real contention."""

from __future__ import annotations

import bisect
import itertools
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from seawall.breaker import BreakerState
from seawall.errors import IntegrationError
from seawall.state import SharedState
from tests.state.worker import PROBE_CONFIG

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 4


def run_workers(state: SharedState, kind: str, scope: str, count: int) -> list[dict[str, Any]]:
    start_at = time.time() + 2  # all four start together, after their imports
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.state.worker", kind, scope, str(count), str(start_at)],
            cwd=ROOT,
            env={
                **os.environ,
                **{name: str(value) for name, value in state.settings.model_dump(by_alias=True).items()},
                "PYTHONPATH": f"{ROOT / 'layers' / 'shared'}:{ROOT}",
            },
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


def test_no_sliding_second_admits_more_than_the_limit_across_processes(state: SharedState) -> None:
    results = run_workers(state, "limiter", uuid.uuid4().hex, 2500)
    admitted = sorted(at for result in results for at in result["admitted_ms"])
    assert len(admitted) > 10, "the contention never filled a second"
    # Each admission on the store's clock: no two processes were given the same turn, and turns are a
    # pace apart (10 a second: 100 ms), so no sliding second holds more than 10.
    assert all(later - earlier >= 100 for earlier, later in itertools.pairwise(admitted))
    most = max(bisect.bisect_left(admitted, first + 1000) - index for index, first in enumerate(admitted))
    # Four processes asking without pause for 2.5 s against 10 a second: some second is filled exactly.
    assert most == 10


def test_exactly_the_permitted_probes_run_fleet_wide(state: SharedState) -> None:
    provider = f"probed-{uuid.uuid4().hex[:8]}"
    breaker = state.circuit_breaker(provider, PROBE_CONFIG)

    def down() -> None:
        raise IntegrationError(provider, "provider answered HTTP 503", status_code=503)

    for _ in range(PROBE_CONFIG.minimum_calls):
        with pytest.raises(IntegrationError):
            breaker.call(down)
    assert breaker.state is BreakerState.OPEN
    time.sleep(PROBE_CONFIG.open_seconds)  # the open period ends before the workers start
    results = run_workers(state, "probe", provider, 10)
    assert sum(result["probes"] for result in results) == PROBE_CONFIG.half_open_probes

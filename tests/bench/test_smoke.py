"""Every benchmark still runs: each in its ``--smoke`` mode (seconds, tiny counts), its JSON as documented.

A benchmark nobody runs rots (bench/state.py once failed on a renamed attribute, then hung its parent for
ten minutes). Figures are not checked here: docs/benchmarks.md has them, from full runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from local.state import ROOT

PY313 = str(ROOT / ".venv313" / "bin" / "python")
# Each benchmark: the interpreter `make bench` and docs/benchmarks.md run it with, and keys its JSON must have.
BENCHMARKS: dict[str, tuple[str, set[str]]] = {
    "actions": (sys.executable, {"backend", "calls", "results"}),
    "bytecode": (sys.executable, {"runs", "results"}),
    "coldstart": (PY313, {"python", "interpreter", "runs", "results"}),  # the containers on .venv-lambda
    "cost": (sys.executable, {"prices_read", "per_million_stripe_events", "per_million_actions"}),
    "hotelbeds_cache": (sys.executable, {"baseline_no_cache", "cache_dynamodb", "cache_upstash"}),
    "layer_size": (
        PY313,
        {"python", "total_megabytes", "uncompiled_modules", "packages", "layers_megabytes", "functions"},
    ),
    "mutation": (sys.executable, {"package", "mutants", "score"}),  # a list: one object a package
    "state": (sys.executable, {"decisions", "results"}),
    "sync": (sys.executable, {"recovery", "runs", "baseline_naive"}),
    "webhooks": (sys.executable, {"aws_calls_per_new_event", "end_to_end"}),
}
# The benchmarks' shared parts, not benchmarks.
HELPERS = {"__init__", "harness", "processes", "smoke"}


def test_every_benchmark_has_a_smoke_run_here() -> None:
    scripts = {path.stem for path in (ROOT / "bench").glob("*.py")} - HELPERS
    assert scripts == set(BENCHMARKS), "a benchmark without a smoke run here rots unseen: add it to BENCHMARKS"


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_a_benchmark_runs_in_its_smoke_mode_and_prints_its_json(name: str) -> None:
    python, keys = BENCHMARKS[name]
    ran = subprocess.run(
        [python, str(ROOT / "bench" / f"{name}.py"), "--smoke", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    printed: Any = json.loads(ran.stdout)
    for report in printed if isinstance(printed, list) else [printed]:
        assert keys <= set(report), f"{name} printed {sorted(report)}"


def test_a_measuring_child_that_dies_fails_its_parent_at_once() -> None:
    from multiprocessing import get_context

    from bench.processes import collect

    context = get_context("spawn")
    queue = context.Queue()
    children = [context.Process(target=sys.exit, args=(3,))]
    children[0].start()
    with pytest.raises(SystemExit, match=r"a measuring child failed: exit codes \[3\]"):
        collect(children, queue, 1)  # not a timeout's wait: within a second of the exit

"""Cold start as the first caller waits for it: a fresh container's init plus its first answer, against `make run`.

For every function of template.yaml, and for its seed-style twin (bench/twins/:
the same job written the way the original guide writes it, eager imports and
clients made at import), each sample starts a fresh container process of the
local runtime (local.container, Lambda's model: one process, its own module
state), hands it the function's sample event from events/ (made unique per
sample, so no idempotency record or dedupe short-cuts the work, and re-signed)
and waits for the answer. Functions and twins are sampled in turn, so machine
noise hits them alike.

Printed per function: the median first answer (process start to answer), the
ratio to its twin's (goal: at most 0.6), the import-only figure (the init
phase alone, which is what earlier versions of this benchmark measured), the
first invocation alone, the peak RSS, a restored SnapStart copy's hooks plus
first answer, and the floor: a fresh process importing only the modules both
the function and its twin load by their first answer (no code doing the job
with those packages answers sooner). --json prints the same as JSON.

Run it with the runtime's Python (python3.13, `.venv313/bin/python`). It joins
the running `make run`, or starts one of its own on free ports and stops it.

Usage: .venv313/bin/python bench/coldstart.py [--runs 7] [--only NAME ...] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.smoke import parse_arguments  # noqa: E402
from local.replay import replay  # noqa: E402
from local.runtime import FunctionConfig, Invocation, LocalFunction  # noqa: E402
from local.stack import LocalStack  # noqa: E402
from local.state import running_stack  # noqa: E402
from tests.support import make_run  # noqa: E402

# Imports the function's module as its container does, answers the event on stdin, and prints sys.modules in
# the order the modules were loaded: what the first answer needed.
_LOADED = """
import json, sys, time
from local.container import LambdaContext, load
code_dir, handler, name, timeout, *layers = sys.argv[1:]
module, function = load(code_dir, handler, layers)
deadline = int(time.time() * 1000 + float(timeout) * 1000)
context = LambdaContext(name, "$LATEST", "arn:aws:lambda:::function:" + name, 512, "floor", "-", "-", deadline)
getattr(module, function)(json.load(sys.stdin), context)
sys.__stdout__.write(json.dumps(list(sys.modules)) + "\\n")
"""
# Imports the given modules in the given order, and says so: the floor any code using those packages waits for.
_FLOOR = """
import importlib, sys
layers, names = sys.argv[1:], sys.stdin.read().split()
sys.path[:1] = layers
for name in names:
    try:
        importlib.import_module(name)
    except Exception:  # a module made at run time (six.moves, ...): its package made it
        pass
sys.stdout.write("imported\\n")
sys.stdout.flush()
"""
# Not the floor: the code that is the function's own (or the local runtime's).
_OWN = ("__main__", "app", "seawall", "local")

TWINS = ROOT / "bench" / "twins"
EVENTS = ROOT / "events"
# Only the layer's packages, as in Lambda (`make bench` builds it): the tools' packages change what some imports load.
LAMBDA_PYTHON = ROOT / ".venv-lambda" / "bin" / "python"


@dataclass
class Sample:
    """One fresh container: what its first caller waited for, and how that split."""

    first_answer_ms: float
    init_ms: float
    invoke_ms: float
    peak_rss_mb: float
    outcome: str
    # SnapStart only: the after-restore hooks, run before the first event.
    restore_ms: float


@contextlib.contextmanager
def local_stack() -> Iterator[tuple[LocalStack, dict[str, Any]]]:
    """The running `make run` (or one started for the run): its stack and its local secrets."""
    state_dir = Path(os.environ.get("LOCAL_STATE_DIR", ROOT / ".local"))
    with contextlib.ExitStack() as cleanup:
        state = running_stack(state_dir / "stack.json")
        if state is None:
            state_dir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="coldstart-")))
            process = make_run.start(state_dir, ROOT / "template.yaml")
            cleanup.callback(make_run.stop, process)
            make_run.read_until(process, make_run.BANNER_END)
            make_run.follow(process, state_dir / "make-run.log")
            state = make_run.stack_state(state_dir)
        stack = LocalStack(
            Path(state["template"]), state["aws_endpoint"], state.get("parameters"), state.get("environment")
        )
        stack.adopt(state["resources"])
        yield stack, json.loads((state_dir / "secrets.json").read_text())


def sample_event(code_dir: Path) -> dict[str, Any]:
    """The function's first sample event (what `make invoke` and `sam local invoke -e` use).

    events/ mirrors functions/: a function's events are under the same path as its code.
    """
    path = sorted((EVENTS / code_dir.resolve().relative_to(ROOT / "functions")).glob("*.json"))[0]
    event: dict[str, Any] = json.loads(path.read_text())
    return event


def _fresh_body(body: str) -> str:
    """A JSON body whose top-level "id" (an event's or a message's) is new; anything else as it is."""
    with contextlib.suppress(ValueError, AttributeError):
        document = json.loads(body)
        if isinstance(document, dict) and isinstance(document.get("id"), str):
            document["id"] = f"{document['id'].split('_bench_')[0]}_bench_{uuid.uuid4().hex[:12]}"
            return json.dumps(document)
    return body


def unique(event: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``event`` no earlier sample has sent: new idempotency keys, event ids and message ids."""
    fresh: dict[str, Any] = json.loads(json.dumps(event))
    for field in ("headers", "multiValueHeaders"):
        for name, value in (fresh.get(field) or {}).items():
            if name.lower() in ("idempotency-key", "webhook-id"):
                new = f"bench-{uuid.uuid4()}"
                fresh[field][name] = [new] if isinstance(value, list) else new
    if isinstance(fresh.get("body"), str) and not fresh.get("isBase64Encoded"):
        fresh["body"] = _fresh_body(fresh["body"])
    for record in fresh.get("Records") or []:
        if "messageId" in record:
            record["messageId"] = str(uuid.uuid4())
        if isinstance(record.get("body"), str):
            record["body"] = _fresh_body(record["body"])
    return fresh


def outcome(invocation: Invocation) -> str:
    """How the invocation ended, in a word: the HTTP status, a batch's failures, or the error type."""
    if invocation.error is not None:
        return str(invocation.error.get("errorType"))
    payload = invocation.payload
    if isinstance(payload, dict) and "statusCode" in payload:
        return str(payload["statusCode"])
    if isinstance(payload, dict) and payload.get("batchItemFailures"):
        return f"{len(payload['batchItemFailures'])} failed"
    return "ok"


def twin_of(config: FunctionConfig) -> FunctionConfig:
    """The function's seed-style twin: same environment and role, its code from bench/twins, no layer."""
    module = config.code_dir.name
    if not (TWINS / f"{module}.py").exists():
        raise SystemExit(f"{config.name} has no twin: write bench/twins/{module}.py")
    return replace(
        config, code_dir=TWINS, handler=f"{module}.handler", layer_dirs=[], max_containers=1, snapstart=False
    )


def measure(config: FunctionConfig, event: dict[str, Any], stack: LocalStack) -> Sample:
    """One cold start: a fresh container started, initialised and answering ``event``."""
    function = LocalFunction(config, stack.metrics)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the containers' logs
            started = time.perf_counter()
            invocation = function.run(event)
            waited = (time.perf_counter() - started) * 1000
    finally:
        function.stop()
    return Sample(
        first_answer_ms=waited,
        init_ms=invocation.init_ms or 0.0,
        invoke_ms=invocation.duration_ms,
        peak_rss_mb=invocation.peak_rss_mb or 0.0,
        outcome=outcome(invocation),
        restore_ms=invocation.restore_ms or 0.0,
    )


def loaded_modules(config: FunctionConfig, event: dict[str, Any]) -> list[str]:
    """The third-party and standard modules ``config``'s function has loaded once it has answered ``event``."""
    code = str(config.code_dir.resolve())
    command = [config.python, "-c", _LOADED, code, config.handler, config.name, str(config.timeout), *config.layer_dirs]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=config.process_environment(),
        input=json.dumps(event),
        capture_output=True,
        text=True,
        check=True,
    )
    names: list[str] = json.loads(done.stdout.splitlines()[-1])
    return [name for name in names if name.split(".")[0] not in _OWN]


def shared_modules(
    sides: list[tuple[str, FunctionConfig]], event: dict[str, Any], secrets: dict[str, Any]
) -> list[str]:
    """The modules the function and its twin both load by their first answer to ``event`` (each made unique)."""
    configs = dict(sides)
    theirs = set(loaded_modules(configs["twin"], replay(unique(event), secrets)))
    return [name for name in loaded_modules(configs["function"], replay(unique(event), secrets)) if name in theirs]


def floor(config: FunctionConfig, modules: list[str]) -> float:
    """Milliseconds from process start until ``modules`` are imported, in order, and nothing else is done."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [config.python, "-c", _FLOOR, *config.layer_dirs],
        cwd=config.code_dir,
        env=config.process_environment(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        process.stdin.write("\n".join(modules))
        process.stdin.close()
        said = process.stdout.readline()
        waited = (time.perf_counter() - started) * 1000
    finally:
        process.wait()
    if said.strip() != "imported":
        raise RuntimeError(f"{config.name}: the floor's imports did not finish")
    return waited


def summary(samples: list[Sample]) -> dict[str, Any]:
    """Medians of one side's samples, and the outcomes seen."""
    return {
        "first_answer_ms": round(statistics.median(s.first_answer_ms for s in samples), 1),
        "init_ms": round(statistics.median(s.init_ms for s in samples), 1),
        "invoke_ms": round(statistics.median(s.invoke_ms for s in samples), 1),
        "peak_rss_mb": round(statistics.median(s.peak_rss_mb for s in samples), 1),
        "outcomes": sorted({s.outcome for s in samples}),
    }


def run(runs: int, only: list[str], python: str) -> dict[str, Any]:
    """Sample every function and its twin ``runs`` times, interleaved; the report."""
    report: dict[str, Any] = {}
    with local_stack() as (stack, secrets):
        names = only or [spec.name for spec in stack.template.functions()]
        pairs = {}
        for name in names:
            config = replace(stack.function(name, max_containers=1).config, python=python)
            pairs[name] = (
                # On demand: what a cold start costs without SnapStart (and on $LATEST).
                [
                    ("function", replace(config, snapstart=False)),
                    ("twin", twin_of(config)),
                    ("snapstart", replace(config, snapstart=True)),
                ],
                sample_event(config.code_dir),
            )
        taken: dict[str, dict[str, list[Sample]]] = {
            name: {"function": [], "twin": [], "snapstart": []} for name in names
        }
        needed = {name: shared_modules(sides, event, secrets) for name, (sides, event) in pairs.items()}
        floors: dict[str, list[float]] = {name: [] for name in names}
        for round_number in range(runs):
            for name, (sides, event) in pairs.items():
                # Who goes first alternates: neither side always follows the other's warm page cache.
                for side, side_config in sides if round_number % 2 == 0 else reversed(sides):
                    taken[name][side].append(measure(side_config, replay(unique(event), secrets), stack))
                floors[name].append(floor(sides[0][1], needed[name]))
        for name in names:
            own, theirs = summary(taken[name]["function"]), summary(taken[name]["twin"])
            restored = taken[name]["snapstart"]
            report[name] = {
                "function": own,
                "twin": theirs,
                "ratio_to_twin": round(own["first_answer_ms"] / theirs["first_answer_ms"], 2),
                "import_only_ratio": round(own["init_ms"] / theirs["init_ms"], 2),
                "snapstart_after_restore_ms": round(statistics.median(s.restore_ms + s.invoke_ms for s in restored), 1),
                # Importing what both sides load, alone: no code doing this job with these packages answers sooner.
                "floor_ms": round(statistics.median(floors[name]), 1),
                "floor_ratio_to_twin": round(statistics.median(floors[name]) / theirs["first_answer_ms"], 2),
                "floor_modules": len(needed[name]),
                "runs": runs,
            }
    return report


def print_table(report: dict[str, Any], runs: int, version: str, python: str) -> None:
    """The report as a table: medians in ms, ratios to the twin."""
    print(
        f"Cold start (fresh container: init + first answer), median of {runs} samples each,"
        f" Python {version} ({python}); twin = seed-style handler doing the same job;"
        " restored = SnapStart's after-restore hooks + first answer;"
        " floor = only importing the modules both the function and its twin load by their first answer,"
        " x (floor) = floor / twin's first answer"
    )
    header = (
        "function",
        "first ms",
        "twin ms",
        "x twin",
        "init ms",
        "twin init",
        "x (init)",
        "RSS MB",
        "twin RSS",
        "restored",
        "floor ms",
        "x (floor)",
    )
    print(f"{header[0]:<30}" + "".join(f"{column:>10}" for column in header[1:]) + "  outcomes")
    for name, row in sorted(report.items(), key=lambda item: item[1]["ratio_to_twin"]):
        function, twin = row["function"], row["twin"]
        figures = (
            function["first_answer_ms"],
            twin["first_answer_ms"],
            row["ratio_to_twin"],
            function["init_ms"],
            twin["init_ms"],
            row["import_only_ratio"],
            function["peak_rss_mb"],
            twin["peak_rss_mb"],
            row["snapstart_after_restore_ms"],
            row["floor_ms"],
            row["floor_ratio_to_twin"],
        )
        outcomes = f"{'/'.join(function['outcomes'])} vs {'/'.join(twin['outcomes'])}"
        print(f"{name:<30}" + "".join(f"{figure:>10}" for figure in figures) + f"  {outcomes}")


def main() -> None:
    """Measure, then print the table or JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="samples per function and per twin (at least 7)")
    parser.add_argument("--only", nargs="*", default=[], metavar="FUNCTION", help="logical ids (default: all)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--python",
        default=str(LAMBDA_PYTHON) if LAMBDA_PYTHON.exists() else sys.executable,
        help="the containers' interpreter (default: .venv-lambda's, with only the layer's packages, if built)",
    )
    args = parse_arguments(parser, {"runs": 1, "only": ["HealthFunction"]})
    runs = args.runs if args.smoke else max(7, args.runs)  # a smoke run proves it runs, not a figure
    report = run(runs, args.only, args.python)
    version = subprocess.run([args.python, "--version"], capture_output=True, text=True, check=True).stdout.split()[-1]
    if args.json:
        print(json.dumps({"python": version, "interpreter": args.python, "runs": runs, "results": report}, indent=2))
    else:
        print_table(report, runs, version, args.python)


if __name__ == "__main__":
    main()

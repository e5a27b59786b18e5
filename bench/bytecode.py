"""What compiled bytecode saves a cold start: each function's init, from source only and from .pyc files.

Lambda's /opt and /var/task are read-only, so a layer shipped without .pyc
files (what SAM's Python builder makes) compiles every module it imports on
every cold start. layers/layer.mk compiles each layer at build time.
Both trees are built here from the same packages (.venv-lambda's, which
import on this machine, plus the layer's source); each sample imports a
handler module (the init phase; modules a function imports on its first
event are not counted) in a fresh isolated interpreter that writes no
bytecode, trees sampled in turn, medians printed (--json for JSON).

Usage: .venv313/bin/python bench/bytecode.py [--runs 7] [--only NAME ...] [--json]
"""

from __future__ import annotations

import argparse
import compileall
import json
import py_compile
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.coldstart import LAMBDA_PYTHON  # noqa: E402
from bench.smoke import parse_arguments  # noqa: E402
from local.layers import layer_folders  # noqa: E402
from local.stack import LocalStack  # noqa: E402

PACKAGES = ROOT / ".venv-lambda" / "lib" / "python3.13" / "site-packages"


def tree(into: Path, *, compiled: bool) -> Path:
    """The layers' packages and source merged in ``into``, as under /opt/python: without any .pyc, or all compiled."""
    shutil.copytree(PACKAGES, into, ignore=shutil.ignore_patterns("__pycache__"))
    for folder in layer_folders(ROOT):
        shutil.copytree(
            folder / "seawall", into / "seawall", ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True
        )
    if compiled:
        compileall.compile_dir(
            into, quiet=1, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
        )
    return into


def init_ms(packages: Path, code_dir: Path, module: str, environment: dict[str, str]) -> float:
    """One import of the handler module: milliseconds, in a fresh interpreter (-I: nothing of this machine; -B)."""
    probe = (
        f"import sys, time; sys.path[:0] = [{str(code_dir)!r}, {str(packages)!r}]; started = time.perf_counter();"
        f" import {module}; print((time.perf_counter() - started) * 1000)"
    )
    result = subprocess.run(
        [str(LAMBDA_PYTHON), "-I", "-B", "-c", probe], env=environment, capture_output=True, text=True, check=True
    )
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    """Measure each function's init on both trees; print the medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per function and tree")
    parser.add_argument("--only", nargs="*", default=[], metavar="FUNCTION", help="logical ids (default: all)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parse_arguments(parser, {"runs": 1, "only": ["HealthFunction"]})
    if not LAMBDA_PYTHON.exists():
        raise SystemExit("no .venv-lambda: run `make .venv-lambda/.installed` (or `make bench`) first")
    stack = LocalStack(ROOT / "template.yaml", "http://127.0.0.1:1")
    specs = [spec for spec in stack.template.functions() if not args.only or spec.name in args.only]
    report = {}
    with tempfile.TemporaryDirectory(prefix="bytecode-") as scratch:
        source, compiled = (
            tree(Path(scratch) / "source", compiled=False),
            tree(Path(scratch) / "compiled", compiled=True),
        )
        for spec in specs:
            environment = stack.function(spec.name).config.process_environment()
            module = spec.handler.rsplit(".", 1)[0]
            taken: dict[str, list[float]] = {"source": [], "compiled": []}
            for _ in range(args.runs):
                for name, packages in (("source", source), ("compiled", compiled)):
                    taken[name].append(init_ms(packages, spec.code_dir.resolve(), module, environment))
            medians = {name: round(statistics.median(values), 1) for name, values in taken.items()}
            report[spec.name] = {**medians, "saved_ms": round(medians["source"] - medians["compiled"], 1)}
    if args.json:
        print(json.dumps({"runs": args.runs, "measured_at": time.strftime("%Y-%m-%d"), "results": report}, indent=2))
        return
    print(f"Init (import of the handler module), median of {args.runs}; from source vs compiled .pyc")
    print(f"{'function':<30}{'source ms':>11}{'compiled ms':>13}{'saved ms':>10}")
    for name, row in report.items():
        print(f"{name:<30}{row['source']:>11}{row['compiled']:>13}{row['saved_ms']:>10}")


if __name__ == "__main__":
    main()

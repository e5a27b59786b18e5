"""What each package of the built layers costs, and what each function ships: bytes unzipped, import times.

Reads the layers `sam build` made (.aws-sam/build/SharedLayer/python, and each
provider's, e.g. .aws-sam/build/Stripe/StripeLayer/python; run `make build`
first): each distribution's files from its RECORD, and the packages it
provides. Per function: its code and its layers, unzipped (what counts against
Lambda's 250 MB), against the same function with every layer (one layer
holding every provider's SDK, as before each provider had its own): the
baseline, from the same build. Each import is timed with ``python -X importtime`` in a
fresh interpreter, the median of --runs: the package with everything it pulls
in. Which functions load a package on their first answer is in
docs/benchmarks.md, from `python -X importtime` of each function.

Usage: .venv313/bin/python bench/layer_size.py [--layer DIR] [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.smoke import parse_arguments  # noqa: E402
from local.template import Template  # noqa: E402

BUILD = ROOT / ".aws-sam" / "build"
LAYER = BUILD / "SharedLayer" / "python"


def megabytes(folder: Path) -> float:
    """A folder's files, in MB (10^6 bytes)."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 1e6


def built_layers(build: Path = BUILD) -> list[Path]:
    """Every built layer's python/ folder: the core's and each provider's."""
    return sorted(path for path in build.glob("**/*Layer/python") if path.is_dir())


def function_sizes(build: Path = BUILD) -> dict[str, dict[str, float]]:
    """Each function's unzipped MB with its own layers, and with every layer (the baseline)."""
    template = Template(build / "template.yaml")
    every = sum(megabytes(layer) for layer in built_layers(build))
    sizes = {}
    for spec in template.functions():
        code = megabytes(spec.code_dir)
        own = code + sum(megabytes(folder / "python") for folder in template.layer_dirs(spec))
        sizes[spec.path] = {"megabytes": round(own, 1), "every_layer_megabytes": round(code + every, 1)}
    return sizes


def distributions(layer: Path) -> dict[str, tuple[int, list[str]]]:
    """Each distribution: its bytes on disk, and the top-level modules it installs."""
    found: dict[str, tuple[int, list[str]]] = {}
    for info in sorted(layer.glob("*.dist-info")):
        name = info.name.split("-")[0]
        size, tops = 0, set()
        with (info / "RECORD").open() as record:
            for row in csv.reader(record):
                path = layer / row[0]
                if path.is_file():
                    size += path.stat().st_size
                top = row[0].split("/")[0]
                if not top.endswith((".dist-info", ".data")) and top != "..":
                    tops.add(top.removesuffix(".py"))
        found[name] = (size, sorted(top for top in tops if top.isidentifier() and not top.startswith("_")))
    return found


def import_ms(module: str) -> float:
    """One import of ``module`` in a fresh interpreter: cumulative milliseconds.

    The layer is built for arm64 (pydantic-core is compiled), so the import is
    timed on this interpreter's own copy of the same pinned versions.
    """
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True, text=True, check=True
    )
    for line in reversed(result.stderr.splitlines()):
        _, cumulative, name = [*line.split("|"), "", ""][:3]  # "import time: self | cumulative | name"
        if name.strip() == module:
            return int(cumulative) / 1000
    return 0.0


def uncompiled(layer: Path) -> list[Path]:
    """The layer's modules with no python3.13 .pyc beside them (Lambda would compile them on every cold start)."""
    return [
        path
        for path in layer.rglob("*.py")
        if not (path.parent / "__pycache__" / f"{path.stem}.cpython-313.pyc").exists()
    ]


def main() -> None:
    """Measure and print the table, or JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", type=Path, default=LAYER, help="the built layer's python/ folder")
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per import")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--check", action="store_true", help="only check that every layer's modules ship compiled")
    args = parse_arguments(parser, {"runs": 1})
    if not args.layer.is_dir():
        raise SystemExit(f"no built layer at {args.layer}: run `make build` first")
    if args.check:
        missing = [path for layer in built_layers() for path in uncompiled(layer)]
        print(
            f"{len(missing)} of the built layers' modules ship without bytecode"
            + "".join(f"\n  {p}" for p in missing[:10])
        )
        raise SystemExit(1 if missing else 0)
    missing = uncompiled(args.layer)
    functions = function_sizes()
    report: dict[str, dict[str, Any]] = {}
    for name, (size, modules) in distributions(args.layer).items():
        timings = {module: statistics.median(import_ms(module) for _ in range(args.runs)) for module in modules}
        report[name] = {"megabytes": round(size / 1e6, 2), "import_ms": {m: round(t, 1) for m, t in timings.items()}}
    own = sum(path.stat().st_size for path in (args.layer / "seawall").rglob("*.py"))
    report["seawall (ours)"] = {"megabytes": round(own / 1e6, 2), "import_ms": {}}
    total = sum(path.stat().st_size for path in args.layer.rglob("*") if path.is_file())
    if args.json:
        print(
            json.dumps(
                {
                    "python": sys.version.split()[0],
                    "total_megabytes": round(total / 1e6, 1),
                    "uncompiled_modules": len(missing),
                    "packages": report,
                    "layers_megabytes": {
                        str(layer.parent.relative_to(BUILD)): round(megabytes(layer), 1) for layer in built_layers()
                    },
                    "functions": functions,
                }
            )
        )
        return
    print(
        f"Built layer {args.layer.relative_to(ROOT)}: {total / 1e6:.1f} MB unzipped, {len(missing)} modules"
        f" without bytecode; imports timed on Python {sys.version.split()[0]}"
    )
    print(f"{'distribution':<26}{'MB':>8}  import ms (median of {args.runs}, alone)")
    for name, row in sorted(report.items(), key=lambda item: -item[1]["megabytes"]):
        imports = ", ".join(f"{module} {ms}" for module, ms in row["import_ms"].items())
        print(f"{name:<26}{row['megabytes']:>8}  {imports}")
    print(f"\n{'layer':<34}{'MB':>8}")
    for layer in built_layers():
        print(f"{layer.parent.relative_to(BUILD)!s:<34}{megabytes(layer):>8.1f}")
    print(f"\n{'function (code and its layers, unzipped)':<46}{'MB':>8}{'with every layer':>18}{'ratio':>8}")
    for name, row in functions.items():
        ratio = row["megabytes"] / row["every_layer_megabytes"]
        print(f"{name:<46}{row['megabytes']:>8}{row['every_layer_megabytes']:>18}{ratio:>8.2f}")


if __name__ == "__main__":
    main()

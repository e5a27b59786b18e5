"""Cold start of every function: import its handler module (running its module-level initialisation).

Each sample is a fresh interpreter; functions and the naive baseline
(bench/naive_handler.py) are sampled in turn so machine noise hits them alike.
Prints the median milliseconds, the ratio to the naive handler (goal: <= 0.6)
and the peak RSS; --json prints the same as JSON.

Usage: python bench/coldstart.py [--runs 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local.template import Template  # noqa: E402

# Run in the child: time the import alone (interpreter start-up excluded), then report peak RSS.
PROBE = """
import json, resource, sys, time
sys.path[:0] = {paths!r}
started = time.perf_counter()
__import__({module!r})
elapsed = time.perf_counter() - started
print(json.dumps({{"ms": elapsed * 1000, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

BASE_ENVIRONMENT = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "PATH": os.environ.get("PATH", ""),
}


def targets() -> dict[str, tuple[list[str], str, dict[str, str]]]:
    """Each function (its import paths, module and environment), and the naive baseline."""
    template = Template(ROOT / "template.yaml")
    found: dict[str, tuple[list[str], str, dict[str, str]]] = {}
    for spec in template.functions():
        paths = [str(spec.code_dir), *(str(path) for path in template.layer_dirs(spec))]
        environment = template.environment(spec)
        found[spec.name] = (paths, spec.handler.rsplit(".", 1)[0], environment)
    found["naive"] = ([str(ROOT / "bench")], "naive_handler", {"POWERTOOLS_SERVICE_NAME": "naive"})
    return found


def sample(paths: list[str], module: str, environment: dict[str, str]) -> dict[str, float]:
    """One cold import in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(paths=paths, module=module)],
        env={**BASE_ENVIRONMENT, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    measured: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per function (at least 5)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    runs = max(5, args.runs)

    found = targets()
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in found}
    for _ in range(runs):
        for name, (paths, module, environment) in found.items():
            samples[name].append(sample(paths, module, environment))

    naive = statistics.median(s["ms"] for s in samples["naive"])
    report = {
        name: {
            "median_ms": round(statistics.median(s["ms"] for s in taken), 1),
            "ratio_to_naive": round(statistics.median(s["ms"] for s in taken) / naive, 2),
            "peak_rss_mb": round(statistics.median(s["peak_rss_mb"] for s in taken), 1),
            "runs": len(taken),
        }
        for name, taken in samples.items()
    }
    if args.json:
        print(json.dumps({"python": sys.version.split()[0], "results": report}, indent=2))
        return
    print(f"Cold start (import + module init), median of {runs} fresh interpreters, Python {sys.version.split()[0]}")
    print(f"{'function':<24}{'median ms':>10}{'x naive':>9}{'peak RSS MB':>13}")
    for name, row in report.items():
        print(f"{name:<24}{row['median_ms']:>10}{row['ratio_to_naive']:>9}{row['peak_rss_mb']:>13}")


if __name__ == "__main__":
    main()

"""Mutation testing of the layer's guarantee modules: mutmut, each package against its own tests.

mutmut names a mutant after its file's path and records a test's hit under the
module's name, so the layer must sit at the top of the tree mutmut runs in
(``seawall/``, not ``layers/shared/seawall/``). Each package runs in
.mutation/<package>/: links to the layer, the tests and what they read, and a
pyproject.toml holding the project's pytest configuration and its
``[tool.mutmut]`` table with the package's files and tests added. mutmut copies
that tree into mutants/ and runs the tests there, in process (tests that run a
function's container in a subprocess would not see a mutant, so none is used).

A package's results stay in its mutants/ folder: a later run tests only the
mutants of changed functions, ``--survivors`` the survivors again (after new
tests), ``--fresh`` all of them. Mutants judged equivalent (``EQUIVALENT`` below, by
name: a function's mutants are renumbered when it changes, and the check below
then says which names are stale) count neither way in the score.

Usage: .venv/bin/python bench/mutation.py [PACKAGE ...] [--fresh | --survivors | --report] [--max-children 2]
[--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.smoke import parse_arguments  # noqa: E402

MUTATION_DIR = ROOT / ".mutation"
MUTMUT = Path(sys.executable).parent / "mutmut"
# What the tests read besides themselves: the local stack, the template they provision, the sample events.
LINKED = ("local", "tests", "events", "template.yaml")
# What mutmut's fork server imports once for all the runs (preload.txt): third-party packages only, none of which
# writes to stdout or keeps it when imported.
PRELOADED = (
    "boto3",
    "botocore.session",
    "moto.server",
    "aws_lambda_powertools.utilities.idempotency",
    "aws_lambda_powertools.utilities.batch",
    "pydantic",
    "stripe",
    "hypothesis",
    "httpx",
    "valkey",
    "yaml",
    "standardwebhooks",
)


@dataclass(frozen=True)
class Package:
    """A guarantee package: the files mutated (globs under the layer) and the tests that are its own."""

    files: tuple[str, ...]
    tests: tuple[str, ...]


PACKAGES: dict[str, Package] = {
    "sync": Package(("seawall/sync/*",), ("tests/state/test_sync.py",)),
    "webhooks": Package(
        ("seawall/webhooks/*",),
        (
            "tests/providers/stripe/test_webhooks.py",
            "tests/unit/test_outbox_publisher.py",
            "tests/providers/stripe/test_events.py",
            "tests/unit/test_webhook_receiver.py",
            # The in-process test of that file; the rest run the receiver's container.
            "tests/functions/test_standard_webhooks.py::test_any_configured_secret_verifies_while_rolling",
        ),
    ),
    "idempotency": Package(
        ("seawall/idempotency/*",), ("tests/state/test_idempotency.py", "tests/integration/test_api_problems.py")
    ),
    "breaker": Package(("seawall/breaker/*",), ("tests/state/test_breaker.py",)),
    "ratelimit": Package(("seawall/ratelimit/*",), ("tests/state/test_ratelimit.py",)),
    "stripe": Package(
        (
            "seawall/providers/stripe/reconcile.py",
            "seawall/providers/stripe/events.py",
            "seawall/providers/stripe/processor.py",
        ),
        ("tests/providers/stripe/test_events.py", "tests/model/test_stripe_recovery.py"),
    ),
    "hotelbeds-bookings": Package(
        ("seawall/providers/hotelbeds/bookings/*",),
        ("tests/providers/hotelbeds/test_bookings.py", "tests/model/test_hotelbeds_bookings.py"),
    ),
}

# Surviving mutants whose program cannot behave differently, each with the reason (docs/benchmarks.md lists them).
_KEYWORD_CASE = "DynamoDB's expression keywords are case-insensitive (SET, REMOVE, OR)"
_ITEM_TYPES = "every attribute of a job's item is a string or a number: the default is never read"
_CANCELLATION_REASONS = (
    "DynamoDB lists the reasons of every cancelled transaction, and the limiter treats any store failure alike"
)
_ONE_COUNT_PER_LIMIT = "each store returns one state per limit: zip's strict check never fires"
_MESSAGE_NEVER_SHOWN = "the store policy logs an error's type, never its text: the message is never read"
_HINT_EPOCH = "a hint of 0 or 1 ms after the epoch: both long past, both guess idle"
_HINT_NOW = (
    "a hint equal to now to the millisecond: both branches admit such a TAT or are corrected, and no test can meet "
    "that millisecond"
)
_LAST_MILLISECOND = "a full fixed window refuses for at least its last millisecond: > 0 and > 1 differ only there"
_FLOAT_EQUALITY = (
    "a wait and what is left of it, monotonic float seconds, are never equal to the last bit: < and <= pick the same"
)
_TRUTH_VALUE = "decide reads allowed as a truth value: None refuses as False does"
_EPOCH_BUCKETS = "buckets count from the epoch (over 1e8 of them): -2 or +1 marks a slot empty as -1 does"
_NAMES_FILTER = "the text only picks which #names to send: the mutation adds no '#' name the expressions use"
_HGETALL_PAIRS = "HGETALL answers field, value pairs: zip's strict check never fires"
_MEMORY_DEFAULTS = (
    "this process's record gets state and open_until at its trip, lease_until, probes and successes when a period "
    "starts: a default is read only where the branch taken does not depend on it"
)
_SUCCESSES_ADDED = "the ADD that counts a probe's success creates the attribute: the record it returns always has it"
EQUIVALENT: dict[str, str] = {
    "seawall.sync._store.xǁDynamoDBSyncStoreǁacquire__mutmut_22": _KEYWORD_CASE,
    "seawall.sync._store.xǁDynamoDBSyncStoreǁacquire__mutmut_25": _KEYWORD_CASE,
    "seawall.sync._store.xǁDynamoDBSyncStoreǁcheckpoint__mutmut_76": _KEYWORD_CASE,
    "seawall.sync._store.xǁDynamoDBSyncStoreǁcheckpoint__mutmut_83": _KEYWORD_CASE,
    "seawall.sync._store.xǁDynamoDBSyncStoreǁrelease__mutmut_19": _KEYWORD_CASE,
    "seawall.sync._store.xǁDynamoDBSyncStoreǁread__mutmut_22": _ITEM_TYPES,
    "seawall.sync._store.xǁDynamoDBSyncStoreǁread__mutmut_24": _ITEM_TYPES,
    "seawall.sync._store.xǁDynamoDBSyncStoreǁread__mutmut_27": _ITEM_TYPES,
    "seawall.sync._job.xǁSyncJobǁ__init____mutmut_1": "SyncJob's page_seconds default: SharedState.sync_job, the "
    "only maker of jobs, always passes its own",
    "seawall.sync._job.xǁSyncJobǁrun__mutmut_7": "a run's own bound and the invocation's deadline never expire "
    "at the same instant (monotonic clock, float seconds): < and <= pick the same one",
    # ratelimit
    "seawall.ratelimit._dynamodb.xǁDynamoDBLimiterStoreǁ_update__mutmut_28": _KEYWORD_CASE,
    "seawall.ratelimit._dynamodb.xǁDynamoDBLimiterStoreǁ_update__mutmut_34": _KEYWORD_CASE,
    "seawall.ratelimit._dynamodb.xǁDynamoDBLimiterStoreǁ_update__mutmut_71": _KEYWORD_CASE,
    "seawall.ratelimit._dynamodb.xǁDynamoDBLimiterStoreǁ_update__mutmut_77": _KEYWORD_CASE,
    "seawall.ratelimit._dynamodb.xǁDynamoDBLimiterStoreǁ_update__mutmut_113": _KEYWORD_CASE,
    "seawall.ratelimit._dynamodb.xǁDynamoDBLimiterStoreǁ_update__mutmut_119": _KEYWORD_CASE,
    "seawall.ratelimit._dynamodb.xǁDynamoDBLimiterStoreǁexhaust__mutmut_28": _KEYWORD_CASE,
    "seawall.ratelimit._dynamodb.xǁDynamoDBLimiterStoreǁ_update__mutmut_64": _HINT_EPOCH,
    "seawall.ratelimit._dynamodb.xǁDynamoDBLimiterStoreǁ_update__mutmut_65": _HINT_NOW,
    "seawall.ratelimit._dynamodb.xǁDynamoDBLimiterStoreǁ_write__mutmut_39": _CANCELLATION_REASONS,
    "seawall.ratelimit._dynamodb.xǁDynamoDBLimiterStoreǁ_write__mutmut_41": _CANCELLATION_REASONS,
    "seawall.ratelimit._dynamodb.xǁDynamoDBLimiterStoreǁconsume__mutmut_29": _ONE_COUNT_PER_LIMIT,
    "seawall.ratelimit._dynamodb.xǁDynamoDBLimiterStoreǁconsume__mutmut_75": _ONE_COUNT_PER_LIMIT,
    "seawall.ratelimit._dynamodb.xǁDynamoDBLimiterStoreǁconsume__mutmut_68": _LAST_MILLISECOND,
    "seawall.ratelimit._dynamodb.xǁDynamoDBLimiterStoreǁconsume__mutmut_78": _MESSAGE_NEVER_SHOWN,
    "seawall.ratelimit._dynamodb.xǁDynamoDBLimiterStoreǁconsume__mutmut_79": _MESSAGE_NEVER_SHOWN,
    "seawall.ratelimit._dynamodb.xǁDynamoDBLimiterStoreǁconsume__mutmut_80": _MESSAGE_NEVER_SHOWN,
    "seawall.ratelimit._limiter.xǁRateLimiterǁacquire__mutmut_43": "StoreUnavailableError's default retry_after "
    "(1.0) is what every degraded refusal carries (_DEGRADED_RETRY_AFTER)",
    "seawall.ratelimit._limiter.xǁRateLimiterǁacquire__mutmut_46": _FLOAT_EQUALITY,
    "seawall.ratelimit._limiter.xǁRateLimiterǁexhaust__mutmut_64": _TRUTH_VALUE,
    "seawall.ratelimit._limiter.xǁRateLimiterǁroom__mutmut_20": _ONE_COUNT_PER_LIMIT,
    "seawall.ratelimit._limiter.xǁRateLimiterǁroom__mutmut_23": _ONE_COUNT_PER_LIMIT,
    "seawall.ratelimit._limiter.xǁRateLimiterǁroom__mutmut_24": _ONE_COUNT_PER_LIMIT,
    "seawall.ratelimit._limits.x_usage__mutmut_25": _ONE_COUNT_PER_LIMIT,
    "seawall.ratelimit._limits.x_usage__mutmut_28": _ONE_COUNT_PER_LIMIT,
    "seawall.ratelimit._limits.x_usage__mutmut_29": _ONE_COUNT_PER_LIMIT,
    "seawall.ratelimit._redis.xǁRedisLimiterStoreǁusage__mutmut_7": "eval's args default to none: args=[] and no "
    "args send the same command",
    # breaker
    "seawall.breaker._dynamodb.xǁDynamoDBBreakerStoreǁrelease_probe__mutmut_10": _KEYWORD_CASE,
    "seawall.breaker._dynamodb.xǁDynamoDBBreakerStoreǁrelease_probe__mutmut_13": _KEYWORD_CASE,
    "seawall.breaker._dynamodb.xǁDynamoDBBreakerStoreǁacquire_probe__mutmut_28": _KEYWORD_CASE,
    "seawall.breaker._dynamodb.xǁDynamoDBBreakerStoreǁacquire_probe__mutmut_31": _KEYWORD_CASE,
    "seawall.breaker._dynamodb.xǁDynamoDBBreakerStoreǁacquire_probe__mutmut_75": _KEYWORD_CASE,
    "seawall.breaker._dynamodb.xǁDynamoDBBreakerStoreǁacquire_probe__mutmut_78": _KEYWORD_CASE,
    "seawall.breaker._dynamodb.xǁDynamoDBBreakerStoreǁfinish_probe__mutmut_3": _KEYWORD_CASE,
    "seawall.breaker._dynamodb.xǁDynamoDBBreakerStoreǁfinish_probe__mutmut_38": _KEYWORD_CASE,
    "seawall.breaker._dynamodb.xǁDynamoDBBreakerStoreǁfinish_probe__mutmut_51": _KEYWORD_CASE,
    "seawall.breaker._dynamodb.xǁDynamoDBBreakerStoreǁfinish_probe__mutmut_62": _SUCCESSES_ADDED,
    "seawall.breaker._dynamodb.xǁDynamoDBBreakerStoreǁfinish_probe__mutmut_64": _SUCCESSES_ADDED,
    "seawall.breaker._dynamodb.xǁDynamoDBBreakerStoreǁfinish_probe__mutmut_67": _SUCCESSES_ADDED,
    "seawall.breaker._dynamodb.xǁDynamoDBBreakerStoreǁtrip__mutmut_11": _KEYWORD_CASE,
    "seawall.breaker._dynamodb.xǁDynamoDBBreakerStoreǁtrip__mutmut_14": _KEYWORD_CASE,
    "seawall.breaker._dynamodb.xǁDynamoDBBreakerStoreǁ_send__mutmut_3": _NAMES_FILTER,
    "seawall.breaker._dynamodb.xǁDynamoDBBreakerStoreǁ_send__mutmut_7": _NAMES_FILTER,
    "seawall.breaker._redis.x__as_record__mutmut_4": _HGETALL_PAIRS,
    "seawall.breaker._redis.x__as_record__mutmut_7": _HGETALL_PAIRS,
    "seawall.breaker._redis.x__as_record__mutmut_11": _HGETALL_PAIRS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁacquire_probe__mutmut_5": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁacquire_probe__mutmut_7": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁacquire_probe__mutmut_10": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁacquire_probe__mutmut_11": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁacquire_probe__mutmut_20": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁacquire_probe__mutmut_28": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁacquire_probe__mutmut_30": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁacquire_probe__mutmut_33": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁacquire_probe__mutmut_41": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁacquire_probe__mutmut_43": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁacquire_probe__mutmut_46": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁacquire_probe__mutmut_55": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁacquire_probe__mutmut_57": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁacquire_probe__mutmut_60": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁfinish_probe__mutmut_12": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁfinish_probe__mutmut_14": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁfinish_probe__mutmut_17": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁfinish_probe__mutmut_34": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁfinish_probe__mutmut_36": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁfinish_probe__mutmut_39": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁrelease_probe__mutmut_12": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁrelease_probe__mutmut_14": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁrelease_probe__mutmut_17": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁrelease_probe__mutmut_30": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁrelease_probe__mutmut_32": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁrelease_probe__mutmut_35": _MEMORY_DEFAULTS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁrecord__mutmut_9": _EPOCH_BUCKETS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁrecord__mutmut_10": _EPOCH_BUCKETS,
    "seawall.breaker._store.x__close__mutmut_7": _EPOCH_BUCKETS,
    "seawall.breaker._store.x__close__mutmut_8": _EPOCH_BUCKETS,
    "seawall.breaker._store.xǁMemoryBreakerStoreǁrecord__mutmut_21": "held == bucket takes the branch above: the "
    "elif never sees them equal, < and <= admit the same",
}


@dataclass
class Result:
    """A package's run: mutants by mutmut's status, and the equivalent ones among the survivors."""

    package: str
    statuses: dict[str, str] = field(default_factory=dict)

    def count(self, status: str) -> int:
        """How many mutants have ``status``."""
        return sum(1 for value in self.statuses.values() if value == status)

    @property
    def equivalent(self) -> list[str]:
        """The survivors judged equivalent."""
        return sorted(name for name, status in self.statuses.items() if status == "survived" and name in EQUIVALENT)

    @property
    def survivors(self) -> list[str]:
        """The survivors not judged equivalent: each wants a test."""
        return sorted(name for name, status in self.statuses.items() if status == "survived" and name not in EQUIVALENT)

    @property
    def tested(self) -> int:
        """The mutants tested (a run limited by ``--only`` leaves the others unchecked)."""
        return len(self.statuses) - self.count("not checked")

    @property
    def score(self) -> float | None:
        """Killed (a timeout counts as killed) over all tested but the equivalent ones."""
        judged = self.tested - len(self.equivalent)
        return (self.count("killed") + self.count("timeout")) / judged if judged else None

    def summary(self) -> dict[str, Any]:
        """The numbers of the table."""
        return {
            "package": self.package,
            "mutants": self.tested,
            "killed": self.count("killed"),
            "timeout": self.count("timeout"),
            "survived": self.count("survived"),
            "equivalent": len(self.equivalent),
            "no_tests": self.count("no tests"),
            "score": None if self.score is None else round(self.score, 4),
        }


def _toml(table: str, values: dict[str, Any]) -> str:
    """One TOML table of strings, numbers, booleans and lists of them (JSON writes each as TOML reads it)."""
    return f"[{table}]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())


def stage(name: str, package: Package, *, fresh: bool) -> Path:
    """The package's folder: the layer at its top, the tests and what they read, its own pyproject.toml."""
    folder = MUTATION_DIR / name
    if fresh and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for linked, target in [("seawall", ROOT / "layers" / "shared" / "seawall")] + [
        (path, ROOT / path) for path in LINKED
    ]:
        link = folder / linked
        if not link.is_symlink():
            link.symlink_to(target)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    mutmut = {
        **project["tool"]["mutmut"],
        "only_mutate": list(package.files),
        "pytest_add_cli_args_test_selection": list(package.tests),
    }
    pytest = project["tool"]["pytest"]["ini_options"]
    text = _toml("tool.pytest.ini_options", pytest) + "\n" + _toml("tool.mutmut", mutmut)
    (folder / "preload.txt").write_text("".join(f"{module}\n" for module in PRELOADED))
    pyproject = folder / "pyproject.toml"
    if not pyproject.exists() or pyproject.read_text() != text:
        pyproject.write_text(text)
    return folder


def run(
    name: str, package: Package, *, fresh: bool, max_children: int, survivors: bool = False, only: Sequence[str] = ()
) -> Result:
    """Run mutmut on one package (its output in .mutation/<package>/mutmut.log); its mutants' statuses.

    With ``survivors``, only the last run's survivors are tested again (against the tests as they are now);
    ``only`` names the mutants to test (globs: ``seawall.webhooks.signed.*``), the others left as they were.
    """
    folder = stage(name, package, fresh=fresh)
    again = results(name).survivors if survivors else list(only)
    if survivors and not again:
        return results(name)
    with (folder / "mutmut.log").open("w") as log:
        mutmut = subprocess.Popen(
            [str(MUTMUT), "run", "--max-children", str(max_children), *again],
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            mutmut.wait()
        finally:
            # A test run stopped for its time leaves the servers its fixtures started (Valkey): end what is left.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(mutmut.pid, signal.SIGTERM)
    return results(name)


def results(name: str) -> Result:
    """The statuses of a package's mutants, as ``mutmut results --all`` lists them (none if it never ran here)."""
    if not (MUTATION_DIR / name).is_dir():
        return Result(name)
    listed = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"],
        cwd=MUTATION_DIR / name,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = Result(name)
    for line in listed.splitlines():
        found = re.fullmatch(r"\s*(\S+): (.+)", line)
        if found:
            result.statuses[found[1]] = found[2]
    return result


def _modules(names: list[str]) -> list[str]:
    """The module prefixes of the packages' mutant names (``seawall.sync``)."""
    return [
        pattern.removesuffix(".py").removesuffix("/*").replace("/", ".")
        for name in names
        for pattern in PACKAGES[name].files
    ]


def main() -> None:
    """Run the campaign (or the packages named) and print its table, survivors included."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("packages", nargs="*", help=f"packages to run, of {', '.join(PACKAGES)} (all by default)")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results and start over")
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once")
    parser.add_argument("--survivors", action="store_true", help="test only the last run's survivors again")
    parser.add_argument("--only", nargs="+", default=[], help="test only these mutants (globs of their names)")
    parser.add_argument("--report", action="store_true", help="print the stored results without running")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parse_arguments(parser, {"report": True})  # a smoke run reads the stored results, runs no mutant
    names = args.packages or list(PACKAGES)
    unknown = set(names) - set(PACKAGES)
    if unknown:
        parser.error(f"no such package: {', '.join(sorted(unknown))}")
    found = [
        results(name)
        if args.report
        else run(
            name,
            PACKAGES[name],
            fresh=args.fresh,
            max_children=args.max_children,
            survivors=args.survivors,
            only=args.only,
        )
        for name in names
    ]
    if args.json:
        print(json.dumps([result.summary() | {"survivors": result.survivors} for result in found], indent=2))
        return
    print(f"{'package':<20}{'mutants':>8}{'killed':>8}{'timeout':>8}{'survived':>9}{'equiv.':>7}{'no test':>8}  score")
    for result in found:
        numbers = result.summary()
        score = "-" if numbers["score"] is None else f"{numbers['score']:.1%}"
        print(
            f"{result.package:<20}{numbers['mutants']:>8}{numbers['killed']:>8}{numbers['timeout']:>8}"
            f"{numbers['survived']:>9}{numbers['equivalent']:>7}{numbers['no_tests']:>8}  {score}"
        )
    for result in found:
        for survivor in result.survivors:
            print(f"survived: {survivor}   (.mutation/{result.package}: mutmut show {survivor})")
    # A function's mutants are renumbered when it changes: an equivalent's name may then be another mutant's.
    mutants = {name: status for result in found for name, status in result.statuses.items()}
    for name in sorted(EQUIVALENT):
        if any(name.startswith(f"{prefix}.") for prefix in _modules(names)) and mutants.get(name) != "survived":
            print(f"listed as equivalent, but {mutants.get(name, 'no such mutant')}: {name}")


if __name__ == "__main__":
    main()

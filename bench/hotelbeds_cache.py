"""Hotelbeds availability: the quota 100 searches spend with the shared cache and without, in one run.

The real HotelsAvailabilityFunction in containers of its own (four at once,
as four concurrent callers bring up), against the Hotelbeds sandbox, which
counts every request the key makes. The searches are what a product's
callers send: drawn (seeded) from a pool of distinct stays with a few
popular ones (Zipf-like), the same search written differently (rooms and
hotel codes in another order) as often as not. Three stacks, one workload:

- no cache (``HOTELBEDS_AVAILABILITY_CACHE_SECONDS=0``): the baseline;
- the cache on DynamoDB (moto), and on Upstash (the local REST endpoint over Valkey).

Printed: requests the key spent per 100 searches, the share saved, and the
median time a search took (the function's own duration, in its container).

Usage: python bench/hotelbeds_cache.py [--searches 100] [--distinct 25] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import logging
import random
import statistics
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from local.layers import put_on_path  # noqa: E402

put_on_path(ROOT)

from bench.smoke import parse_arguments  # noqa: E402
from local.aws import MotoServer  # noqa: E402
from local.sandboxes.hotelbeds import HotelbedsSandbox  # noqa: E402
from local.secrets import ensure_secrets_file  # noqa: E402
from local.stack import LocalStack  # noqa: E402
from local.template import Template  # noqa: E402
from local.upstash import UpstashEndpoint  # noqa: E402

EVENT = json.loads((ROOT / "events" / "hotelbeds" / "hotels_availability" / "post.json").read_text())
CALLERS = 4
REORDERED = 0.5  # the share of searches written in another order


def workload(searches: int, distinct: int, seed: int = 7) -> list[dict[str, Any]]:
    """``searches`` bodies over ``distinct`` stays, popular ones first (weight 1/rank), half of them reordered."""
    rng = random.Random(seed)
    pool = []
    for index in range(distinct):
        check_in = dt.date.today() + dt.timedelta(days=30 + index % 28)  # inside the booking window on any day
        rooms = [{"adults": 2}, {"adults": 1, "children_ages": [4 + index % 9, 11]}][: 1 + index % 2]
        pool.append(
            {
                "check_in": check_in.isoformat(),
                "check_out": (check_in + dt.timedelta(days=2)).isoformat(),
                "rooms": rooms,
                "hotels": sorted(rng.sample(range(1, 60), 3)),
            }
        )
    weights = [1 / rank for rank in range(1, distinct + 1)]
    bodies = []
    for search in rng.choices(pool, weights, k=searches):
        body = dict(search)
        if rng.random() < REORDERED:  # the same search, written another way
            body = {**body, "rooms": body["rooms"][::-1], "hotels": body["hotels"][::-1]}
        bodies.append(body)
    return bodies


def _run(stack: LocalStack, sandbox: HotelbedsSandbox, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    function = stack.function("HotelsAvailabilityFunction", max_containers=CALLERS)

    def search(body: dict[str, Any]) -> float:
        invocation = function.run({**EVENT, "body": json.dumps(body)})
        if invocation.error is not None or invocation.payload["statusCode"] != 200:  # noqa: PLR2004
            raise RuntimeError(invocation.error or invocation.payload)
        return invocation.duration_ms

    used = sandbox.fault_report()["used_today"]
    with ThreadPoolExecutor(CALLERS) as pool:
        durations = list(pool.map(search, bodies))
    function.stop()
    spent = sandbox.fault_report()["used_today"] - used
    return {
        "searches": len(bodies),
        "requests_spent": spent,
        "requests_per_100_searches": round(spent * 100 / len(bodies), 1),
        "median_ms": round(statistics.median(durations), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=100)
    parser.add_argument("--distinct", type=int, default=25, help="distinct stays the searches are drawn from")
    parser.add_argument("--json", action="store_true")
    args = parse_arguments(parser, {"searches": 6, "distinct": 2})
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's access log
    moto = MotoServer()
    endpoint = moto.start()
    upstash = UpstashEndpoint()
    names = list(Template(ROOT / "template.yaml").of_type("AWS::SecretsManager::Secret"))
    secrets = ensure_secrets_file(ROOT / ".local" / "bench-secrets.json", [*names, "UpstashSecret"])
    secrets["UpstashSecret"] = {"url": upstash.start(), "token": upstash.token}
    credentials = secrets["HotelbedsSecret"]
    sandbox = HotelbedsSandbox({credentials["api_key"]: credentials["secret"]})
    sandbox.start()
    bodies = workload(args.searches, args.distinct)
    # The fewest requests any cache could spend: one per distinct search drawn.
    drawn = {(body["check_in"], tuple(sorted(body["hotels"])), len(body["rooms"])) for body in bodies}
    results: dict[str, Any] = {
        "distinct_stays": args.distinct,
        "distinct_searches_drawn": len(drawn),
        "callers": CALLERS,
    }
    for name, backend, cache_seconds in (
        ("baseline_no_cache", "dynamodb", "0"),
        ("cache_dynamodb", "dynamodb", "300"),
        ("cache_upstash", "upstash", "300"),
    ):
        stack = LocalStack(
            ROOT / "template.yaml",
            endpoint,
            {"AWS::StackName": f"bench-hotels-{uuid.uuid4().hex[:6]}", "StateBackend": backend},
            {
                "HOTELBEDS_API_BASE": sandbox.url,
                "HOTELBEDS_DAILY_QUOTA": "100000",
                "HOTELBEDS_REQUESTS_PER_SECOND": "1000",
                "HOTELBEDS_AVAILABILITY_CACHE_SECONDS": cache_seconds,
                "POWERTOOLS_LOG_LEVEL": "ERROR",
            },
        )
        stack.provision(secrets, moto.iam)
        with contextlib.redirect_stdout(io.StringIO()):  # the runtime's notes
            results[name] = _run(stack, sandbox, bodies)
        stack.stop()
    baseline = results["baseline_no_cache"]["requests_spent"]
    for name in ("cache_dynamodb", "cache_upstash"):
        results[name]["quota_saved_share"] = round(1 - results[name]["requests_spent"] / baseline, 3)
    sandbox.stop()
    upstash.stop()
    moto.stop()
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"{args.searches} searches drawn from {args.distinct} stays ({len(drawn)} distinct among them),"
        f" {CALLERS} callers at once:"
    )
    for name, label in (
        ("baseline_no_cache", "No cache (baseline)"),
        ("cache_dynamodb", "Cache on DynamoDB"),
        ("cache_upstash", "Cache on Upstash"),
    ):
        result = results[name]
        saved = f", {result['quota_saved_share']:.0%} of the quota saved" if "quota_saved_share" in result else ""
        print(
            f"  {label}: {result['requests_per_100_searches']} requests per 100 searches{saved};"
            f" median search {result['median_ms']} ms"
        )


if __name__ == "__main__":
    main()

"""Shared-state costs on both backends: store round trips, decisions per second, admission accuracy.

The limiter is measured both ways it counts: sliding (GCRA, the default) and in fixed windows
(the baseline: up to twice the limit across a window's edge).

Starts its own moto server and Valkey-backed Upstash endpoint (in this process),
provisions the template's state resources, and measures from child processes
so the client side has a core of its own. Round trips are counted on the wire:
botocore's before-send events for DynamoDB, httpx's Client.send for Upstash.

Usage: python bench/state.py [--decisions 2000] [--json]
"""

from __future__ import annotations

import argparse
import bisect
import json
import logging
import multiprocessing
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from local.layers import put_on_path  # noqa: E402

put_on_path(ROOT)

from bench.processes import collect  # noqa: E402
from bench.smoke import parse_arguments  # noqa: E402
from local.aws import MotoServer  # noqa: E402
from local.stack import LocalStack  # noqa: E402
from local.upstash import UpstashEndpoint  # noqa: E402

VARIABLES = ("STATE_BACKEND", "IDEMPOTENCY_TABLE", "STATE_TABLE", "UPSTASH_SECRET_ARN", "STATE_TIMEOUT_MS")
CONTENDERS = 4
LIMIT = 50  # a second, in the accuracy run
CONTENTION_SECONDS = 5
# No limit binds: a huge sliding limit's burst, or a fixed window's count.
UNBOUND: dict[str, dict[str, Any]] = {"sliding": {"burst": 10**9 - 1}, "fixed": {"fixed": True}}


def _count_round_trips(state: Any) -> list[int]:
    """A counter bumped on every request the backend's client sends (botocore events; httpx for Upstash)."""
    sent = [0]

    def bump(*_: Any, **__: Any) -> None:
        sent[0] += 1

    if state.backend == "dynamodb":
        state.dynamodb.meta.events.register("before-send.dynamodb.*", bump)
    else:  # every httpx request of this process is the Upstash client's: count at the transport, not its internals
        import httpx

        send = httpx.Client.send

        def counted(client: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
            bump()
            return send(client, request, **kwargs)

        httpx.Client.send = counted  # type: ignore[method-assign,assignment]
    return sent


def _naive_incr_expire(client: Any, key: str, limit: int, window: int) -> bool:
    """The original guide's limiter: INCR, then EXPIRE on the first hit (two calls, not atomic)."""
    count = client.execute("INCR", key)
    if count == 1:
        client.execute("EXPIRE", key, window)
    return int(count) <= limit


def _quiet_child(environment: dict[str, str]) -> None:
    """A measuring child's set-up: the backend's environment, and its metric lines discarded."""
    os.environ.update(environment)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (for the child's whole life)


def measure(backend: str, environment: dict[str, str], decisions: int, queue: Any) -> None:
    """Child process: round trips per decision and per closed breaker call, and decisions per second."""
    _quiet_child(environment)
    from seawall.breaker import BreakerConfig
    from seawall.ratelimit import Limit
    from seawall.state import SharedState

    state = SharedState.from_env()
    sent = _count_round_trips(state)
    breaker = state.circuit_breaker("bench", BreakerConfig())
    breaker.call(lambda: None)  # first read of the record
    results: dict[str, float] = {}
    for kind, options in UNBOUND.items():
        limiter = state.rate_limiter(f"bench-{kind}", [Limit("second", 10**9, 1, **options)])
        sent[0] = 0
        started = time.perf_counter()
        for _ in range(decisions):
            limiter.try_acquire("throughput")
        elapsed = time.perf_counter() - started
        results[f"{kind}_round_trips_per_decision"] = sent[0] / decisions
        results[f"{kind}_decisions_per_second"] = decisions / elapsed

    sent[0] = 0
    for _ in range(decisions // 4):
        breaker.call(lambda: None)
    results["breaker_round_trips_per_closed_call"] = sent[0] / (decisions // 4)

    if backend == "upstash":
        client = state.upstash
        sent[0] = 0
        started = time.perf_counter()
        for _ in range(decisions):
            _naive_incr_expire(client, f"naive:{uuid.uuid4().hex[:6]}", 10**9, 1)
        elapsed = time.perf_counter() - started
        results["naive_round_trips_per_decision"] = sent[0] / decisions
        results["naive_decisions_per_second"] = decisions / elapsed
    queue.put(results)


def contend(environment: dict[str, str], scope: str, kind: str, window: tuple[float, float], queue: Any) -> None:
    """Child process: take calls on one key as an action does (waiting a second at most); report when each
    admitted call would leave, the store's turns, and round trips per call."""
    _quiet_child(environment)
    from seawall.errors import ThrottledError
    from seawall.ratelimit import ARRIVAL_ALLOWANCE_SECONDS, Limit
    from seawall.state import SharedState

    state = SharedState.from_env()
    sent = _count_round_trips(state)
    # As the provider clients define a per-second limit: sliding, with the allowance for arrival; or, the
    # baseline, as they used to: fixed one-second windows.
    limit = (
        Limit("second", LIMIT, 1, fixed=True)
        if kind == "fixed"
        else Limit("second", LIMIT, 1 + ARRIVAL_ALLOWANCE_SECONDS)
    )
    limiter = state.rate_limiter(f"bench-{kind}", [limit])
    start_at, end_at = window
    while time.time() < start_at:
        time.sleep(0.001)
    sent[0], calls, left, turns = 0, 0, [], []
    while time.time() < end_at:
        calls += 1
        try:
            decision = limiter.acquire(scope, wait=1.0)
        except ThrottledError:
            continue
        left.append(time.time() * 1000)  # when the caller sends its request
        turns.append(decision.turn * 1000)
    queue.put({"left": left, "turns": turns, "round_trips": sent[0], "calls": calls})


def _most_in_a_second(times: list[float]) -> int:
    """The most of ``times`` (ms) inside any half-open interval of 1,000 ms."""
    ordered = sorted(times)
    return max((bisect.bisect_left(ordered, first + 1000) - index for index, first in enumerate(ordered)), default=0)


def _collect(context: Any, target: Any, args: tuple[Any, ...], count: int) -> list[Any]:
    """Start ``count`` children running ``target`` and take one result from each (bench.processes.collect)."""
    queue = context.Queue()
    children = [context.Process(target=target, args=(*args, queue)) for _ in range(count)]
    for child in children:
        child.start()
    return collect(children, queue, count)


def accuracy(context: Any, environment: dict[str, str], kind: str, seconds: float) -> dict[str, float]:
    """Four processes on one key at LIMIT a second for ``seconds``: the most sent in any sliding second over the
    limit, and more."""
    scope = uuid.uuid4().hex
    start_at = time.time() + 3  # the children's start (spawned interpreters), then all at once
    results = _collect(context, contend, (environment, scope, kind, (start_at, start_at + seconds)), CONTENDERS)
    left = [at for result in results for at in result["left"]]
    figures = {
        f"{kind}_most_in_any_second_over_limit": _most_in_a_second(left) / LIMIT,
        f"{kind}_admitted_over_limit_times_seconds": len(left) / (LIMIT * seconds),
        f"{kind}_most_in_any_second_over_limit_store_clock": _most_in_a_second(
            [at for result in results for at in result["turns"]]
        )
        / LIMIT,
        f"{kind}_round_trips_per_contended_call": sum(r["round_trips"] for r in results)
        / sum(r["calls"] for r in results),
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=CONTENTION_SECONDS, help="each contention run's length")
    parser.add_argument("--json", action="store_true")
    args = parse_arguments(parser, {"decisions": 20, "seconds": 1.0})

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    moto = MotoServer()
    endpoint = moto.start()
    upstash = UpstashEndpoint()
    upstash.start()
    report: dict[str, dict[str, float]] = {}
    try:
        base = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "STAGE": "bench",
            "POWERTOOLS_SERVICE_NAME": "bench",
            "POWERTOOLS_METRICS_NAMESPACE": "Bench",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        }
        context = multiprocessing.get_context("spawn")
        for backend in ("dynamodb", "upstash"):
            stack = LocalStack(
                ROOT / "template.yaml", endpoint, {"StateBackend": backend, "AWS::StackName": f"bench-{backend}"}
            )
            stack.provision({"UpstashSecret": {"url": upstash.url, "token": upstash.token}})
            environment = stack.environment_of(stack.spec("HealthFunction"))
            environment = {**base, **{name: environment[name] for name in VARIABLES if name in environment}}
            (report[backend],) = _collect(context, measure, (backend, environment, args.decisions), 1)
            for kind in UNBOUND:
                report[backend].update(accuracy(context, environment, kind, args.seconds))
    finally:
        upstash.stop()
        moto.stop()

    if args.json:
        print(json.dumps({"decisions": args.decisions, "results": report}, indent=2))
        return
    for backend, figures in report.items():
        print(f"{backend}:")
        for name, value in figures.items():
            print(f"  {name:<40} {value:10.2f}")


if __name__ == "__main__":
    main()

"""Shared-state costs on both backends: store round trips, decisions per second, admission accuracy.

Starts its own moto server and Valkey-backed Upstash endpoint (in this process),
provisions the template's state resources, and measures from child processes
so the client side has a core of its own. Round trips are counted on the wire:
botocore's before-send events for DynamoDB, httpx request hooks for Upstash.

Usage: python bench/state.py [--decisions 2000] [--json]
"""

from __future__ import annotations

import argparse
import collections
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
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "shared")]

from local.aws import MotoServer  # noqa: E402
from local.stack import LocalStack  # noqa: E402
from local.upstash import UpstashEndpoint  # noqa: E402

VARIABLES = ("STATE_BACKEND", "IDEMPOTENCY_TABLE", "STATE_TABLE", "UPSTASH_SECRET_ARN", "STATE_TIMEOUT_MS")
CONTENDERS = 4
LIMIT = 50  # per one-second window, in the accuracy run


def _count_round_trips(state: Any) -> list[int]:
    """A counter that the backend's client bumps on every request it sends."""
    sent = [0]

    def bump(*_: Any, **__: Any) -> None:
        sent[0] += 1

    if state.backend == "dynamodb":
        state.dynamodb.meta.events.register("before-send.dynamodb.*", bump)
    else:
        state.upstash._http._client.event_hooks["request"].append(bump)
    return sent


def _naive_incr_expire(client: Any, key: str, limit: int, window: int) -> bool:
    """The original guide's limiter: INCR, then EXPIRE on the first hit (two calls, not atomic)."""
    count = client.incr(key)
    if count == 1:
        client.expire(key, window)
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
    limiter = state.rate_limiter("bench", [Limit("second", 10**9, 1)])
    breaker = state.circuit_breaker("bench", BreakerConfig())
    breaker.call(lambda: None)  # first read of the record
    results: dict[str, float] = {}

    sent[0] = 0
    started = time.perf_counter()
    for _ in range(decisions):
        limiter.try_acquire("throughput")
    elapsed = time.perf_counter() - started
    results["limiter_round_trips_per_decision"] = sent[0] / decisions
    results["limiter_decisions_per_second"] = decisions / elapsed

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


def contend(environment: dict[str, str], scope: str, start_at: float, queue: Any) -> None:
    """Child process: hammer one limiter key for two seconds; report the windows of admitted calls."""
    _quiet_child(environment)
    from seawall.ratelimit import Limit
    from seawall.state import SharedState

    limiter = SharedState.from_env().rate_limiter("bench", [Limit("second", LIMIT, 1)])
    while time.time() < start_at:
        time.sleep(0.001)
    admitted = []
    while time.time() < start_at + 2:
        decision = limiter.try_acquire(scope)
        if decision.allowed:
            admitted.append(decision.reset)
    queue.put(admitted)


def accuracy(environment: dict[str, str]) -> float:
    """The most any one-second window admitted, over the limit, with four processes contending."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    scope = uuid.uuid4().hex
    start_at = time.time() + 3
    workers = [context.Process(target=contend, args=(environment, scope, start_at, queue)) for _ in range(CONTENDERS)]
    for worker in workers:
        worker.start()
    windows = collections.Counter(window for _ in workers for window in queue.get(timeout=120))
    for worker in workers:
        worker.join()
    return max(windows.values()) / LIMIT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

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
            queue = context.Queue()
            child = context.Process(target=measure, args=(backend, environment, args.decisions, queue))
            child.start()
            report[backend] = queue.get(timeout=600)
            child.join()
            report[backend]["admitted_over_limit_4_processes"] = accuracy(environment)
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

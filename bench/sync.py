"""Stripe reconciliation: how fast 1,000 missed events are recovered, and how well jobs use a shared quota.

The real template's resources in moto and a Stripe sandbox enforcing test
mode's 25 requests a second (429 beyond it, over any sliding second). Each job
runs in a process of its own, as each Lambda container does, with the
function's own settings: its quota is ``SyncQuotaShare`` (0.5) of Stripe's 25
requests a second, the rest left to the API actions.

- recovery: 1,000 events no webhook delivered; StripeReconcileFunction itself
  (a container, invoked as the schedule invokes it) runs until caught up,
  queuing every event on StripeEventsQueue (moto's SQS, slower than AWS's).
- goodput: three jobs walking the same events at once, in three processes,
  sharing the one quota, each page counted instead of queued so that the
  pacing is what is measured, not moto's SQS: requests per second over the
  quota, from the first lease taken to the last released, and 429s. For each
  state backend and each share, with the limiter counting over any sliding
  second (GCRA, as it does) and, as the baseline in the same run, in fixed
  one-second windows (as it used to).
- baseline, in the same run: the same three walks with no shared limiter, as
  a naive loop makes them (429s retried after a pause).

Usage: python bench/sync.py [--events 3000] [--recovered 1000] [--shares 0.5,1.0] [--backends dynamodb,upstash]
[--json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import math
import multiprocessing
import os
import sys
import time
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from local.layers import put_on_path  # noqa: E402

put_on_path(ROOT)

from bench.processes import collect  # noqa: E402
from bench.smoke import parse_arguments  # noqa: E402
from local.aws import MotoServer  # noqa: E402
from local.runtime import Invocation  # noqa: E402
from local.sandboxes.stripe import StripeSandbox  # noqa: E402
from local.secrets import ensure_secrets_file  # noqa: E402
from local.stack import LocalStack  # noqa: E402
from local.template import Template  # noqa: E402
from local.upstash import UpstashEndpoint  # noqa: E402

STRIPE_RATE = 25  # Stripe's test mode, requests a second
JOBS = 3


def _job(
    environment: dict[str, str], name: str, quota: int, *, paced: bool, fixed: bool, start: Event, results: Any
) -> None:
    """One process, as one Lambda container: walk every event once ``start`` is set; put what each run did."""
    os.environ.update(environment)
    sys.path[:0] = [str(ROOT)]
    put_on_path(ROOT)
    with contextlib.redirect_stdout(io.StringIO()):  # the layer's logs and metrics
        from seawall.config import load_settings
        from seawall.errors import IntegrationError, ThrottledError
        from seawall.providers.stripe.client import StripeGateway
        from seawall.providers.stripe.reconcile import EventReconciler
        from seawall.providers.stripe.settings import StripeSettings
        from seawall.ratelimit import Limit
        from seawall.state import SharedState
        from seawall.sync import Position
        from seawall.webhooks import WebhookInbox

        state = SharedState.from_env()
        inbox = WebhookInbox.from_env("stripe", "STRIPE_EVENTS_QUEUE_URL")
        if paced:
            stripe = StripeGateway(state, wait_for_rate_limit=True)
            if fixed:  # the baseline: the limiter as it was, Stripe's rate counted in fixed one-second windows
                stripe.call.limiter = state.rate_limiter("stripe", [Limit("second", STRIPE_RATE, 1, fixed=True)])
        else:  # the naive loop: no limiter at all
            unlimited = load_settings(StripeSettings, {**os.environ, "STRIPE_REQUESTS_PER_SECOND": "100000"})
            stripe = StripeGateway(state, unlimited)
        reconciler = EventReconciler(stripe, inbox, lookback_seconds=86_400)
        job = state.sync_job(
            name,
            pacing=state.rate_limiter("bench-sync", [Limit("second", quota, 1, fixed=fixed)]),
            quota_per_second=quota,
            quota_scope="shared",
        )
        start.wait()
        if not paced:
            began, requests, position = time.time(), 0, Position()
            while True:
                requests += 1
                try:
                    page = reconciler.new_events(position)
                except (IntegrationError, ThrottledError):
                    time.sleep(0.05)
                    continue
                position = page.position
                if not page.has_more:
                    break
            results.put([{"outcome": "caught-up", "requests": requests, "held_from": began, "held_until": time.time()}])
            return
        reports = []
        while True:
            try:
                report = job.run(reconciler.new_events, lambda items: None)
            except Exception as error:  # noqa: BLE001 (reported with the figures, not lost with the process)
                reports.append({"outcome": type(error).__name__, "requests": 0, "held_from": None, "held_until": None})
                break
            reports.append(
                {
                    "outcome": report.outcome,
                    "requests": report.requests,
                    "records": report.records,
                    "held_from": report.held_from,
                    "held_until": report.held_until,
                }
            )
            if report.outcome == "caught-up":
                break
        results.put(reports)


def _walks(environment: dict[str, str], prefix: str, quota: int, *, paced: bool, fixed: bool) -> list[dict[str, Any]]:
    """Three jobs at once, each in its own process, started together once all three are ready."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    processes = [
        context.Process(
            target=_job,
            args=(environment, f"{prefix}-{index}", quota),
            kwargs={"paced": paced, "fixed": fixed, "start": start, "results": results},
        )
        for index in range(JOBS)
    ]
    for process in processes:
        process.start()
    time.sleep(5)  # the three imports and clients
    start.set()
    return [run for batch in collect(processes, results, JOBS) for run in batch]


def _summary(runs: list[dict[str, Any]], quota: int, throttled: int) -> dict[str, Any]:
    held = [run for run in runs if run["held_from"] is not None]
    seconds = max(run["held_until"] for run in held) - min(run["held_from"] for run in held)
    requests = sum(run["requests"] for run in runs)
    return {
        "seconds": round(seconds, 2),
        "runs": len(runs),
        "outcomes": sorted({run["outcome"] for run in runs}),
        "requests": requests,
        "requests_per_second": round(requests / seconds, 2),
        "goodput": round((requests - throttled) / seconds / quota, 3),
        "sandbox_429": throttled,
    }


def _recover(stack: LocalStack) -> dict[str, Any]:
    """StripeReconcileFunction, invoked until caught up, as its schedule would invoke it."""
    function = stack.function("StripeReconcileFunction", max_containers=1)
    invocations: list[Invocation] = []
    while not invocations or invocations[-1].payload["outcome"] != "caught-up":
        invocation = function.run({"mode": "events"})
        if invocation.error is not None:
            raise RuntimeError(invocation.error)
        invocations.append(invocation)
    function.stop()
    payloads = [invocation.payload for invocation in invocations]
    return {
        "seconds": round(sum(invocation.duration_ms for invocation in invocations) / 1000, 2),
        "init_seconds": round((invocations[0].init_ms or 0) / 1000, 2),
        "runs": len(payloads),
        "requests": sum(payload["requests"] for payload in payloads),
        "events": sum(payload["records"] for payload in payloads),
    }


def _stack(endpoint: str, backend: str, share: float, sandbox: StripeSandbox, upstash: UpstashEndpoint) -> LocalStack:
    """The template's resources for ``backend``, the reconcile function's settings at ``share``."""
    return LocalStack(
        ROOT / "template.yaml",
        endpoint,
        {"AWS::StackName": f"bench-sync-{backend}-{round(share * 100)}", "StateBackend": backend},
        {
            "STRIPE_API_BASE": sandbox.url,
            "STRIPE_REQUESTS_PER_SECOND": str(STRIPE_RATE),
            "SYNC_QUOTA_SHARE": str(share),
            "STRIPE_RECONCILE_LOOKBACK_DAYS": "1",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        },
    )


def _three_jobs(
    results: dict[str, Any], environment: dict[str, str], sandbox: StripeSandbox, backend: str, share: float
) -> None:
    """Three jobs on one quota, sliding then fixed (and, the first time, the naive walks), into ``results``."""
    quota = max(1, math.floor(STRIPE_RATE * share))
    kinds = [("sliding", True, False), ("fixed", True, True)]
    if "baseline_naive" not in results:
        kinds.append(("naive", False, False))
    for counting, paced, fixed in kinds:
        time.sleep(1.1)  # the sandbox's sliding second clears
        throttled = sandbox.throttled
        runs = _walks(environment, f"{backend}-{share}-{counting}", quota, paced=paced, fixed=fixed)
        summary = _summary(runs, quota, sandbox.throttled - throttled)
        summary["of_stripe_rate"] = round(summary["requests_per_second"] / STRIPE_RATE, 3)
        if counting == "naive":
            results["baseline_naive"] = {"backend": backend, **summary}
        else:
            results["runs"].append(
                {"backend": backend, "share": share, "quota": quota, "counting": counting, **summary}
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000, help="events the three jobs walk")
    parser.add_argument("--recovered", type=int, default=1000, help="of them, those the recovery run queues")
    parser.add_argument("--shares", default="0.5,1.0", help="SyncQuotaShare values: the jobs' share of Stripe's rate")
    parser.add_argument("--backends", default="dynamodb,upstash")
    parser.add_argument("--json", action="store_true")
    args = parse_arguments(parser, {"events": 300, "recovered": 30, "shares": "1.0", "backends": "dynamodb"})

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's access log
    moto = MotoServer()
    endpoint = moto.start()
    upstash = UpstashEndpoint()
    upstash.start()
    names = list(Template(ROOT / "template.yaml").of_type("AWS::SecretsManager::Secret"))
    secrets = ensure_secrets_file(ROOT / ".local" / "bench-secrets.json", names)
    secrets["UpstashSecret"] = {"url": upstash.url, "token": upstash.token}
    sandbox = StripeSandbox({secrets["StripeSecret"]["api_key"]})
    sandbox.start()
    sandbox.make_customers(min(args.recovered, args.events))
    sandbox.configure_faults({"requests_per_second": STRIPE_RATE})
    results: dict[str, Any] = {"events": args.events, "stripe_rate": STRIPE_RATE, "runs": []}
    stacks = []
    try:
        for backend in args.backends.split(","):
            for share in (float(value) for value in args.shares.split(",")):
                stack = _stack(endpoint, backend, share, sandbox, upstash)
                stacks.append(stack)
                stack.provision(secrets, moto.iam)
                environment = stack.environment_of(stack.spec("StripeReconcileFunction"))
                if "recovery" not in results:
                    with contextlib.redirect_stdout(io.StringIO()):  # the runtime's notes
                        results["recovery"] = {"backend": backend, "share": share, **_recover(stack)}
                    sandbox.make_customers(max(0, args.events - args.recovered))  # the rest, for the walks
                _three_jobs(results, environment, sandbox, backend, share)
    finally:
        sandbox.stop()
        for stack in stacks:
            stack.stop()
        upstash.stop()
        moto.stop()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        _print(results)


def _print(results: dict[str, Any]) -> None:
    """The figures as a reader wants them."""
    print(
        f"{results['events']} events; Stripe's {STRIPE_RATE} requests/s"
        " (the sandbox answers 429 over any sliding second)"
    )
    recovery = results["recovery"]
    print(
        f"  Recovering them all, StripeReconcileFunction ({recovery['backend']}, share {recovery['share']}):"
        f" {recovery['seconds']} s in {recovery['runs']} run(s) (init {recovery['init_seconds']} s),"
        f" {recovery['requests']} requests, {recovery['events']} events queued"
    )
    print("  Three jobs at once on one quota:")
    for run in results["runs"]:
        print(
            f"    {run['backend']:<8} share {run['share']:<4} ({run['quota']}/s) {run['counting']:<7}"
            f" {run['seconds']:6.2f} s, {run['requests']} requests ({run['requests_per_second']}/s):"
            f" {run['goodput']} of the quota, {run['of_stripe_rate']} of Stripe's rate, {run['sandbox_429']} 429s"
        )
    naive = results["baseline_naive"]
    print(
        f"  Baseline, the same three walks with no limiter: {naive['requests_per_second']}/s"
        f" ({naive['of_stripe_rate']} of Stripe's rate), {naive['sandbox_429']} 429s"
    )


if __name__ == "__main__":
    main()

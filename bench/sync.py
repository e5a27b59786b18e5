"""Stripe reconciliation: how fast 1,000 missed events are recovered, and how well jobs use a shared quota.

The real template's resources in moto, a Stripe sandbox enforcing test mode's
25 requests a second (answering 429 beyond it), and the layer's reconciler as
StripeReconcileFunction builds it, run in this process (the pacing, leases and
checkpoints are what is measured; the processor's own pace is bench/webhooks.py's).

- recovery: 1,000 events no webhook delivered; one job runs until caught up,
  queuing every event on StripeEventsQueue (moto's SQS, slower than AWS's).
- goodput: three jobs walking the same events at once, sharing one quota (the
  sandbox's 25 a second), each page counted instead of queued so that the
  pacing, not moto's SQS, is what is measured: requests per second over the
  quota, and 429s.
- baseline, in the same run: the same three walks with no shared limiter and
  no lease, as a naive loop would make them.

Usage: python bench/sync.py [--events 1000] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "shared")]

from local.aws import MotoServer  # noqa: E402
from local.sandboxes.stripe import StripeSandbox  # noqa: E402
from local.secrets import ensure_secrets_file  # noqa: E402
from local.stack import LocalStack  # noqa: E402
from local.template import Template  # noqa: E402

QUOTA = 25  # Stripe's test mode, requests a second


def _environment(stack: LocalStack, sandbox: StripeSandbox) -> None:
    environment = stack.environment_of(stack.spec("StripeReconcileFunction"))
    environment.update(STRIPE_API_BASE=sandbox.url, STRIPE_REQUESTS_PER_SECOND=str(QUOTA), POWERTOOLS_LOG_LEVEL="ERROR")
    os.environ.update(environment)


def _walk(jobs: list[Any], fetch: Any, apply: Any) -> tuple[float, list[Any]]:
    """Run each job until it is caught up, all at once; the wall time and every run's report (or error)."""
    reports: list[Any] = []
    lock = threading.Lock()

    def until_caught_up(job: Any) -> None:
        while True:
            try:
                report = job.run(fetch, apply)
            except Exception as error:  # noqa: BLE001 (reported, not hidden in a dead thread)
                with lock:
                    reports.append(error)
                return
            with lock:
                reports.append(report)
            if report.outcome == "caught-up":
                return

    started = time.perf_counter()
    threads = [threading.Thread(target=until_caught_up, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, reports


def _naive(fetch: Any, walks: int) -> tuple[float, int]:
    """The same walks with no shared limiter and no lease: pages as fast as they come (429s retried)."""
    from seawall.errors import IntegrationError, ThrottledError
    from seawall.sync import Position

    requests = 0
    lock = threading.Lock()

    def walk() -> None:
        nonlocal requests
        position = Position()
        while True:
            try:
                page = fetch(position)
            except (IntegrationError, ThrottledError):
                time.sleep(0.05)
                continue
            finally:
                with lock:
                    requests += 1
            position = page.position
            if not page.has_more:
                return

    started = time.perf_counter()
    threads = [threading.Thread(target=walk) for _ in range(walks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, requests


def _measure(sandbox: StripeSandbox) -> dict[str, Any]:
    """The three measurements, in this order, each in a fresh second of the sandbox's window."""
    from seawall.config import load_settings
    from seawall.providers.stripe._settings import StripeSettings
    from seawall.providers.stripe.client import StripeGateway
    from seawall.providers.stripe.reconcile import EventReconciler
    from seawall.ratelimit import Limit
    from seawall.state import SharedState
    from seawall.webhooks import WebhookInbox

    state = SharedState.from_env()
    inbox = WebhookInbox.from_env("stripe", "STRIPE_EVENTS_QUEUE_URL")
    reconciler = EventReconciler(StripeGateway(state, wait_for_rate_limit=True), inbox, lookback_seconds=86_400)
    pacing = state.rate_limiter("bench-sync", [Limit("second", QUOTA, 1)])

    def jobs(prefix: str, count: int) -> list[Any]:
        return [
            state.sync_job(f"{prefix}-{index}", pacing=pacing, quota_per_second=QUOTA, quota_scope="shared")
            for index in range(count)
        ]

    def counted(items: Any) -> None:
        """Apply by counting: the pacing is measured, not moto's SQS."""

    results: dict[str, Any] = {}
    for name, prefix, count, apply in (
        ("recovery", "recovery", 1, reconciler.queue),
        ("three_jobs_one_quota", "shared", 3, counted),
    ):
        time.sleep(1.1)
        throttled = sandbox.throttled
        seconds, outcomes = _walk(jobs(prefix, count), reconciler.new_events, apply)
        reports = [report for report in outcomes if not isinstance(report, Exception)]
        requests = sum(report.requests for report in reports)
        results[name] = {
            "seconds": round(seconds, 2),
            "runs": len(reports),
            "errors": [type(error).__name__ for error in outcomes if isinstance(error, Exception)],
            "requests": requests,
            "events": sum(report.records for report in reports),
            "goodput": round(requests / seconds / QUOTA, 3),
            "sandbox_429": sandbox.throttled - throttled,
        }
    time.sleep(1.1)
    throttled = sandbox.throttled
    unlimited = load_settings(StripeSettings, {**os.environ, "STRIPE_REQUESTS_PER_SECOND": "100000"})
    naive_seconds, naive_requests = _naive(
        EventReconciler(StripeGateway(state, unlimited), inbox, lookback_seconds=86_400).new_events, 3
    )
    naive_429 = sandbox.throttled - throttled
    results["baseline_naive_three_walks"] = {
        "seconds": round(naive_seconds, 2),
        "requests": naive_requests,
        "goodput": round((naive_requests - naive_429) / naive_seconds / QUOTA, 3),
        "sandbox_429": naive_429,
    }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's access log
    moto = MotoServer()
    endpoint = moto.start()
    names = list(Template(ROOT / "template.yaml").of_type("AWS::SecretsManager::Secret"))
    secrets = ensure_secrets_file(ROOT / ".local" / "bench-secrets.json", names)
    sandbox = StripeSandbox({secrets["StripeSecret"]["api_key"]})
    sandbox.start()
    stack = LocalStack(ROOT / "template.yaml", endpoint, {"AWS::StackName": "bench-sync"})
    stack.provision(secrets, moto.iam)
    _environment(stack, sandbox)
    sandbox.make_customers(args.events)
    sandbox.configure_faults({"requests_per_second": QUOTA})
    with contextlib.redirect_stdout(io.StringIO()):  # the layer's logs and metrics
        results = {"events": args.events, "quota_per_second": QUOTA, **_measure(sandbox)}
    sandbox.stop()
    stack.stop()
    moto.stop()
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{args.events} events, a quota of {QUOTA} requests/s (the sandbox answers 429 beyond it):")
    for name, label in (
        ("recovery", "Recovering them all, one job"),
        ("three_jobs_one_quota", "Three jobs at once, one quota"),
        ("baseline_naive_three_walks", "Baseline: the same three walks, no limiter"),
    ):
        result = results[name]
        print(
            f"  {label}: {result['seconds']} s, {result['requests']} requests, goodput {result['goodput']},"
            f" {result['sandbox_429']} 429s"
        )


if __name__ == "__main__":
    main()

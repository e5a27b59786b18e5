"""Warm latency of each Stripe action against the sandbox, beside bare stripe SDK calls in the same run.

The functions run on the real template in the local runtime (each in a warm
container of its own; moto for AWS; state on DynamoDB in moto, or Upstash over
Valkey with --backend upstash), invoked with API Gateway events as the gateway
builds them; the bare SDK calls go to the same sandbox. The ratio is the layer's overhead: validation, idempotency,
breaker, limiter, retry, logging and metrics.

Usage: python bench/actions.py [--calls 200] [--backend dynamodb|upstash] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from local.layers import put_on_path  # noqa: E402

put_on_path(ROOT)

import stripe  # noqa: E402

from bench.harness import local_aws, stripe_sandbox  # noqa: E402
from bench.smoke import parse_arguments  # noqa: E402
from local.stack import LocalStack  # noqa: E402
from local.upstash import UpstashEndpoint  # noqa: E402

SAMPLE = json.loads((ROOT / "events" / "stripe" / "customers_create" / "post.json").read_text())


def api_event(method: str, path: str, resource: str, body: Any = None, parameters: dict[str, str] | None = None) -> Any:
    """An API Gateway event for an action, as the gateway builds it: a fresh Idempotency-Key and request id."""
    event = json.loads(json.dumps(SAMPLE))
    event.update(httpMethod=method, path=path, resource=resource, pathParameters=parameters)
    event["body"] = None if body is None else json.dumps(body)
    event["headers"]["Idempotency-Key"] = str(uuid.uuid4())
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    return event


def _timed(call: Callable[[], Any], count: int) -> list[float]:
    call()  # warm: the cold start is bench/coldstart.py's business
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--backend", choices=["dynamodb", "upstash"], default="dynamodb")
    parser.add_argument("--json", action="store_true")
    args = parse_arguments(parser, {"calls": 3})
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    with contextlib.ExitStack() as running:
        moto, endpoint, secrets = local_aws(running, ["StripeSecret"])
        key = secrets["StripeSecret"]["api_key"]
        sandbox = stripe_sandbox(running, secrets)
        upstash = UpstashEndpoint()
        upstash.start()
        running.callback(upstash.stop)
        secrets["UpstashSecret"] = {"url": upstash.url, "token": upstash.token}
        environment = {"STRIPE_API_BASE": sandbox.url, "STRIPE_REQUESTS_PER_SECOND": "100000"}
        environment["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        stack = LocalStack(ROOT / "template.yaml", endpoint, {"StateBackend": args.backend}, environment)
        stack.provision(secrets, moto.iam)
        running.callback(stack.stop)

        create = stack.function("CustomersCreateFunction")
        get = stack.function("CustomersGetFunction")
        pay = stack.function("PaymentIntentsCreateFunction")
        running.enter_context(contextlib.redirect_stdout(io.StringIO()))  # the functions' metric lines
        customer = json.loads(create.invoke(api_event("POST", "/customers", "/customers", {"name": "bench"}))["body"])
        bare = stripe.StripeClient(
            key, base_addresses={"api": sandbox.url}, http_client=stripe.HTTPXClient(allow_sync_methods=True)
        )
        cases = {
            "POST /customers": (
                lambda: create.invoke(api_event("POST", "/customers", "/customers", {"email": "b@example.com"})),
                lambda: bare.v1.customers.create(
                    params={"email": "b@example.com"}, options={"idempotency_key": str(uuid.uuid4())}
                ),
            ),
            "GET /customers/{id}": (
                lambda: get.invoke(
                    api_event(
                        "GET",
                        f"/customers/{customer['id']}",
                        "/customers/{customer_id}",
                        None,
                        {"customer_id": customer["id"]},
                    )
                ),
                lambda: bare.v1.customers.retrieve(customer["id"]),
            ),
            "POST /payment-intents": (
                lambda: pay.invoke(
                    api_event("POST", "/payment-intents", "/payment-intents", {"amount": 1099, "currency": "eur"})
                ),
                lambda: bare.v1.payment_intents.create(
                    params={"amount": 1099, "currency": "eur"}, options={"idempotency_key": str(uuid.uuid4())}
                ),
            ),
        }
        report: dict[str, Any] = {}
        for name, (action, sdk) in cases.items():
            ours, theirs = _summary(_timed(action, args.calls)), _summary(_timed(sdk, args.calls))
            report[name] = {
                "action": ours,
                "bare_sdk": theirs,
                "overhead_p50_ratio": round(ours["p50_ms"] / theirs["p50_ms"], 2),
            }

    if args.json:
        print(json.dumps({"backend": args.backend, "calls": args.calls, "results": report}, indent=2))
        return
    print(f"Warm latency, {args.calls} calls each, state on {args.backend}")
    print(f"{'action':<24}{'p50 ms':>9}{'p99 ms':>9}{'SDK p50':>9}{'SDK p99':>9}{'ratio':>7}")
    for name, row in report.items():
        a, b = row["action"], row["bare_sdk"]
        print(
            f"{name:<24}{a['p50_ms']:>9}{a['p99_ms']:>9}{b['p50_ms']:>9}{b['p99_ms']:>9}{row['overhead_p50_ratio']:>7}"
        )


if __name__ == "__main__":
    main()

"""Invoke one function with one event file against the running local stack, as `sam local invoke -e`.

Usage: python -m local.invoke FUNCTION -e events/FILE.json [--timeout SECONDS]
The handler runs in a fresh container (a process of its own: a cold start),
as `sam local invoke` runs it. Its logs go to stderr; its response is printed
on stdout (an error as Lambda reports it, with exit status 1). Its metrics join
the running stack's (its local dashboard counts every invocation, as CloudWatch
does, however it was made).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import httpx

from local.replay import replay
from local.runtime import Invocation
from local.stack import LocalStack
from local.state import SECRETS_FILE, running_stack


def run_once(
    stack: LocalStack, state: dict[str, Any], function: str, event: Any, *, timeout: float | None = None
) -> Invocation:
    """``function`` run once in a fresh container, its metrics sent to the running stack's dashboard.

    Raises KeyError for a function the template does not have.
    """
    local = stack.function(function, max_containers=1, timeout=timeout)
    try:
        invocation = local.run(event)
    finally:
        local.stop()
    try:
        httpx.post(f"{state['gateway']}/_local/metrics", json=stack.metrics.as_json(), timeout=10).raise_for_status()
    except (KeyError, httpx.HTTPError) as error:  # the stack stopped meanwhile: the run itself stands
        print(f"(the local dashboard did not get this run's metrics: {error!r})", file=sys.stderr)
    return invocation


def main(argv: list[str] | None = None) -> int:
    """Run the function and print its response."""
    parser = argparse.ArgumentParser(prog="python -m local.invoke", description=__doc__)
    parser.add_argument(
        "function",
        help="its logical id, e.g. HealthFunction, or with its provider's stack: Stripe/CustomersGetFunction",
    )
    parser.add_argument("-e", "--event", type=Path, required=True, help="event file, e.g. events/health/get.json")
    parser.add_argument(
        "--timeout",
        type=float,
        help="the function's timeout for this invocation, in seconds, instead of the template's"
        " (a short deadline, to see how a run ends when time runs out)",
    )
    args = parser.parse_args(argv)

    state = running_stack()
    if state is None:
        print("The local stack is not running: start it with `make run` in another terminal.", file=sys.stderr)
        return 1
    stack = LocalStack(
        Path(state["template"]), state["aws_endpoint"], state.get("parameters"), state.get("environment")
    )
    stack.adopt(state["resources"])
    try:
        stack.spec(args.function)
    except KeyError as error:
        print(error.args[0], file=sys.stderr)
        return 2
    event = json.loads(args.event.read_text())
    signed = replay(event, json.loads(SECRETS_FILE.read_text()))
    if signed is not event:
        print("Sent as of now: webhook signatures made with the local secrets, stay dates moved.", file=sys.stderr)
    with contextlib.redirect_stdout(sys.stderr):  # the function's logs; stdout carries only its answer
        invocation = run_once(stack, state, args.function, signed, timeout=args.timeout)
    if invocation.error is not None:
        print(json.dumps(invocation.error, indent=2))
        return 1
    print(json.dumps(invocation.payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

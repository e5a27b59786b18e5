"""Invoke one function with one event file against the running local stack, as `sam local invoke -e`.

Usage: python -m local.invoke FUNCTION -e events/FILE.json [--timeout SECONDS]
The handler runs in a fresh container (a process of its own: a cold start),
as `sam local invoke` runs it. Its logs go to stderr; its response is printed
on stdout (an error as Lambda reports it, with exit status 1).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from local.replay import replay
from local.stack import LocalStack
from local.state import SECRETS_FILE, running_stack


def main(argv: list[str] | None = None) -> int:
    """Run the function and print its response."""
    parser = argparse.ArgumentParser(prog="python -m local.invoke", description=__doc__)
    parser.add_argument("function", help="logical id in template.yaml, e.g. HealthFunction")
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
        function = stack.function(args.function, max_containers=1, timeout=args.timeout)
    except KeyError as error:
        print(error.args[0], file=sys.stderr)
        return 2
    event = json.loads(args.event.read_text())
    signed = replay(event, json.loads(SECRETS_FILE.read_text()))
    if signed is not event:
        print("Sent as of now: webhook signatures made with the local secrets, stay dates moved.", file=sys.stderr)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # the function's logs; stdout carries only its answer
            invocation = function.run(signed)
    finally:
        function.stop()
    if invocation.error is not None:
        print(json.dumps(invocation.error, indent=2))
        return 1
    print(json.dumps(invocation.payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The command line: commands, their arguments, and the options every one takes (before or after its name)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence

from ops import breakers, limits, peek, queues, redrive, replay, sync
from ops.output import Output
from ops.target import Target

Command = Callable[[Target, argparse.Namespace], Output]

EPILOG = """\
Without --stack (or OPS_STACK) it works on the running `make run` (LOCAL_STATE_DIR moves its state).
Commands that change something refuse without --yes and say what they would do (exit status 2).
Runbooks: docs/runbooks/."""


def _at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number, ``minimum`` or more (argparse's own error otherwise)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more")
        return value

    return parse


def _common() -> argparse.ArgumentParser:
    """The options every command takes, on either side of its name (absent ones are left unset, not defaulted)."""
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--stack", help="a deployed stack's name (or OPS_STACK); without it, the local stack")
    common.add_argument("--region", help="the stack's region (or the SDK's: AWS_DEFAULT_REGION, the profile's)")
    common.add_argument("--profile", help="the AWS profile to call with (or AWS_PROFILE)")
    common.add_argument("--json", action="store_true", help="print JSON instead of a table")
    common.add_argument(
        "--verbose", action="store_true", help="also show what the layer and the functions print (logs, metrics)"
    )
    return common


def parser() -> argparse.ArgumentParser:
    """``python -m ops``'s arguments."""
    common = _common()
    main = argparse.ArgumentParser(
        prog="python -m ops",
        description="The on-call command: queues, breakers, limits, sync jobs and replays, on a stack.",
        epilog=EPILOG,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, run: Command, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub.set_defaults(run=run)
        return sub

    def confirmation(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--yes", action="store_true", help="do it (without: say what it would do, exit status 2)")

    command("queues", queues.list_queues, "every queue: depth, oldest message, its dead-letter queue and its depth")

    looked = command("peek", peek.peek, "a queue's messages, without taking them (redacted, shortened)")
    looked.add_argument("queue", help="the queue's logical id, e.g. StripeEventsDeadLetterQueue")
    looked.add_argument("--max", type=_at_least(1), default=10, help="at most this many messages (10)")
    looked.add_argument("--body-chars", type=_at_least(0), default=500, help="show this much of each body (500)")

    moved = command("redrive", redrive.redrive, "a dead-letter queue's messages back to the queue they failed in")
    moved.add_argument("queue", help="the dead-letter queue's logical id, e.g. StripeEventsDeadLetterQueue")
    confirmation(moved)

    breaker = command("breakers", breakers.list_breakers, "each provider's circuit breaker; `close` forces one closed")
    actions = breaker.add_subparsers(dest="action", metavar="ACTION")
    closing = actions.add_parser(
        "close", parents=[common], help="close a provider's breaker fleet-wide", description="close a breaker"
    )
    closing.set_defaults(run=breakers.close)
    closing.add_argument("provider", help="the provider, e.g. stripe")
    confirmation(closing)

    command("limits", limits.list_limits, "each provider's rate-limit usage in the current windows")

    job = command("sync", sync.list_jobs, "each sync job's cursor, lease, last run and lag; `run` runs one now")
    job_actions = job.add_subparsers(dest="action", metavar="ACTION")
    running = job_actions.add_parser(
        "run", parents=[common], help="invoke a job's function now", description="invoke a job's function now"
    )
    running.set_defaults(run=sync.run)
    running.add_argument("job", help="a job (stripe-events) or a scheduled function (HotelBookingsResolveFunction)")
    confirmation(running)

    replayed = command("replay", replay.replay, "send a provider's events through the pipeline again")
    replayed.add_argument("provider", choices=["stripe"])
    which = replayed.add_mutually_exclusive_group(required=True)
    which.add_argument("--event", action="append", metavar="ID", help="an event id (again for more)")
    which.add_argument("--since", metavar="ISO8601", help="every event created since then (Stripe keeps 30 days)")
    confirmation(replayed)
    return main


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The arguments, with the common options' defaults filled in (OPS_STACK names the stack)."""
    args = parser().parse_args(argv)
    defaults = {
        "stack": os.environ.get("OPS_STACK") or None,
        "region": None,
        "profile": None,
        "json": False,
        "verbose": False,
    }
    for name, value in defaults.items():
        if not hasattr(args, name):
            setattr(args, name, value)
    return args

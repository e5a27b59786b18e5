"""`make run`: the bundle locally, on moto server, Valkey, provider sandboxes and a gateway on port 3000.

moto server stands in for AWS with the template's resources, Valkey behind an
Upstash REST endpoint for Upstash, a sandbox for each provider in local/sandboxes (Stripe, Hotelbeds, ...),
and the gateway for API Gateway. Ctrl-C (or SIGTERM) stops everything it started.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from local.aws import MotoServer
from local.eventsource import pollers
from local.gateway import Gateway
from local.httpserver import ServedOnThread
from local.runtime import DEFAULT_MAX_CONTAINERS, FunctionError
from local.sandboxes import local_providers
from local.scheduler import Scheduler
from local.secrets import ensure_secrets_file
from local.stack import LocalStack
from local.state import ROOT, SECRETS_FILE, STATE_FILE, clear_state, running_stack, write_state
from local.template import Template
from local.upstash import UpstashEndpoint

PROVIDERS = local_providers()
PORTS = {  # option: (environment variable, default)
    "port": ("LOCAL_GATEWAY_PORT", 3000),
    "aws_port": ("LOCAL_AWS_PORT", 5050),
    "upstash_port": ("LOCAL_UPSTASH_PORT", 8079),
    **{f"{p.name}_port": (f"LOCAL_{p.name.upper()}_PORT", p.default_port) for p in PROVIDERS},
}
# Locally the Hotelbeds key is a production-sized one: the template's default is an evaluation key's 50 a day.
LOCAL_PARAMETERS = {"HotelbedsDailyQuota": "10000"}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    for option, (variable, default) in PORTS.items():
        flag = "--" + option.replace("_", "-")
        parser.add_argument(flag, type=int, default=int(os.environ.get(variable, default)), help=f"or {variable}")
    parser.add_argument(
        "--parameter-overrides",
        nargs="*",
        default=os.environ.get("LOCAL_PARAMETERS", "").split(),
        metavar="NAME=VALUE",
        help="template parameters, as sam deploy takes them (e.g. StateBackend=upstash); or LOCAL_PARAMETERS",
    )
    parser.add_argument(
        "--schedule-speedup",
        type=float,
        default=float(os.environ.get("LOCAL_SCHEDULE_SPEEDUP", "1")),
        help="run the template's schedules this many times faster (60: a 15-minute rate every 15 s);"
        " or LOCAL_SCHEDULE_SPEEDUP",
    )
    return parser.parse_args(argv)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _why_not(args: argparse.Namespace) -> str | None:
    """Why the stack cannot start now, in words for the terminal; ``None`` when it can."""
    running = running_stack()
    if running is not None:
        return (
            f"The local stack is already running (pid {running['pid']}): gateway {running['gateway']}, "
            f"AWS {running['aws_endpoint']}. Stop it with Ctrl-C in its terminal or `kill {running['pid']}`."
        )
    for option, (variable, _) in PORTS.items():
        port = getattr(args, option)
        if not _port_free(port):
            return f"Port {port} on 127.0.0.1 is taken by another program; set {variable} to use another."
    return None


def _sandboxes(
    args: argparse.Namespace, template: Template, secret_values: dict[str, Any], started: contextlib.ExitStack
) -> dict[str, ServedOnThread]:
    """Each local provider's sandbox by name, accepting the local secrets, started (and stopped with the stack)."""
    sandboxes = {}
    for provider in PROVIDERS:
        sandbox = provider.start(secret_values, template.parameters, getattr(args, f"{provider.name}_port"))
        started.callback(sandbox.stop)
        sandboxes[provider.name] = sandbox
    return sandboxes


# The booking the sample events under events/hotelbeds/ name (as the Stripe sandbox starts with the
# customer its sample events name): made through the API's function at start, then booked by the worker.
SAMPLE_BOOKING = ROOT / "events" / "hotelbeds" / "hotel_bookings_create" / "post.json"


def _sample_booking(stack: LocalStack) -> None:
    if "HotelBookingsCreateFunction" not in {spec.name for spec in stack.template.functions()}:
        return
    try:
        stack.function("HotelBookingsCreateFunction").invoke(json.loads(SAMPLE_BOOKING.read_text()))
    except FunctionError as error:
        print(f"[samples] the sample booking was not made: {error}", flush=True)


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Start the local stack and serve until interrupted."""
    args = _arguments(argv)
    overrides = LOCAL_PARAMETERS | dict(item.split("=", 1) for item in args.parameter_overrides)
    refusal = _why_not(args)
    if refusal:
        print(refusal, file=sys.stderr)
        return 1
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's access log would drown the handlers' logs
    with contextlib.ExitStack() as started:
        try:
            moto = MotoServer(args.aws_port)
            endpoint = moto.start()
            started.callback(moto.stop)
            template = Template(args.template, overrides)
            # A sandbox needs its secrets even when the template does not declare them.
            secret_names = [
                *template.of_type("AWS::SecretsManager::Secret"),
                *(name for provider in PROVIDERS for name in provider.secrets),
                "UpstashSecret",
            ]
            secret_values = ensure_secrets_file(SECRETS_FILE, secret_names)
            sandboxes = _sandboxes(args, template, secret_values, started)
            environment = {
                name: value
                for provider in PROVIDERS
                for name, value in provider.environment(sandboxes[provider.name]).items()
            }
            upstash = UpstashEndpoint(args.upstash_port, token=secret_values["UpstashSecret"]["token"])
            secret_values["UpstashSecret"]["url"] = upstash.start()
            started.callback(upstash.stop)
            stack = LocalStack(args.template, endpoint, overrides, environment)
            resources = stack.provision(secret_values, moto.iam)
            started.callback(stack.stop)
            gateway = Gateway(stack, args.port)
            started.callback(gateway.shutdown)
            stop_polling = threading.Event()
            for poller in pollers(stack):
                poller.start(stop_polling)
            started.callback(stop_polling.set)
            scheduler = Scheduler(stack, args.schedule_speedup)
            scheduler.start(stop_polling)
            threading.Thread(target=_sample_booking, args=(stack,), name="sample-booking", daemon=True).start()
            for provider in PROVIDERS:
                if provider.connect is not None:
                    provider.connect(sandboxes[provider.name], f"http://127.0.0.1:{gateway.port}", secret_values)
            write_state(
                {
                    "pid": os.getpid(),
                    "gateway": f"http://127.0.0.1:{gateway.port}",
                    "aws_endpoint": endpoint,
                    "template": str(args.template),
                    "parameters": overrides,
                    "environment": environment,
                    "resources": resources,
                }
            )
            started.callback(clear_state)
            summary = _summary(
                stack,
                gateway,
                aws=endpoint,
                upstash=upstash,
                sandboxes=[provider.describe(sandboxes[provider.name], template.parameters) for provider in PROVIDERS],
                resources=resources,
                schedules=scheduler.describe(),
            )
            print(summary, flush=True)
            # Also when started where SIGINT is ignored (in the background of a script): Ctrl-C or kill -INT stops it.
            signal.signal(signal.SIGINT, _stop)
            signal.signal(signal.SIGTERM, _stop)
            gateway.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            # A second Ctrl-C (or make passing the signal on) must not cut the clean-up short.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("Local stack stopped.", flush=True)
    return 0


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _summary(
    stack: LocalStack,
    gateway: Gateway,
    *,
    aws: str,
    upstash: UpstashEndpoint,
    sandboxes: list[str],
    resources: dict[str, dict[str, str]],
    schedules: list[str],
) -> str:
    lines = [
        "Local stack running.",
        f"  Gateway (API Gateway stand-in): http://127.0.0.1:{gateway.port}",
    ]
    for route in stack.routes():
        auth = "IAM" if route.authorized else "public"
        lines.append(f"    {route.method:6} {route.path:32} -> {route.function} ({auth})")
    lines.append(
        f"  Dashboard (the template's CloudWatch alarms and dashboards, from local metrics):"
        f" http://127.0.0.1:{gateway.port}/_local/dashboard  (as JSON: /_local/metrics, /_local/alarms)"
    )
    for spec in stack.template.functions():
        for source in spec.queues:
            lines.append(f"  SQS {source.queue} -> {spec.name} (batches of {source.batch_size}, polled locally)")
        for stream in spec.streams:
            lines.append(f"  DynamoDB stream {stream.table} -> {spec.name} (batches of {stream.batch_size})")
    lines += [
        "  Functions run as in Lambda: containers of their own, one event at a time each, "
        f"up to {DEFAULT_MAX_CONTAINERS} per function (or its reserved concurrency); cold starts are printed",
        "  IAM routes: sign with SigV4 for execute-api in us-east-1: access key `testing` (secret `testing`)"
        " or a second caller, `testing2` (secret `testing2`)",
        f"  AWS (moto server): {aws}  (AWS_ENDPOINT_URL={aws}, any credentials; each function calls it"
        f" with its own role, checked against template.yaml; outages: POST {aws}/_local/faults)",
    ]
    for name, ids in sorted(resources.items()):
        lines.append(f"    {name}: {ids.get('Name') or ids['Ref']}")
    lines += [
        f"  Upstash (REST endpoint over Valkey on port {upstash.valkey.port}): {upstash.url}"
        f"  (token in the local secrets file; StateBackend={stack.template.parameters.get('StateBackend')})",
        *(f"  {line}" for line in sandboxes),
        f"  Local secrets (test values, incl. webhook signing secrets): {_shown(SECRETS_FILE)}",
        f"  State: {_shown(STATE_FILE)}",
        *schedules,
        "  Invoke one function: make invoke FUNCTION=<name> EVENT=events/<path>/<file>.json (as under functions/)",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

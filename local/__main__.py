"""`make run`: the bundle locally, on moto server, Valkey and a gateway on port 3000.

moto server stands in for AWS with the template's resources, Valkey behind an
Upstash REST endpoint for Upstash, and the gateway for API Gateway.

Ctrl-C (or SIGTERM) stops everything it started.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType

from local.aws import MotoServer
from local.gateway import Gateway
from local.secrets import ensure_secrets_file
from local.stack import LocalStack
from local.state import ROOT, SECRETS_FILE, STATE_FILE, clear_state, running_stack, write_state
from local.upstash import UpstashEndpoint


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Start the local stack and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--port", type=int, default=int(os.environ.get("LOCAL_GATEWAY_PORT", "3000")))
    parser.add_argument("--aws-port", type=int, default=int(os.environ.get("LOCAL_AWS_PORT", "5050")))
    parser.add_argument("--upstash-port", type=int, default=int(os.environ.get("LOCAL_UPSTASH_PORT", "8079")))
    parser.add_argument(
        "--parameter-overrides",
        nargs="*",
        default=os.environ.get("LOCAL_PARAMETERS", "").split(),
        metavar="NAME=VALUE",
        help="template parameters, as sam deploy takes them (e.g. StateBackend=upstash)",
    )
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.parameter_overrides)

    running = running_stack()
    if running is not None:
        print(
            f"The local stack is already running (pid {running['pid']}): gateway {running['gateway']}, "
            f"AWS {running['aws_endpoint']}. Stop it with Ctrl-C in its terminal or `kill {running['pid']}`.",
            file=sys.stderr,
        )
        return 1
    ports = (
        (args.port, "LOCAL_GATEWAY_PORT"),
        (args.aws_port, "LOCAL_AWS_PORT"),
        (args.upstash_port, "LOCAL_UPSTASH_PORT"),
    )
    for port, variable in ports:
        if not _port_free(port):
            print(
                f"Port {port} on 127.0.0.1 is taken by another program; set {variable} to use another.", file=sys.stderr
            )
            return 1

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's access log would drown the handlers' logs
    moto = MotoServer(args.aws_port)
    endpoint = moto.start()
    upstash: UpstashEndpoint | None = None
    gateway: Gateway | None = None
    try:
        stack = LocalStack(args.template, endpoint, overrides)
        secret_names = [*stack.template.of_type("AWS::SecretsManager::Secret"), "UpstashSecret"]
        secret_values = ensure_secrets_file(SECRETS_FILE, secret_names)
        upstash = UpstashEndpoint(args.upstash_port, token=secret_values["UpstashSecret"]["token"])
        secret_values["UpstashSecret"]["url"] = upstash.start()
        resources = stack.provision(secret_values)
        gateway = Gateway(stack, args.port)
        write_state(
            {
                "pid": os.getpid(),
                "gateway": f"http://127.0.0.1:{gateway.port}",
                "aws_endpoint": endpoint,
                "template": str(args.template),
                "parameters": overrides,
                "resources": resources,
            }
        )
        _print_summary(stack, gateway, endpoint, upstash, resources)
        signal.signal(signal.SIGTERM, _stop)
        gateway.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C (or make passing the signal on) must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if gateway is not None:
            gateway.shutdown()
        if upstash is not None:
            upstash.stop()
        moto.stop()
        clear_state()
        print("Local stack stopped.", flush=True)
    return 0


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _print_summary(
    stack: LocalStack, gateway: Gateway, endpoint: str, upstash: UpstashEndpoint, resources: dict[str, dict[str, str]]
) -> None:
    lines = [
        "Local stack running.",
        f"  Gateway (API Gateway stand-in): http://127.0.0.1:{gateway.port}",
    ]
    for route in stack.routes():
        auth = "IAM" if route.authorized else "public"
        lines.append(f"    {route.method:6} {route.path:32} -> {route.function} ({auth})")
    lines.append(f"  AWS (moto server): {endpoint}  (AWS_ENDPOINT_URL={endpoint}, any credentials)")
    for name, ids in sorted(resources.items()):
        lines.append(f"    {name}: {ids.get('Name') or ids['Ref']}")
    lines += [
        f"  Upstash (REST endpoint over Valkey on port {upstash.valkey.port}): {upstash.url}"
        f"  (token in the local secrets file; StateBackend={stack.template.parameters.get('StateBackend')})",
        f"  Local secrets (test values, incl. webhook signing secrets): {_shown(SECRETS_FILE)}",
        f"  State: {_shown(STATE_FILE)}",
        "  Invoke one function: make invoke FUNCTION=<name> EVENT=events/<file>.json",
        "Ctrl-C stops everything.",
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())

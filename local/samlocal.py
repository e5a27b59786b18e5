"""For people with Docker: `sam local invoke` against the running local stack.

    python -m local.samlocal env-json [--host 127.0.0.1]    (make env-json)
    python -m local.samlocal sign-event EVENT_FILE          (make sign-event EVENT=...)

``env-json`` writes the ``--env-vars`` file: each function's settings as the
local stack made them (table names, queue URLs, secret ARNs, the Stripe
sandbox), with endpoints at ``--host`` as a container reaches them, and prints
the command to run. SAM applies only variables the template declares, and the
deployable template declares no local AWS endpoint: ``env-json`` also writes
``.local/template.yaml``, the template with ``AWS_ENDPOINT_URL`` declared for
every function and its code and layer paths made absolute, and beside it each
provider's template (``.local/functions/<provider>/template.yaml``) made the
same way: ``sam local invoke Stripe/CustomersCreateFunction`` finds it there.
``sign-event`` writes an event file as sent now
(local.replay) under ``.local/events/``: a webhook delivery re-signed with the
local signing secret (a committed signature is stale and made with another
secret), a search's stay moved as far ahead as when it was recorded.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from local.replay import replay
from local.stack import LocalStack
from local.state import LOCAL_DIR, ROOT, SECRETS_FILE, running_stack
from local.template import APPLICATION, load_template

ENV_FILE = LOCAL_DIR / "env.json"
SAM_TEMPLATE = LOCAL_DIR / "template.yaml"
# Paths SAM resolves against the template's folder: made absolute in the copy under .local/.
_PATHS = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}
SIGNED_EVENTS = LOCAL_DIR / "events"


def _reachable(value: str, host: str) -> str:
    """``value`` with a loopback URL's host replaced by ``host`` (other values as they are)."""
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost"):
        return urlunsplit(parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host))
    return value


def sam_templates(template: Path, endpoint: str, into: Path = SAM_TEMPLATE) -> dict[Path, dict[str, Any]]:
    """``template`` for ``sam local`` from elsewhere, written to ``into``, and its nested applications' beside it.

    ``AWS_ENDPOINT_URL`` is declared as ``endpoint`` and paths are absolute; a nested application's
    template keeps its path relative to the root's.
    """
    document = load_template(template)
    documents = {into: document}
    for resource in document.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        if resource.get("Type") == APPLICATION:
            location = properties["Location"]
            nested = sam_templates(template.parent / location, endpoint, into.parent / location)
            documents.update(nested)
            continue
        key = _PATHS.get(resource.get("Type", ""))
        if key and isinstance(properties.get(key), str):
            properties[key] = str((template.parent / properties[key]).resolve())
    function = document.setdefault("Globals", {}).setdefault("Function", {})
    function.setdefault("Environment", {}).setdefault("Variables", {})["AWS_ENDPOINT_URL"] = endpoint
    return documents


def env_vars(state: dict[str, Any], host: str) -> tuple[dict[str, dict[str, str]], dict[Path, dict[str, Any]]]:
    """The ``--env-vars`` document, and the templates for ``sam local`` that declare the AWS endpoint."""
    templates = sam_templates(Path(state["template"]), _reachable(state["aws_endpoint"], host))
    stack = LocalStack(
        Path(state["template"]), state["aws_endpoint"], state.get("parameters"), state.get("environment")
    )
    stack.adopt(state["resources"])
    document: dict[str, dict[str, str]] = {}
    for spec in stack.template.functions():
        declared = {*stack.template.environment(spec), "AWS_ENDPOINT_URL"}  # what SAM will let the file set
        values = stack.environment_of(spec)
        document[spec.name] = {name: _reachable(values[name], host) for name in declared if name in values}
    return document, templates


def _env_json(host: str) -> int:
    state = running_stack()
    if state is None:
        print("The local stack is not running: start it with `make run` in another terminal.", file=sys.stderr)
        return 1
    document, templates = env_vars(state, host)
    ENV_FILE.parent.mkdir(parents=True, exist_ok=True)
    ENV_FILE.write_text(json.dumps(document, indent=2) + "\n")
    for path, template in templates.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(template, sort_keys=False))
    shown, sam = (path.relative_to(ROOT) if path.is_relative_to(ROOT) else path for path in (ENV_FILE, SAM_TEMPLATE))
    parameters = " ".join(f"{name}={value}" for name, value in state.get("parameters", {}).items())
    overrides = f' --parameter-overrides "{parameters}"' if parameters else ""
    print(f"Wrote {shown} and {sam}. Then, for example:")
    print(
        f"  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing sam local invoke HealthFunction -t {sam}"
        f" -e events/health/get.json --env-vars {shown} --docker-network host{overrides}"
    )
    return 0


def _sign_event(path: Path) -> int:
    if not SECRETS_FILE.exists():
        print("No local secrets yet: start the stack once with `make run`.", file=sys.stderr)
        return 1
    event = json.loads(path.read_text())
    signed = replay(event, json.loads(SECRETS_FILE.read_text()))
    if signed is event:
        print(f"{path} is neither a webhook delivery nor a dated search: send it as it is.", file=sys.stderr)
        return 2
    events = ROOT / "events"
    within = path.resolve().is_relative_to(events)
    target = SIGNED_EVENTS / (
        path.resolve().relative_to(events) if within else Path(path.resolve().parent.name, path.name)
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(signed, indent=2) + "\n")
    print(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one of the two commands."""
    parser = argparse.ArgumentParser(prog="python -m local.samlocal", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    env = commands.add_parser("env-json", help="write the --env-vars file for sam local invoke")
    env.add_argument("--host", default="127.0.0.1", help="how a container reaches this machine (with host networking)")
    sign = commands.add_parser("sign-event", help="write a webhook delivery or a dated search as sent now")
    sign.add_argument("event", type=Path)
    args = parser.parse_args(argv)
    if args.command == "env-json":
        return _env_json(args.host)
    return _sign_event(args.event)


if __name__ == "__main__":
    sys.exit(main())

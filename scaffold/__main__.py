"""``python -m scaffold add|action|update|remove``: what `make provider` and `make provider-*` run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scaffold.generate import add, remove, update
from scaffold.spec import AUTHS, WEBHOOKS, SpecError, provider_spec

ROOT = Path(__file__).resolve().parents[1]


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scaffold", description=__doc__)
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository to change (default: this one)")
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("add", help="generate a provider")
    new.add_argument("name", help="snake case, e.g. acme")
    new.add_argument("--auth", default="bearer", help=f"one of {', '.join(AUTHS)} (default bearer)")
    new.add_argument("--webhooks", default="none", help=f"one of {', '.join(WEBHOOKS)} (default none)")
    new.add_argument(
        "--actions",
        default="",
        help='comma-separated "METHOD /path" actions, e.g. "GET /widgets/{widget_id}, POST /widgets"',
    )
    more = commands.add_parser("action", help="add an action to a generated provider")
    more.add_argument("name")
    more.add_argument("--action", required=True, help='"METHOD /path", e.g. "DELETE /widgets/{widget_id}"')
    fresh = commands.add_parser("update", help="bring a generated provider up to date with the templates")
    fresh.add_argument("name")
    gone = commands.add_parser("remove", help="remove a generated provider")
    gone.add_argument("name")
    gone.add_argument("--force", action="store_true", help="also remove files edited since they were generated")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the command; a refusal prints why and changes nothing (exit status 2)."""
    args = _arguments(argv)
    root = args.root.resolve()
    try:
        if args.command == "add":
            actions = [item for item in args.actions.split(",") if item.strip()]
            spec = provider_spec(args.name, args.auth, args.webhooks, actions)
            written = add(spec, root)
            print(f"Generated provider {spec.name}: {len(written)} files and its template.yaml entries.")
            for path in written:
                print(f"  {path}")
            print(f"Next: docs/providers/{spec.name}.md (what is left to fill in), then make test.")
        elif args.command in ("action", "update"):
            written = update(args.name, root, action=getattr(args, "action", None))
            print(f"Provider {args.name} brought up to date: {len(written)} files written or merged.")
            for path in written:
                print(f"  {path}")
        else:
            for item in remove(args.name, root, force=args.force):
                print(f"  removed {item}")
    except SpecError as error:
        command = "make provider" if args.command == "add" else f"make provider-{args.command}"
        print(f"{command}: {error}. Nothing was changed.", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The digests the templates carry, so that a change CloudFormation cannot see still reaches callers.

``LAYER_DIGEST``, in the Globals of template.yaml and of every provider's template, is a digest of
the layers its functions get: layers/shared, and a provider's own (layers/<provider>). SAM publishes a
new function version (and moves the ``live`` alias, which API Gateway and every event source invoke)
only when a function's own code or properties change (``AutoPublishAliasAllProperties``), this
variable included. Nearly all the code is in the layers, so without it a change to a layer alone
would never reach the alias.

``ApiDeployment<digest>``, the REST API's deployment in template.yaml, names a digest of every route
and gateway response of the bundle. A stage serves a deployment, a snapshot of the API taken when it
was made; the routes are declared in the providers' nested stacks, so only a new logical id makes
CloudFormation take a new snapshot after they change.

``make lint`` checks both (``--check``); ``make digests``, ``make provider`` and ``make provider-remove``
write them.

Usage: python -m local.digests [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

from local.template import APPLICATION, Template, load_template

ROOT = Path(__file__).resolve().parent.parent
# Quoted: a hex digest can read as a YAML number ("1234e567..." is a float).
_LAYER = re.compile(r'^([ \t]*LAYER_DIGEST: )"?([0-9a-z]+)"?$', re.MULTILINE)
_DEPLOYMENT = re.compile(r"\bApiDeployment([0-9a-f]{8})\b")
# What a REST API deployment snapshots, besides its stage's settings.
_SNAPSHOT = ("AWS::ApiGateway::Resource", "AWS::ApiGateway::Method", "AWS::ApiGateway::GatewayResponse")


def templates(root: Path = ROOT) -> list[Path]:
    """template.yaml and the templates of the nested applications it names (each provider's, the operations')."""
    found = [root / "template.yaml"]
    for path in found:  # grows as nested applications are found
        for resource in load_template(path).get("Resources", {}).values():
            if resource.get("Type") == APPLICATION:
                found.append(path.parent / resource["Properties"]["Location"])
    return found


def layer_digest(root: Path = ROOT, provider: str | None = None) -> str:
    """A digest of every file the core layer is built from, and ``provider``'s layer (bytecode caches left out).

    The build recipe every layer shares (layers/layer.mk) counts too: a change to it changes what ships.
    """
    digest = hashlib.sha256((root / "layers" / "layer.mk").read_bytes())
    for layer in (root / "layers" / name for name in ("shared", provider) if name):
        for path in sorted(layer.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _provider(root: Path, template: Path) -> str | None:
    """The provider whose layer a provider's template's functions get (its folder's name), if it has one."""
    name = template.parent.name
    return name if template != root / "template.yaml" and (root / "layers" / name).is_dir() else None


def routes_digest(root: Path = ROOT) -> str:
    """A digest of every route and gateway response of the REST API, in every template of the bundle."""
    snapshot = Template(root / "template.yaml").of_type(*_SNAPSHOT)
    return hashlib.sha256(json.dumps(snapshot, sort_keys=True).encode()).hexdigest()[:8]


def recorded(root: Path = ROOT) -> str | None:
    """The layer digest template.yaml carries now."""
    found = _LAYER.search((root / "template.yaml").read_text())
    return found.group(2) if found else None


def with_digest(template_text: str, digest: str) -> str:
    """``template_text`` with ``digest`` as its LAYER_DIGEST."""
    return _LAYER.sub(lambda match: f'{match.group(1)}"{digest}"', template_text, count=1)


def _current(root: Path, path: Path, routes: str) -> str:
    """``path``'s text with the digests it should carry."""
    text = with_digest(path.read_text(), layer_digest(root, _provider(root, path)))
    return _DEPLOYMENT.sub(f"ApiDeployment{routes}", text) if path == root / "template.yaml" else text


def stale(root: Path = ROOT) -> list[Path]:
    """The templates whose digests are not current."""
    routes = routes_digest(root)
    return [path for path in templates(root) if _current(root, path, routes) != path.read_text()]


def write(root: Path = ROOT) -> str:
    """Record the current digests in every template; returns the core layer's."""
    routes = routes_digest(root)
    for path in templates(root):
        path.write_text(_current(root, path, routes))
    return layer_digest(root)


def main(argv: list[str] | None = None) -> int:
    """Write the digests, or with --check say whether the templates' are current."""
    parser = argparse.ArgumentParser(prog="python -m local.digests", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a template's digests are not current")
    args = parser.parse_args(argv)
    if not args.check:
        write()
        print(f"LAYER_DIGEST {layer_digest()}, ApiDeployment{routes_digest()}: {len(templates())} templates")
        return 0
    if outdated := stale():
        names = ", ".join(str(path.relative_to(ROOT)) for path in outdated)
        print(f"{names}: digests are not current: run `make digests`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

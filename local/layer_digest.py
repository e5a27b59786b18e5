"""template.yaml names the layer it ships: Globals' ``LAYER_DIGEST`` variable is a digest of layers/shared.

SAM publishes a new function version (and moves the ``live`` alias, which
API Gateway and every event source invoke) only when a function's own code or
properties change (``AutoPublishAliasAllProperties``), this variable included.
Nearly all the code is in the shared layer, so without it a change to the
layer alone would never reach the alias. ``make lint`` checks the digest
(``--check``); ``make layer-digest``, ``make provider`` and
``make provider-remove`` write it.

Usage: python -m local.layer_digest [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Quoted: a hex digest can read as a YAML number ("1234e567..." is a float).
_LINE = re.compile(r'^([ \t]*LAYER_DIGEST: )"?([0-9a-z]+)"?$', re.MULTILINE)


def layer_digest(root: Path = ROOT) -> str:
    """A digest of every file the layer is built from (bytecode caches left out)."""
    layer = root / "layers" / "shared"
    digest = hashlib.sha256()
    for path in sorted(layer.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(path.relative_to(layer).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def recorded(root: Path = ROOT) -> str | None:
    """The digest template.yaml carries now."""
    found = _LINE.search((root / "template.yaml").read_text())
    return found.group(2) if found else None


def with_digest(template_text: str, digest: str) -> str:
    """``template_text`` with ``digest`` as its LAYER_DIGEST."""
    return _LINE.sub(lambda match: f'{match.group(1)}"{digest}"', template_text, count=1)


def write(root: Path = ROOT) -> str:
    """Record the layer's current digest in template.yaml; returns it."""
    template = root / "template.yaml"
    digest = layer_digest(root)
    template.write_text(with_digest(template.read_text(), digest))
    return digest


def main(argv: list[str] | None = None) -> int:
    """Write the digest, or with --check say whether template.yaml's is current."""
    parser = argparse.ArgumentParser(prog="python -m local.layer_digest", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if template.yaml's digest is not the layer's")
    args = parser.parse_args(argv)
    if not args.check:
        print(f"template.yaml: LAYER_DIGEST {write()}")
        return 0
    if recorded() != layer_digest():
        print("template.yaml's LAYER_DIGEST is not the layer's digest: run `make layer-digest`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

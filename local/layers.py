"""Where the layers' code is: the core layer's folder and each provider's, as Lambda merges them under /opt/python.

``seawall`` is a namespace package split over the layers (layers/README.md), so each folder on the path
adds its part: the tools, the tests and the benchmarks put every layer's folder on theirs; a function's
container only its own layers' (the template's ``Layers``).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def layer_folders(root: Path = ROOT) -> list[Path]:
    """layers/shared, then each provider's layer folder (layers/<provider>), in name order."""
    folders = sorted(path.parent for path in (root / "layers").glob("*/seawall"))
    return sorted(folders, key=lambda folder: folder.name != "shared")


def put_on_path(root: Path = ROOT) -> None:
    """Every layer's folder on ``sys.path`` (after the repository itself), once."""
    for position, folder in enumerate(map(str, layer_folders(root)), start=1):
        if folder not in sys.path:
            sys.path.insert(position, folder)

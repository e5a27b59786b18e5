"""The product touches no private attribute or module of a third-party library.

A private name (``_client``, ``_static_routes``, ``stripe._http_client``) may
change in any release without notice; the layer uses public APIs or its own
code instead. Checked on the syntax tree of the layer, the functions, the
local stack and the ops command: an underscore attribute must be one our own
code defines, and no import reaches into a library's underscore module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*(ROOT / "layers").glob("*/seawall"), ROOT / "functions", ROOT / "local", ROOT / "ops"]
FIRST_PARTY = ("seawall", "local", "ops", "tests")
# Public despite the underscore: namedtuple's documented methods.
PUBLIC = frozenset({"_replace", "_asdict", "_fields", "_make"})


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _files() -> Iterator[Path]:
    for source in SOURCES:
        yield from (path for path in source.rglob("*.py") if "__pycache__" not in path.parts)


def _trees() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(), str(path))) for path in _files()]


def _own_names(cls: ast.ClassDef) -> set[str]:
    """What a class of ours defines: its methods, class attributes and ``self._x = ...`` in its methods."""
    names: set[str] = set()
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    for node in ast.walk(cls):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and _is_self(node.value):
            names.add(node.attr)
    return names


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def _base_names(cls: ast.ClassDef) -> list[str]:
    return [base.id if isinstance(base, ast.Name) else getattr(base, "attr", "") for base in cls.bases]


def _private_uses(trees: list[tuple[Path, ast.Module]]) -> list[str]:
    classes = {node.name: node for _, tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}

    def defined(cls: ast.ClassDef) -> set[str]:
        # Our own base classes' names count; a library's base class's never do.
        names = _own_names(cls)
        for base in _base_names(cls):
            if base in classes and classes[base] is not cls:
                names |= defined(classes[base])
        return names

    found: list[str] = []
    for path, tree in trees:
        where = path.relative_to(ROOT)
        allowed: dict[int, set[str]] = {}
        for cls in (node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)):
            names = defined(cls)
            for node in ast.walk(cls):
                allowed.setdefault(id(node), set()).update(names)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _is_private(node.attr) and node.attr not in PUBLIC:
                if not (_is_self(node.value) and node.attr in allowed.get(id(node), set())):
                    found.append(f"{where}:{node.lineno}: .{node.attr}")
            elif isinstance(node, ast.ImportFrom) and node.module and not node.module.startswith(FIRST_PARTY):
                names = [alias.name for alias in node.names]
                if any(_is_private(part) for part in node.module.split(".")) or any(map(_is_private, names)):
                    found.append(f"{where}:{node.lineno}: from {node.module} import {', '.join(names)}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if not alias.name.startswith(FIRST_PARTY) and any(map(_is_private, alias.name.split("."))):
                        found.append(f"{where}:{node.lineno}: import {alias.name}")
    return found


def test_no_private_attribute_or_module_of_a_library_is_used() -> None:
    assert _private_uses(_trees()) == []


def test_the_check_finds_what_it_looks_for() -> None:
    planted = ast.parse(
        "from stripe._http_client import HTTPClient\n"
        "import upstash_redis._internal\n"
        "client._http._client = None\n"
        "routes = app._static_routes\n"
        "class Transport(HTTPXClient):\n"
        "    def __init__(self):\n"
        "        self._timeouts = 1\n"
        "    def request(self):\n"
        "        return self._get_request_args_kwargs(self._timeouts)\n"
    )
    found = _private_uses([(ROOT / "planted.py", planted)])
    assert sorted(line.split(": ", 1)[1] for line in found) == sorted(
        [
            "from stripe._http_client import HTTPClient",
            "import upstash_redis._internal",
            "._client",
            "._http",
            "._static_routes",
            "._get_request_args_kwargs",
        ]
    )

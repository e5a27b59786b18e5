"""Each requirements file and its lock agree: what a file pins, its lock pins the same; every locked package is hashed.

The locks are what every environment installs (`pip install --require-hashes`), the layer's too (`sam build`):
a file edited without `make lock` would ship what was never asked for, or miss what was.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from local.state import ROOT

PAIRS = [
    *((path, path.with_suffix(".lock")) for path in sorted((ROOT / "layers").glob("*/requirements.txt"))),
    (ROOT / "requirements-dev.txt", ROOT / "requirements-dev.lock"),
    (ROOT / "requirements-sam.txt", ROOT / "requirements-sam.lock"),
]
_LOCKED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def wanted(path: Path) -> list[Requirement]:
    """The requirements a file names, those of the files it includes (``-r``) too."""
    found = []
    for text in path.read_text().splitlines():
        line = text.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += wanted(path.parent / line.removeprefix("-r ").strip())
        elif line:
            found.append(Requirement(line))
    return found


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """Each package a lock pins: its version and how many hashes it has."""
    entries: dict[str, tuple[str, int]] = {}
    name = ""
    for line in path.read_text().splitlines():
        if match := _LOCKED.match(line):
            name = canonicalize_name(match.group(1))
            entries[name] = (match.group(2), 0)
        elif line.strip().startswith("--hash=sha256:") and name:
            version, hashes = entries[name]
            entries[name] = (version, hashes + 1)
    return entries


@pytest.mark.parametrize(("requirements", "lock"), PAIRS, ids=[lock.name for _, lock in PAIRS])
def test_a_requirements_file_and_its_lock_agree(requirements: Path, lock: Path) -> None:
    pinned = locked(lock)
    for requirement in wanted(requirements):
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement} is not in {lock.name}: run `make lock`"
        version, _ = pinned[name]
        assert requirement.specifier.contains(version), f"{lock.name} pins {name}=={version}, not {requirement}"
        exact = [spec.version for spec in requirement.specifier if spec.operator == "=="]
        assert exact, f"{requirements.name} leaves {name} unpinned"  # a file pins what it names; the lock the rest
    unhashed = [name for name, (_, hashes) in pinned.items() if not hashes]
    assert not unhashed, f"{lock.name} has packages without hashes: {unhashed}"


LAYER_LOCKS = sorted((ROOT / "layers").glob("*/requirements.lock"))


@pytest.mark.parametrize("lock", LAYER_LOCKS, ids=[lock.parent.name for lock in LAYER_LOCKS])
def test_the_tools_run_the_versions_each_layer_ships(lock: Path) -> None:
    layer, tools = locked(lock), locked(ROOT / "requirements-dev.lock")
    differ = {name: (version, tools.get(name, ("missing",))[0]) for name, (version, _) in layer.items()}
    assert {name: pair for name, pair in differ.items() if pair[0] != pair[1]} == {}


def test_a_providers_layer_ships_nothing_the_core_layer_does() -> None:
    core = locked(ROOT / "layers" / "shared" / "requirements.lock")
    providers = [lock for lock in LAYER_LOCKS if lock.parent.name != "shared"]
    assert providers, "no provider layer has packages of its own"
    for lock in providers:
        assert set(locked(lock)) & set(core) == set(), lock
    assert "stripe" not in core

"""Generate a provider into the repository, or remove one: all checks first, then every write, then a record.

A provider is a unit: its nested application (``functions/<name>/template.yaml``,
with its functions beside it), its events, client, sandbox, tests and docs, and
one entry in template.yaml (the application, its settings and outputs), which
the API's deployment and the request-story query also name.

Rendering happens in a scratch directory (copier, from ``scaffold/templates``);
nothing in the repository changes until every check passed. The record
(``scaffold/generated/<name>.json``) lists the options, the files with their
hashes and the template.yaml entries, so that removal takes away exactly those,
and refuses to throw away files edited since (unless forced).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import copier

from local.digests import templates as bundle_templates
from local.digests import with_digest
from local.digests import write as write_digests
from local.template import Template
from scaffold import template_yaml
from scaffold.spec import ProviderSpec, SpecError, parameter_clashes, provider_spec

# The repository's own templates (the one being changed: `--root`).
TEMPLATES = Path("scaffold") / "templates"
RESOURCES = "template-resources.yaml"
RECORDS = Path("scaffold") / "generated"
_PORT = re.compile(r"default_port=(\d+)")
FIRST_PORT = 12111


def _hash(path: Path) -> str:
    """The file's hash; a template's without its LAYER_DIGEST, which `make digests` rewrites on any layer change."""
    if path.name == "template.yaml":
        return hashlib.sha256(with_digest(path.read_text(), "").encode()).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record_path(root: Path, name: str) -> Path:
    """Where the record of a generated provider is kept."""
    return root / RECORDS / f"{name}.json"


def sandbox_port(root: Path) -> int:
    """A port for the new provider's sandbox: the one after the highest the local sandboxes use."""
    ports = [
        int(found.group(1))
        for module in (root / "local" / "sandboxes").glob("*.py")
        if (found := _PORT.search(module.read_text()))
    ]
    return max(ports, default=FIRST_PORT - 1) + 1


def render(spec: ProviderSpec, into: Path, *, port: int, templates: Path) -> None:
    """The provider's files (and its template.yaml entries, as ``template-resources.yaml``) under ``into``.

    ``templates``: a scaffold/templates folder, the repository's or an earlier version of it.
    """
    context = {**spec.context(), "port": port}
    options: dict[str, Any] = {"defaults": True, "quiet": True, "unsafe": False, "overwrite": True}
    copier.run_copy(str(templates / "provider"), into, data=context, **options)
    for action in context["actions"]:  # type: ignore[attr-defined]
        copier.run_copy(str(templates / "action"), into, data={**context, "action": action}, **options)


def templates_version(root: Path) -> str | None:
    """The committed version (git tree) of scaffold/templates, if the working tree's templates are that version."""
    git = ["git", "-C", str(root)]
    unchanged = subprocess.run(
        [*git, "diff", "--quiet", "HEAD", "--", "scaffold/templates"], capture_output=True, check=False
    )
    if unchanged.returncode != 0:
        return None
    tree = subprocess.run([*git, "rev-parse", "HEAD:scaffold/templates"], capture_output=True, text=True, check=False)
    return tree.stdout.strip() if tree.returncode == 0 else None


def _templates_at(root: Path, version: str, into: Path) -> Path:
    """scaffold/templates as they were at ``version`` (a git tree), extracted under ``into``."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(root), "archive", version], capture_output=True, check=False)  # noqa: S607
    if archive.returncode != 0:
        raise SpecError(
            f"the templates the provider was generated from ({version}) are not in this repository's history"
        )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)  # noqa: S607
    return into


@dataclass(frozen=True)
class Plan:
    """What generating a provider writes: files (relative path → rendered file) and template.yaml's new text."""

    files: dict[Path, Path]
    template: str
    entries: list[str]


def plan(spec: ProviderSpec, root: Path, scratch: Path) -> Plan:
    """Render and check; :class:`SpecError` names every clash with the repository, before anything is written."""
    if (root / "layers" / spec.name).exists() or record_path(root, spec.name).exists():
        raise SpecError(f"NAME {spec.name!r}: a provider of that name exists already")
    render(spec, scratch, port=sandbox_port(root), templates=root / TEMPLATES)
    files = {
        path.relative_to(scratch): path
        for path in sorted(scratch.rglob("*"))
        if path.is_file() and path.name != RESOURCES
    }
    problems = [f"{relative} exists already" for relative in files if (root / relative).exists()]
    document = template_yaml.read(root / "template.yaml")
    fragment = template_yaml.load((scratch / RESOURCES).read_text())
    # The bundle is one namespace (local.template): the unit's names must be new in every template.
    bundle = Template(root / "template.yaml")
    taken = template_yaml.logical_ids(document) | set(bundle.resources)
    unit = template_yaml.load((scratch / "functions" / spec.name / "template.yaml").read_text())
    new = template_yaml.logical_ids(fragment) | set(unit["Resources"])
    problems += [f"the bundle has {name} already" for name in sorted(new & taken)]
    routes = [route for spec_ in bundle.functions() for route in spec_.routes]
    problems += parameter_clashes(spec, [(route.method, route.path) for route in routes if route.api == "rest"])
    problems += _shared_resources(spec, {route.path.split("/")[1] for route in routes if route.api == "rest"})
    if problems:
        raise SpecError("; ".join(problems))
    entries = template_yaml.add(
        document, fragment, f"{spec.title} (make provider NAME={spec.name}): see docs/providers/{spec.name}.md."
    )
    template_yaml.deploy_after(document, spec.title)
    return Plan(files, template_yaml.dump(document), entries)


def _shared_resources(spec: ProviderSpec, taken: set[str]) -> list[str]:
    """Paths starting where another stack's routes do: API Gateway has one resource per path, in one stack."""
    return [
        f"route {action.method} {action.path} starts at /{action.segments[0]}, which another stack's routes own"
        for action in spec.actions
        if action.segments[0] in taken
    ]


def add(spec: ProviderSpec, root: Path) -> list[Path]:
    """Generate ``spec`` into the repository at ``root``; returns the files written."""
    with tempfile.TemporaryDirectory(prefix="scaffold-") as scratch:
        planned = plan(spec, root, Path(scratch))
        written: list[Path] = []
        template = root / "template.yaml"
        original = template.read_text()
        try:
            for relative, rendered in planned.files.items():
                (root / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(rendered, root / relative)
                written.append(relative)
            _format(root, [path for path in written if path.suffix == ".py"])
            template.write_text(planned.template)
            write_digests(root)
            _write_record(spec, root, written, template_yaml.load(planned.template), planned.entries)
        except BaseException:
            for relative in written:
                (root / relative).unlink(missing_ok=True)
                _prune(root, (root / relative).parent)
            template.write_text(original)
            raise
    return written


def _format(root: Path, files: list[Path]) -> None:
    """The project's formatter and import order on new Python files (the templates' layout varies by option).

    Its settings are the repository's, wherever the files are (a scratch render, too).
    """
    if not files:
        return
    paths = [str(path) for path in files]
    ruff = [sys.executable, "-m", "ruff"]
    settings = ["--config", str(root / "pyproject.toml")]
    subprocess.run([*ruff, "check", *settings, "--quiet", "--fix", "--select", "I,F401", *paths], cwd=root, check=False)
    subprocess.run([*ruff, "format", *settings, "--quiet", *paths], cwd=root, check=True)


def _write_record(spec: ProviderSpec, root: Path, files: list[Path], document: Any, entries: list[str]) -> None:
    record = {
        "name": spec.name,
        "auth": spec.auth,
        "webhooks": spec.webhooks,
        "actions": [f"{action.method} {action.path}" for action in spec.actions],
        "files": {str(path): _hash(root / path) for path in files},
        "template_entries": {name: template_yaml.fingerprint(document, name) for name in entries},
        # Which templates it was generated from (`make provider-update` merges their changes since); null when
        # generated from templates not committed yet.
        "templates": templates_version(root),
    }
    path = record_path(root, spec.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")


def _read_record(root: Path, name: str) -> dict[str, Any]:
    """A generated provider's record: its options, files and template.yaml entries (the answers it was made from)."""
    path = record_path(root, name)
    if not path.exists():
        raise SpecError(f"NAME {name!r}: no provider of that name was generated by make provider ({path} is missing)")
    record: dict[str, Any] = json.loads(path.read_text())
    return record


def update(name: str, root: Path, *, action: str | None = None) -> list[Path]:
    """Bring a generated provider up to date with the templates, with one more action if given; the files written.

    As copier's update does: the provider is rendered from its record's options with the templates it
    was generated from (the base) and with today's and the new action (the target), and each file is
    brought from the one to the other. A file not edited since it was generated is replaced, an edited
    one gets the change merged in (three-way), and a change that clashes with an edit stops it all,
    naming the file. Nothing is written until every file merged.
    """
    record = _read_record(root, name)
    old = provider_spec(name, record["auth"], record["webhooks"], record["actions"])
    new = provider_spec(name, record["auth"], record["webhooks"], [*record["actions"], *filter(None, [action])])
    bundle = Template(root / "template.yaml")
    problems: list[str] = []
    if action is not None:
        added = ProviderSpec(name, new.auth, new.webhooks, new.actions[-1:])
        others = [route for spec in bundle.functions() if spec.stack != old.title for route in spec.routes]
        rest = [(route.method, route.path) for route in others if route.api == "rest"]
        problems += parameter_clashes(added, rest) + _shared_resources(added, {path.split("/")[1] for _, path in rest})
    sandbox = root / "local" / "sandboxes" / f"{name}.py"
    found = _PORT.search(sandbox.read_text()) if sandbox.exists() else None
    if found is None:
        raise SpecError(f"NAME {name!r}: {sandbox.relative_to(root)} no longer names its port")
    with tempfile.TemporaryDirectory(prefix="scaffold-") as scratch:
        base, target = Path(scratch, "base"), Path(scratch, "target")
        was = record.get("templates")
        templates = _templates_at(root, was, Path(scratch, "templates")) if was else root / TEMPLATES
        for spec, into, source in ((old, base, templates), (new, target, root / TEMPLATES)):
            render(spec, into, port=int(found.group(1)), templates=source)
            _format(root, list(into.rglob("*.py")))
        taken = {logical for logical, stack in bundle.stacks.items() if stack != old.title}
        unit = template_yaml.load((target / "functions" / name / "template.yaml").read_text())
        problems += [f"the bundle has {logical} already" for logical in sorted(set(unit["Resources"]) & taken)]
        updated = _updated(root, base, target, problems)
        # What the generator produced now: a file is "edited since generated" against this, not against the merge.
        generated = {
            str(path.relative_to(target)): _hash(path)
            for path in target.rglob("*")
            if path.is_file() and path.name != RESOURCES
        }
    originals = {
        relative: (root / relative).read_text() if (root / relative).exists() else None for relative in updated
    }
    unchanged = {path: path.read_text() for path in [*bundle_templates(root), record_path(root, name)]}
    try:
        for relative, text in updated.items():
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_text(text)
        write_digests(root)
        record.update(
            actions=[f"{item.method} {item.path}" for item in new.actions],
            files={**record["files"], **generated},
            templates=templates_version(root),
        )
        record_path(root, name).write_text(json.dumps(record, indent=2) + "\n")
    except BaseException:
        for path, kept in unchanged.items():
            path.write_text(kept)
        for relative, original in originals.items():
            if original is None:
                (root / relative).unlink(missing_ok=True)
                _prune(root, (root / relative).parent)
            else:
                (root / relative).write_text(original)
        raise
    return list(updated)


def _updated(root: Path, base: Path, target: Path, problems: list[str]) -> dict[Path, str]:
    """Each file's text brought from ``base`` (as generated) to ``target`` (as now generated), edits kept.

    :class:`SpecError` names every file that cannot be (and every problem found before), before anything is written.
    """
    updated: dict[Path, str] = {}
    for rendered in sorted(path for path in target.rglob("*") if path.is_file() and path.name != RESOURCES):
        relative = rendered.relative_to(target)
        was, now, current = base / relative, rendered.read_text(), root / relative
        if not was.exists():
            if not current.exists():
                updated[relative] = now
            elif current.read_text() != now:
                problems.append(f"{relative} exists already")
        elif not current.exists():
            problems.append(f"{relative} was deleted since it was generated")
        elif current.read_text() != now:
            merged = subprocess.run(
                ["git", "merge-file", "-p", "--quiet", str(current), str(was), str(rendered)],  # noqa: S607
                capture_output=True,
                text=True,
                check=False,
            )
            if merged.returncode != 0:
                problems.append(f"{relative} was edited where the update changes it")
            elif merged.stdout != current.read_text():
                updated[relative] = merged.stdout
    if problems:
        raise SpecError("; ".join(problems))
    return updated


def remove(name: str, root: Path, *, force: bool = False) -> list[str]:
    """Take a generated provider out again: its files, its template.yaml entries, its record. Returns what went.

    Files or template.yaml entries edited since they were generated are kept,
    and nothing changes, unless ``force``: removal must not throw work away by surprise.
    """
    path = record_path(root, name)
    record = _read_record(root, name)
    files = {Path(relative): digest for relative, digest in record["files"].items()}
    edited = [str(path) for path, digest in files.items() if (root / path).exists() and _hash(root / path) != digest]
    document = template_yaml.read(root / "template.yaml")
    entries: dict[str, str] = record["template_entries"]
    edited += [
        f"template.yaml's {entry}"
        for entry, digest in entries.items()
        if (now := template_yaml.fingerprint(document, entry)) is not None and now != digest
    ]
    if edited and not force:
        raise SpecError(f"edited since generated (FORCE=1 removes them anyway): {', '.join(edited)}")
    removed = template_yaml.remove(document, record["template_entries"])
    title = provider_spec(record["name"], record["auth"], record["webhooks"], record["actions"]).title
    template_yaml.stop_deploying_after(document, title)
    (root / "template.yaml").write_text(template_yaml.dump(document))
    for relative in files:
        (root / relative).unlink(missing_ok=True)
        _prune(root, (root / relative).parent)
    path.unlink()
    _prune(root, path.parent)
    write_digests(root)
    return [str(relative) for relative in files] + removed


def _prune(root: Path, directory: Path) -> None:
    """Remove ``directory`` and its parents while they are empty (never ``root``); __pycache__ goes too."""
    while directory != root and directory.is_dir():
        shutil.rmtree(directory / "__pycache__", ignore_errors=True)
        if any(directory.iterdir()):
            return
        directory.rmdir()
        directory = directory.parent

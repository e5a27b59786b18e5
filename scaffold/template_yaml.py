"""template.yaml edited with ruamel.yaml's round trip: new entries appended, the rest kept byte for byte.

template.yaml is kept in the layout ruamel.yaml writes (sequences under a tag
indented by four), so loading and dumping it changes nothing; an edit adds or
removes whole entries of Parameters, Resources and Outputs, and nothing else.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

SECTIONS = ("Parameters", "Conditions", "Resources", "Outputs")
# The sections an edit adds to, in the file's order.
EDITED = ("Parameters", "Conditions", "Resources", "Outputs")


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def load(text: str) -> CommentedMap:
    """The document, with its comments, tags and order."""
    document: CommentedMap = _yaml().load(text)
    return document


def dump(document: CommentedMap) -> str:
    """The document as text, in template.yaml's layout."""
    buffer = io.StringIO()
    _yaml().dump(document, buffer)
    return buffer.getvalue()


def logical_ids(document: CommentedMap) -> set[str]:
    """Every name of Parameters, Conditions, Resources and Outputs (one namespace in CloudFormation)."""
    return {name for section in SECTIONS for name in document.get(section) or {}}


def _tail(node: Any) -> tuple[Any, Any] | None:
    """The innermost (collection, key) written last in ``node``: where the comment after it is kept."""
    found = None
    while isinstance(node, CommentedMap | CommentedSeq) and len(node) and not node.fa.flow_style():
        key = list(node)[-1] if isinstance(node, CommentedMap) else len(node) - 1
        found = (node, key)
        node = node[key]
    return found  # a flow collection ([a, b]) is written on one line: the comment follows it


def _end_with_blank_line(node: Any) -> None:
    """A blank line after ``node``, as between the template's sections."""
    tail = _tail(node)
    if tail is None:
        return
    collection, key = tail
    blank = CommentToken("\n\n", CommentMark(0), None)
    # ruamel.yaml keeps the comment after a mapping's value third, after a sequence's item first.
    collection.ca.items[key] = [None, None, blank, None] if isinstance(collection, CommentedMap) else [blank, None]


def add(document: CommentedMap, fragment: CommentedMap, heading: str) -> list[str]:
    """Append the fragment's entries to the document's sections; returns their names.

    ``heading`` becomes a comment above the first new resource. A section
    followed by another ends with a blank line again.
    """
    added = []
    for section in EDITED:
        entries = fragment.get(section) or {}
        if not entries:
            continue
        target = document[section]
        followed = list(document).index(section) < len(document) - 1
        for name, value in entries.items():
            target[name] = value
            added.append(name)
        if section == "Resources":
            target.yaml_set_comment_before_after_key(next(iter(entries)), before=heading, indent=2)
        if followed:
            _end_with_blank_line(target)
    return added


def remove(document: CommentedMap, names: Iterable[str]) -> list[str]:
    """Delete the named entries from every section; returns those that were there.

    The comment lines right above an entry go with it; those above the entry after it stay there.
    """
    wanted = set(names)
    removed = []
    for section in EDITED:
        entries = document.get(section)
        if entries is None:
            continue
        # Last first, whatever order the names came in: each deletion then undoes an append, and the blank lines
        # and headings between entries end where they were before the entries were added.
        for name in reversed([name for name in entries if name in wanted]):
            _delete(entries, name)
            removed.append(name)
    return removed


def _plain(node: Any) -> Any:
    """A node as plain data, its tags kept (``!Ref X`` is not ``X``), its comments and layout left out."""
    tag = getattr(getattr(node, "tag", None), "value", None)
    if isinstance(node, dict):
        plain: Any = {str(key): _plain(value) for key, value in node.items()}
    elif isinstance(node, list):
        plain = [_plain(item) for item in node]
    elif isinstance(node, TaggedScalar):
        plain = str(node.value)
    else:
        plain = node if isinstance(node, int | float | bool) or node is None else str(node)
    return {tag: plain} if tag and tag.startswith("!") else plain


def fingerprint(document: CommentedMap, name: str) -> str | None:
    """A hash of the named entry's content (any section), to tell whether it was edited; ``None`` if absent."""
    for section in EDITED:
        entries = document.get(section) or {}
        if name in entries:
            return hashlib.sha256(json.dumps(_plain(entries[name]), sort_keys=True).encode()).hexdigest()
    return None


def _after(node: Any) -> CommentToken | None:
    """The comment token written after ``node``: its blank lines, then the next entry's heading comments."""
    tail = _tail(node)
    if tail is None:
        return None
    collection, key = tail
    slots = collection.ca.items.get(key)
    token: CommentToken | None = slots[2 if isinstance(collection, CommentedMap) else 0] if slots else None
    return token


def _split_heading(text: str) -> tuple[str, str]:
    """A token's text as (what ends the entry before, the comment lines heading the entry after)."""
    lines = text.split("\n")
    end = len(lines) - 1
    start = end
    while start > 1 and lines[start - 1].strip().startswith("#"):
        start -= 1
    heading = "\n".join(lines[start:end])
    return "\n".join(lines[:start]) + "\n", heading + "\n" if heading else ""


def _delete(section: CommentedMap, name: str) -> None:
    """Delete one entry: its heading (kept after the entry before it, once loaded) goes, the next one's stays."""
    section.ca.items.pop(name, None)  # a heading added in this run, not yet written
    names = list(section)
    position = names.index(name)
    before = _after(section[names[position - 1]]) if position else None
    own = _after(section[name])
    carried = _split_heading(own.value)[1] if own is not None else ""
    del section[name]
    following = names[position + 1] if position + 1 < len(names) else None
    if before is None:  # the entry before ends on a flow collection: the heading goes with the next entry itself
        if following is not None and carried:
            blank = [CommentToken("\n", CommentMark(0), None)]
            lines = [CommentToken(line.strip() + "\n", CommentMark(2), None) for line in carried.splitlines()]
            section.ca.items.setdefault(following, [None, None, None, None])[1] = blank + lines
        return
    if following is not None and (section.ca.items.get(following) or [None, None])[1]:
        before.value = "\n"  # after a flow collection the next entry keeps its blank line and heading itself
    else:
        before.value = _split_heading(before.value)[0] + carried


def _deployment(document: CommentedMap) -> CommentedSeq:
    """What the REST API's deployment waits for (local.digests: it snapshots every route)."""
    resources = document["Resources"]
    (name,) = (name for name, resource in resources.items() if resource["Type"] == "AWS::ApiGateway::Deployment")
    waits: CommentedSeq = resources[name]["DependsOn"]
    return waits


def deploy_after(document: CommentedMap, application: str) -> None:
    """Make the API's deployment wait for a provider's application, whose routes it must include."""
    _deployment(document).append(application)


def stop_deploying_after(document: CommentedMap, application: str) -> None:
    """The deployment no longer waits for a removed provider's application."""
    waits = _deployment(document)
    if application in waits:
        waits.remove(application)


def read(path: Path) -> CommentedMap:
    """``path`` loaded (see :func:`load`)."""
    return load(path.read_text())

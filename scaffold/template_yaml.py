"""template.yaml edited with ruamel.yaml's round trip: new entries appended, the rest kept byte for byte.

template.yaml is kept in the layout ruamel.yaml writes (sequences under a tag
indented by four), so loading and dumping it changes nothing; an edit adds or
removes whole entries of Parameters, Resources and Outputs, and nothing else.
"""

from __future__ import annotations

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


def api_routes(document: CommentedMap) -> list[tuple[str, str]]:
    """(method, path) of every API Gateway event of the template's functions."""
    routes = []
    for resource in (document.get("Resources") or {}).values():
        events = ((resource or {}).get("Properties") or {}).get("Events") or {}
        for event in events.values():
            if event.get("Type") == "Api":
                properties = event.get("Properties") or {}
                routes.append((str(properties.get("Method", "")).upper(), str(properties.get("Path", ""))))
    return routes


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
    """Delete the named entries from every section; returns those that were there."""
    removed = []
    for name in names:
        for section in EDITED:
            entries = document.get(section)
            if entries is not None and name in entries:
                _drop_heading(entries, name)
                del entries[name]
                removed.append(name)
    return removed


def _drop_heading(section: CommentedMap, name: str) -> None:
    """Remove the comment lines right above ``name``: they go with it, not to the entry after it.

    Loaded, they are kept after the entry before it; added, with the entry itself.
    """
    section.ca.items.pop(name, None)
    names = list(section)
    position = names.index(name)
    tail = _tail(section[names[position - 1]]) if position else None
    if tail is None:
        return
    collection, key = tail
    slots = collection.ca.items.get(key)
    token = slots[2 if isinstance(collection, CommentedMap) else 0] if slots else None
    if token is None:
        return
    lines = token.value.split("\n")
    end = len(lines) - 1
    while end > 1 and lines[end - 1].strip().startswith("#"):
        end -= 1
    token.value = "\n".join(lines[:end]) + "\n"


DASHBOARD = "OperationsDashboard"


def dashboard_widgets(document: CommentedMap) -> list[dict[str, Any]]:
    """The widgets of the operations dashboard (its body is ``!Sub`` text holding CloudWatch's JSON)."""
    body = document["Resources"][DASHBOARD]["Properties"]["DashboardBody"]
    widgets: list[dict[str, Any]] = json.loads(body.value)["widgets"]
    return widgets


def set_dashboard_widgets(document: CommentedMap, widgets: list[dict[str, Any]]) -> None:
    """Write the widgets back, one to a line, commas leading: a widget added or removed is a line added or removed."""
    body = document["Resources"][DASHBOARD]["Properties"]["DashboardBody"]
    body.value = '{"widgets": [\n' + "\n,".join(json.dumps(widget) for widget in widgets) + "\n]}\n"


STORY_QUERY = "RequestStoryQuery"


def story_log_groups(document: CommentedMap) -> CommentedSeq:
    """The log groups the saved query telling one request's whole story reads: every function's."""
    groups: CommentedSeq = document["Resources"][STORY_QUERY]["Properties"]["LogGroupNames"]
    return groups


def read_log_groups(document: CommentedMap, names: Iterable[str]) -> None:
    """Add log groups (logical ids) to the story query: each a ``- !Ref`` line of its own, appended."""
    groups = story_log_groups(document)
    for name in names:
        groups.append(TaggedScalar(value=name, tag="!Ref"))


def unread_log_groups(document: CommentedMap, names: Iterable[str]) -> None:
    """Take log groups out of the story query again."""
    groups = story_log_groups(document)
    gone = set(names)
    for index in reversed(range(len(groups))):
        if getattr(groups[index], "value", None) in gone:
            del groups[index]


def read(path: Path) -> CommentedMap:
    """``path`` loaded (see :func:`load`)."""
    return load(path.read_text())

"""The dashboard, alarms and saved queries name only what the code emits and logs, and every alarm pages someone.

A widget or alarm on a metric nobody emits (a renamed metric, a dimension
added in code) stays flat forever and never fires: checked here against the
``emit(...)`` calls of the layer and the functions, read from their syntax trees.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scaffold import template_yaml

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "Integrations/${AWS::StackName}"
# Powertools' own metric, with the handler's default dimension.
POWERTOOLS = {("ColdStart", frozenset({"function_name", "service"}))}
# SEARCH('{Namespace,key,...} MetricName="Name"', ...): the schema, whose namespace may hold ${AWS::StackName}.
_SEARCH = re.compile(r"SEARCH\('\{((?:[^{}]|\$\{[^}]*\})*)\} MetricName=\"(\w+)\"")


def emitted() -> set[tuple[str, frozenset[str]]]:
    """(name, dimension keys) of every ``emit("Name", ..., key=value)`` in the layer and the functions."""
    found = set(POWERTOOLS)
    sources = [*(ROOT / "layers/shared/seawall").rglob("*.py"), *(ROOT / "functions").glob("*/app.py")]
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "emit" and node.args:
                name = node.args[0]
                if isinstance(name, ast.Constant) and isinstance(name.value, str):
                    keys = {keyword.arg for keyword in node.keywords if keyword.arg}
                    found.add((name.value, frozenset(keys | {"service"})))  # service: Powertools' default dimension
    return found


@pytest.fixture(scope="module")
def template() -> Any:
    return template_yaml.read(ROOT / "template.yaml")


def resources(template: Any, kind: str) -> dict[str, Any]:
    return {name: item for name, item in template["Resources"].items() if item["Type"] == kind}


def text(value: Any) -> str:
    """A plain or ``!Sub`` string's template text."""
    return str(getattr(value, "value", value))


def dashboard(template: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(text(template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]))
    return body


def dashboard_metrics(body: dict[str, Any]) -> Iterator[tuple[str, frozenset[str], str]]:
    """(name, dimension keys, widget title) of the stack's own metrics a widget shows."""
    for widget in body["widgets"]:
        for entry in widget["properties"].get("metrics", []):
            if isinstance(entry[0], dict):
                for schema, name in _SEARCH.findall(entry[0].get("expression", "")):
                    namespace, *keys = schema.split(",")
                    if namespace == NAMESPACE:
                        yield name, frozenset(keys), widget["properties"]["title"]
            elif entry[0] == NAMESPACE:
                pairs = [item for item in entry[2:] if not isinstance(item, dict)]
                yield entry[1], frozenset(pairs[0::2]), widget["properties"]["title"]


def alarm_metrics(template: Any) -> Iterator[tuple[str, frozenset[str], str]]:
    """(name, dimension keys, alarm) of the stack's own metrics an alarm watches."""
    for alarm_name, alarm in resources(template, "AWS::CloudWatch::Alarm").items():
        properties = alarm["Properties"]
        metrics = [properties] + [
            query["MetricStat"]["Metric"] for query in properties.get("Metrics", []) if "MetricStat" in query
        ]
        for metric in metrics:
            if text(metric.get("Namespace")) == NAMESPACE:
                keys = frozenset(item["Name"] for item in metric.get("Dimensions", []))
                yield metric["MetricName"], keys, alarm_name


def test_every_dashboard_and_alarm_metric_is_one_the_code_emits(template: Any) -> None:
    code = emitted()
    watched = [*dashboard_metrics(dashboard(template)), *alarm_metrics(template)]
    assert len(watched) >= 40
    missing = [(name, sorted(keys), where) for name, keys, where in watched if (name, keys) not in code]
    assert missing == []


def test_the_functions_write_to_the_namespace_the_dashboard_reads(template: Any) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert text(variables["POWERTOOLS_METRICS_NAMESPACE"]) == NAMESPACE


def test_every_alarm_notifies_the_alarm_topic(template: Any) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 20
    for name, alarm in alarms.items():
        actions = [text(action) for action in alarm["Properties"].get("AlarmActions", [])]
        assert actions == ["AlarmTopic"], name


def _referenced_queues(value: Any) -> Iterator[str]:
    """Queues a policy or configuration points at (``!GetAtt Queue.Arn``)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _referenced_queues(item)
    elif isinstance(value, list):
        for item in value:
            yield from _referenced_queues(item)
    elif getattr(value, "tag", None) is not None and str(value.tag.value) == "!GetAtt":
        yield str(value.value).split(".")[0]


def test_every_dead_letter_queue_is_alarmed(template: Any) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    dead_letter = {name for name in queues if name.endswith("DeadLetterQueue")}
    assert len(dead_letter) >= 7
    watched = {
        text(dimension["Value"]).split(".")[0]
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values()
        for dimension in alarm["Properties"].get("Dimensions", [])
        if dimension["Name"] == "QueueName"
    }
    assert dead_letter <= watched


def test_the_dashboard_shows_every_dead_letter_queue_and_names_real_resources(template: Any) -> None:
    body = dashboard(template)
    references = set(re.findall(r"\$\{(\w+)(?:\.\w+)?\}", json.dumps(body)))
    known = set(template["Resources"]) | set(template["Parameters"]) | {"AWS"}
    assert references - known == set()
    shown = {reference for reference in references if reference.endswith("DeadLetterQueue")}
    assert shown == {name for name in resources(template, "AWS::SQS::Queue") if name.endswith("DeadLetterQueue")}


@pytest.mark.parametrize(
    ("query", "logged"),
    [
        ("WebhookRejectionsQuery", "webhook rejected"),
        ("InvalidResponsesQuery", "provider response failed validation"),
        ("FailedRecordsQuery", "record failed; it returns to the queue"),
        ("RateLimitedQuery", "provider response"),
        ("RateLimitedQuery", "request refused"),
        ("TimeoutsQuery", "provider call failed"),
    ],
)
def test_each_saved_query_looks_for_a_message_the_code_logs(template: Any, query: str, logged: str) -> None:
    definition = template["Resources"][query]["Properties"]
    assert f'"{logged}"' in definition["QueryString"]
    sources = "".join(path.read_text() for path in (ROOT / "layers/shared/seawall").rglob("*.py"))
    assert f'"{logged}"' in sources


def test_the_request_story_reads_every_function_log_group(template: Any) -> None:
    groups = template["Resources"]["RequestStoryQuery"]["Properties"]["LogGroupNames"]
    read = set(re.findall(r"\w+FunctionLogGroup", json.dumps(groups, default=str)))
    assert read == set(resources(template, "AWS::Logs::LogGroup"))

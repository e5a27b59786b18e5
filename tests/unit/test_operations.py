"""The dashboards, alarms and saved queries name only what the code emits and logs, and every alarm pages someone.

Every template of the bundle is read: the root's and each provider's (local.digests.templates).

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

from local.digests import templates
from local.template import Template
from scaffold import template_yaml

ROOT = Path(__file__).resolve().parents[2]
# A Logs Insights query reads at most 50 log groups.
MAX_LOG_GROUPS = 50
# The root stack's namespace; a provider's stack gets the root's name as BundleName.
NAMESPACES = {"Integrations/${AWS::StackName}", "Integrations/${BundleName}"}
# Powertools' own metric, with the handler's default dimension.
POWERTOOLS = {("ColdStart", frozenset({"function_name", "service"}))}
# SEARCH('{Namespace,key,...} MetricName="Name"', ...): the schema, whose namespace may hold ${AWS::StackName}.
_SEARCH = re.compile(r"SEARCH\('\{((?:[^{}]|\$\{[^}]*\})*)\} MetricName=\"(\w+)\"")


def emitted() -> set[tuple[str, frozenset[str]]]:
    """(name, dimension keys) of every ``emit("Name", ..., key=value)`` in the layer and the functions."""
    found = set(POWERTOOLS)
    sources = [*(ROOT / "layers").rglob("seawall/**/*.py"), *(ROOT / "functions").rglob("app.py")]
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "emit" and node.args:
                name = node.args[0]
                if isinstance(name, ast.Constant) and isinstance(name.value, str):
                    keys = {keyword.arg for keyword in node.keywords if keyword.arg}
                    found.add((name.value, frozenset(keys | {"service"})))  # service: Powertools' default dimension
    return found


@pytest.fixture(scope="module")
def bundle() -> list[Any]:
    """Every template of the bundle, as written (``!Sub`` and ``!Ref`` tags kept)."""
    return [template_yaml.read(path) for path in templates(ROOT)]


def resources(template: Any, kind: str) -> dict[str, Any]:
    return {name: item for name, item in template["Resources"].items() if item["Type"] == kind}


def in_bundle(bundle: list[Any], kind: str) -> dict[str, Any]:
    """The resources of a type in every template of the bundle, by logical id (unique across it)."""
    return {name: item for template in bundle for name, item in resources(template, kind).items()}


def text(value: Any) -> str:
    """A plain or ``!Sub`` string's template text."""
    return str(getattr(value, "value", value))


def dashboards(bundle: list[Any]) -> list[dict[str, Any]]:
    """The bodies of every dashboard: the core's and each provider's."""
    return [
        json.loads(text(dashboard["Properties"]["DashboardBody"]))
        for dashboard in in_bundle(bundle, "AWS::CloudWatch::Dashboard").values()
    ]


def dashboard_metrics(body: dict[str, Any]) -> Iterator[tuple[str, frozenset[str], str]]:
    """(name, dimension keys, widget title) of the stack's own metrics a widget shows."""
    for widget in body["widgets"]:
        for entry in widget["properties"].get("metrics", []):
            if isinstance(entry[0], dict):
                for schema, name in _SEARCH.findall(entry[0].get("expression", "")):
                    namespace, *keys = schema.split(",")
                    if namespace in NAMESPACES:
                        yield name, frozenset(keys), widget["properties"]["title"]
            elif entry[0] in NAMESPACES:
                pairs = [item for item in entry[2:] if not isinstance(item, dict)]
                yield entry[1], frozenset(pairs[0::2]), widget["properties"]["title"]


def alarm_metrics(bundle: list[Any]) -> Iterator[tuple[str, frozenset[str], str]]:
    """(name, dimension keys, alarm) of the stack's own metrics an alarm watches."""
    for alarm_name, alarm in in_bundle(bundle, "AWS::CloudWatch::Alarm").items():
        properties = alarm["Properties"]
        metrics = [properties] + [
            query["MetricStat"]["Metric"] for query in properties.get("Metrics", []) if "MetricStat" in query
        ]
        for metric in metrics:
            if text(metric.get("Namespace")) in NAMESPACES:
                keys = frozenset(item["Name"] for item in metric.get("Dimensions", []))
                yield metric["MetricName"], keys, alarm_name


def test_every_dashboard_and_alarm_metric_is_one_the_code_emits(bundle: list[Any]) -> None:
    code = emitted()
    watched = [*(metric for body in dashboards(bundle) for metric in dashboard_metrics(body)), *alarm_metrics(bundle)]
    assert len(watched) >= 40
    missing = [(name, sorted(keys), where) for name, keys, where in watched if (name, keys) not in code]
    assert missing == []


def test_the_functions_write_to_the_namespace_the_dashboards_read(bundle: list[Any]) -> None:
    root, *nested = bundle
    variables = root["Globals"]["Function"]["Environment"]["Variables"]
    assert text(variables["POWERTOOLS_METRICS_NAMESPACE"]) == "Integrations/${AWS::StackName}"
    providers = [template for template in nested if "Globals" in template]
    assert len(providers) >= 2
    for provider in providers:
        variables = provider["Globals"]["Function"]["Environment"]["Variables"]
        assert text(variables["POWERTOOLS_METRICS_NAMESPACE"]) == "Integrations/${BundleName}"
    for application in resources(root, "AWS::Serverless::Application").values():
        assert text(application["Properties"]["Parameters"]["BundleName"]) == "AWS::StackName"


def test_every_alarm_notifies_the_alarm_topic(bundle: list[Any]) -> None:
    alarms = in_bundle(bundle, "AWS::CloudWatch::Alarm")
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


def test_every_dead_letter_queue_is_alarmed(bundle: list[Any]) -> None:
    queues = in_bundle(bundle, "AWS::SQS::Queue")
    dead_letter = {name for name in queues if name.endswith("DeadLetterQueue")}
    assert len(dead_letter) >= 7
    watched = {
        text(dimension["Value"]).split(".")[0]
        for alarm in in_bundle(bundle, "AWS::CloudWatch::Alarm").values()
        for dimension in alarm["Properties"].get("Dimensions", [])
        if dimension["Name"] == "QueueName"
    }
    assert dead_letter <= watched


def test_the_dashboards_show_every_dead_letter_queue_and_name_real_resources(bundle: list[Any]) -> None:
    shown = set()
    for template in bundle:
        for dashboard in resources(template, "AWS::CloudWatch::Dashboard").values():
            references = set(re.findall(r"\$\{(\w+)(?:\.\w+)?\}", text(dashboard["Properties"]["DashboardBody"])))
            known = set(template["Resources"]) | set(template["Parameters"]) | {"AWS"}
            assert references - known == set()
            shown |= {reference for reference in references if reference.endswith("DeadLetterQueue")}
    assert shown == {name for name in in_bundle(bundle, "AWS::SQS::Queue") if name.endswith("DeadLetterQueue")}


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
def test_each_saved_query_looks_for_a_message_the_code_logs(bundle: list[Any], query: str, logged: str) -> None:
    definition = in_bundle(bundle, "AWS::Logs::QueryDefinition")[query]["Properties"]
    assert f'"{logged}"' in definition["QueryString"]
    sources = "".join(path.read_text() for path in (ROOT / "layers").rglob("seawall/**/*.py"))
    assert f'"{logged}"' in sources


def test_the_request_story_reads_every_function_log_group() -> None:
    # The bundle as one namespace: a provider's outputs (its LogGroups) read as what they name. The core's story
    # query reads the core's and the providers' the root names; a generated provider tells its own.
    bundle = Template(ROOT / "template.yaml")
    stories = [
        query
        for name, query in bundle.of_type("AWS::Logs::QueryDefinition").items()
        if name.endswith("RequestStoryQuery")
    ]
    read = set(
        re.findall(r"\w+FunctionLogGroup", json.dumps([story["Properties"]["LogGroupNames"] for story in stories]))
    )
    assert read == set(bundle.of_type("AWS::Logs::LogGroup"))


def test_no_saved_query_reads_more_log_groups_than_logs_insights_takes() -> None:
    bundle = Template(ROOT / "template.yaml")
    for name, query in bundle.of_type("AWS::Logs::QueryDefinition").items():
        groups = set(re.findall(r"\w+FunctionLogGroup", json.dumps(query["Properties"]["LogGroupNames"])))
        assert 0 < len(groups) <= MAX_LOG_GROUPS, name

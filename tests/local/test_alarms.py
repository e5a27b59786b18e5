"""The template's alarms evaluated against local metrics as CloudWatch evaluates them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from html import escape
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from local.alarms import ALARM, INSUFFICIENT_DATA, OK, AlarmState, evaluate_alarms
from local.gateway import served
from local.metrics import Datapoint, Metric, MetricStore
from local.stack import LocalStack
from local.template import Template
from tests.support.make_run import ROOT

NOW = 1_767_225_600.0  # a whole day: the current period of any length starts here
HITS = Metric.of("Test", "Hits", {"provider": "stripe"})
SIMPLE = {
    "Namespace": "Test",
    "MetricName": "Hits",
    "Dimensions": [{"Name": "provider", "Value": "stripe"}],
    "Statistic": "Sum",
    "Period": 60,
    "EvaluationPeriods": 1,
    "Threshold": 2,
    "ComparisonOperator": "GreaterThanThreshold",
    "TreatMissingData": "notBreaching",
}


def template_of(tmp_path: Path, **alarms: dict[str, Any]) -> Template:
    """A template declaring only these alarms (by logical id), with these properties."""
    path = tmp_path / "template.yaml"
    resources = {
        name: {"Type": "AWS::CloudWatch::Alarm", "Properties": properties} for name, properties in alarms.items()
    }
    path.write_text(json.dumps({"Resources": resources}))  # JSON is YAML
    return Template(path)


def store_with(*points: tuple[float, float]) -> MetricStore:
    """A store holding ``(seconds after NOW, value)`` datapoints of HITS."""
    store = MetricStore()
    store.record(Datapoint(HITS, NOW + offset, value) for offset, value in points)
    return store


def the_alarm(tmp_path: Path, store: MetricStore, now: float = NOW + 30, **properties: Any) -> AlarmState:
    (alarm,) = evaluate_alarms(template_of(tmp_path, TestAlarm={**SIMPLE, **properties}), store, now)
    return alarm


def test_a_simple_alarm_is_in_alarm_while_its_statistic_is_beyond_the_threshold(tmp_path: Path) -> None:
    alarm = the_alarm(tmp_path, store_with((1, 1.0), (2, 1.0), (3, 1.0)))
    assert (alarm.name, alarm.state, alarm.value, alarm.threshold) == ("TestAlarm", ALARM, 3.0, 2.0)
    assert alarm.reason.startswith("Threshold Crossed: 1 out of the last 1 datapoints was greater than the threshold")
    assert alarm.periods == ((NOW - 60, None), (NOW, 3.0))  # the last complete period, and the current one

    not_beyond = the_alarm(tmp_path, store_with((1, 1.0), (2, 1.0)))
    assert (not_beyond.state, not_beyond.value) == (OK, 2.0)
    assert not_beyond.reason.startswith("Threshold Not Crossed: 0 out of the last 1 datapoints")
    # The statistic, the comparison and the threshold are the alarm's.
    at_least = {"ComparisonOperator": "GreaterThanOrEqualToThreshold"}
    assert the_alarm(tmp_path, store_with((1, 1.0), (2, 1.0)), **at_least).state == ALARM
    assert the_alarm(tmp_path, store_with((1, 1.0), (2, 5.0)), Statistic="Maximum", Threshold=4).state == ALARM
    assert the_alarm(tmp_path, store_with((1, 1.0), (2, 5.0)), Statistic="Average", Threshold=4).state == OK


def test_the_last_complete_period_counts_until_the_next_one_completes(tmp_path: Path) -> None:
    store = store_with((1, 3.0))  # in the minute starting at NOW
    assert the_alarm(tmp_path, store, now=NOW + 59).state == ALARM  # the current period
    assert the_alarm(tmp_path, store, now=NOW + 61).state == ALARM  # the last complete one, as CloudWatch sees it
    later = the_alarm(tmp_path, store, now=NOW + 121)
    assert (later.state, later.value) == (OK, None)


def test_datapoints_to_alarm_of_evaluation_periods_must_breach(tmp_path: Path) -> None:
    two_of_three = {"EvaluationPeriods": 3, "DatapointsToAlarm": 2}
    # Periods of a minute: NOW - 180 .. NOW - 60 complete, NOW the current one.
    assert the_alarm(tmp_path, store_with((-59, 3.0)), **two_of_three).state == OK
    assert the_alarm(tmp_path, store_with((-119, 3.0), (1, 3.0)), **two_of_three).state == ALARM
    assert the_alarm(tmp_path, store_with((-179, 3.0), (-59, 3.0)), **two_of_three).state == ALARM  # both complete
    # Three periods apart are never in the same three: not 2 of 3, though 2 of the 4 shown.
    spread = the_alarm(tmp_path, store_with((-179, 3.0), (1, 3.0)), **two_of_three)
    assert spread.state == OK
    assert len(spread.periods) == 4
    # Without DatapointsToAlarm, every one of the EvaluationPeriods.
    assert the_alarm(tmp_path, store_with((-59, 3.0)), EvaluationPeriods=2).state == OK
    assert the_alarm(tmp_path, store_with((-59, 3.0), (1, 3.0)), EvaluationPeriods=2).state == ALARM


def test_missing_data_counts_as_treat_missing_data_says(tmp_path: Path) -> None:
    nothing = MetricStore()
    silent = the_alarm(tmp_path, nothing)  # notBreaching
    assert (silent.state, silent.value) == (OK, None)
    assert "1 missing, treated as notBreaching" in silent.reason
    unknown = the_alarm(tmp_path, nothing, TreatMissingData="missing")
    assert unknown.state == INSUFFICIENT_DATA
    assert unknown.reason.startswith("Insufficient Data: no datapoints in the last 1 periods of 60 s")
    assert the_alarm(tmp_path, nothing, TreatMissingData="ignore").state == INSUFFICIENT_DATA
    assert the_alarm(tmp_path, nothing, TreatMissingData="breaching").state == ALARM  # as CloudWatch: bad
    # Missing is the default; a datapoint not breaching is then OK, the missing periods left out of the count.
    without = {name: value for name, value in SIMPLE.items() if name != "TreatMissingData"}
    (alarm,) = evaluate_alarms(template_of(tmp_path, TestAlarm=without), store_with((1, 1.0)), NOW + 30)
    assert alarm.state == OK
    assert the_alarm(tmp_path, store_with((1, 1.0)), EvaluationPeriods=2, TreatMissingData="breaching").state == ALARM


def test_a_metric_math_alarm_of_the_template_evaluates_its_expression() -> None:
    """StripeErrorRateAlarm: the 5xx share of Stripe's answers, from 10 calls (IF, comparisons, FILL)."""
    template = Template(ROOT / "template.yaml")
    namespace = template.resolve({"Fn::Sub": "Integrations/${AWS::StackName}"})

    def latency(status_class: str) -> Metric:
        dimensions = {"provider": "stripe", "service": "integrations", "status_class": status_class}
        return Metric.of(namespace, "ProviderLatency", dimensions)

    store = MetricStore()
    calls = [("2xx", 7), ("4xx", 1), ("5xx", 1)]
    store.record(Datapoint(latency(kind), NOW + 10, 120.0) for kind, count in calls for _ in range(count))

    def error_rate(template: Template) -> AlarmState:
        (alarm,) = [
            alarm for alarm in evaluate_alarms(template, store, NOW + 30) if alarm.name == "StripeErrorRateAlarm"
        ]
        return alarm

    few = error_rate(template)
    assert (few.state, few.value, few.period) == (OK, 0.0, 300)  # 9 calls: under 10, the share is not looked at
    store.record([Datapoint(latency("5xx"), NOW + 20, 300.0)])
    alarm = error_rate(template)
    assert (alarm.state, alarm.value, alarm.threshold) == (ALARM, 20.0, 10.0)  # 2 of 10; ProviderErrorAlarmPercent
    assert error_rate(Template(ROOT / "template.yaml", {"ProviderErrorAlarmPercent": "25"})).state == OK


def test_an_alarm_that_cannot_be_evaluated_locally_says_why(tmp_path: Path) -> None:
    template = template_of(
        tmp_path,
        Anomaly={**SIMPLE, "ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold"},
        Unknown={
            **{name: value for name, value in SIMPLE.items() if name not in ("Namespace", "MetricName", "Statistic")},
            "Metrics": [
                {
                    "Id": "m1",
                    "ReturnData": False,
                    "MetricStat": {"Metric": {"Namespace": "Test", "MetricName": "Hits"}, "Period": 60, "Stat": "Sum"},
                },
                {"Id": "e1", "Expression": "RATE(m1)", "ReturnData": True},
            ],
        },
        Unbounded={name: value for name, value in SIMPLE.items() if name != "Threshold"},
        Firing=SIMPLE,
    )
    alarms = evaluate_alarms(template, store_with((1, 5.0)), NOW + 30)
    assert [(alarm.name, alarm.state) for alarm in alarms] == [
        ("Firing", ALARM),  # ALARM first
        ("Anomaly", INSUFFICIENT_DATA),
        ("Unbounded", INSUFFICIENT_DATA),
        ("Unknown", INSUFFICIENT_DATA),
    ]
    assert "LessThanLowerOrGreaterThanUpperThreshold" in alarms[1].reason
    assert alarms[2].reason == "Not evaluated locally: Threshold is missing"
    assert alarms[3].reason == "Not evaluated locally: 'RATE' is not supported in a metric math expression locally"


QUEUE_ALARM_TEMPLATE = """
Resources:
  AlarmTestDeadLetterQueue:
    Type: AWS::SQS::Queue
  AlarmTestDeadLetterAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: Messages wait in the dead-letter queue.
      Namespace: AWS/SQS
      MetricName: ApproximateNumberOfMessagesVisible
      Dimensions:
        - Name: QueueName
          Value: !GetAtt AlarmTestDeadLetterQueue.QueueName
      Statistic: Maximum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
"""


@pytest.fixture
def queue_stack(tmp_path: Path, moto_endpoint: str) -> Iterator[tuple[LocalStack, str]]:
    """A stack with a queue and an alarm on its depth, served by a gateway: the stack and the gateway's URL."""
    path = tmp_path / "template.yaml"
    path.write_text(QUEUE_ALARM_TEMPLATE.replace("AlarmTest", f"AlarmTest{uuid.uuid4().hex[:8]}"))
    stack = LocalStack(path, moto_endpoint)
    stack.provision({})
    with served(stack) as url:
        yield stack, url
    stack.stop()


def test_a_queue_alarm_reads_the_depth_sampled_from_moto(queue_stack: tuple[LocalStack, str]) -> None:
    stack, gateway = queue_stack
    (logical,) = stack.template.of_type("AWS::CloudWatch::Alarm")
    (queue,) = stack.template.of_type("AWS::SQS::Queue")

    def alarm() -> dict[str, Any]:
        answer = httpx.get(f"{gateway}/_local/alarms")  # public, and it samples the queues first
        assert answer.status_code == 200
        (found,) = answer.json()["alarms"]
        assert isinstance(found, dict)
        return found

    empty = alarm()
    assert (empty["name"], empty["state"], empty["value"]) == (logical, OK, 0.0)
    boto3.client("sqs").send_message(QueueUrl=stack.template.physical[queue]["Ref"], MessageBody="{}")
    waiting = alarm()
    assert (waiting["state"], waiting["value"], waiting["threshold"]) == (ALARM, 1.0, 0.0)
    assert waiting["description"] == "Messages wait in the dead-letter queue."

    page = httpx.get(f"{gateway}/_local/dashboard").text
    assert "Alarms: 1 of 1 in ALARM" in page
    title = escape(waiting["description"])
    assert f'<tr data-state="ALARM"><td class="state">ALARM</td><td class="name" title="{title}">{logical}</td>' in page


def test_a_reconciliation_that_only_fails_alarms_and_one_run_that_works_clears_it() -> None:
    """StripeSyncFailingAlarm: runs end with their report when refused; every one failing for 30 minutes alarms."""
    template = Template(ROOT / "template.yaml")
    namespace = template.resolve({"Fn::Sub": "Integrations/${AWS::StackName}"})
    failed = Metric.of(namespace, "SyncRunFailed", {"job": "stripe-events", "service": "integrations"})

    def alarm_after(*runs: tuple[float, float]) -> AlarmState:
        store = MetricStore()
        store.record(Datapoint(failed, NOW + offset, value) for offset, value in runs)
        (alarm,) = [a for a in evaluate_alarms(template, store, NOW + 1800 + 30) if a.name == "StripeSyncFailingAlarm"]
        return alarm

    assert alarm_after((60, 1.0), (960, 1.0), (1810, 1.0)).state == ALARM  # two periods of nothing but failures
    assert alarm_after((60, 1.0), (960, 1.0), (1000, 0.0), (1810, 1.0)).state == OK  # a run that worked
    assert alarm_after((1810, 1.0)).state == OK  # one failing period only

"""The local metric store: EMF lines as CloudWatch reads them, and CloudWatch's statistics, SEARCH and math on them."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator

import boto3
import httpx
import pytest
from aws_lambda_powertools.metrics import MetricUnit

from local.metrics import (
    Datapoint,
    Metric,
    MetricStore,
    aggregate,
    evaluate,
    parse_emf,
    parse_search,
    statistic,
)
from local.stack import LocalStack
from seawall.observability import emit
from tests.local.conftest import FIXTURE

# As Powertools prints it in a function's logs (the brief's example, from the repository's test output).
BOOKING_ACCEPTED = (
    '{"_aws":{"Timestamp":1767225600000,"CloudWatchMetrics":[{"Namespace":"Integrations","Dimensions":'
    '[["provider","service"]],"Metrics":[{"Name":"BookingAccepted","Unit":"Count"}]}]},'
    '"provider":"hotelbeds","service":"integrations","BookingAccepted":[1.0]}'
)


def test_an_emf_line_becomes_one_datapoint_per_value_of_its_metric() -> None:
    (point,) = parse_emf(BOOKING_ACCEPTED)
    assert point == Datapoint(
        Metric.of("Integrations", "BookingAccepted", {"service": "integrations", "provider": "hotelbeds"}),
        timestamp=1767225600.0,
        value=1.0,
        unit="Count",
    )


def test_what_the_layer_prints_is_read_back_as_it_was_emitted(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    emit("ProviderLatency", 12.5, MetricUnit.Milliseconds, provider="stripe", status_class="2xx")
    (line,) = capsys.readouterr().out.splitlines()
    (point,) = parse_emf(line)
    # The namespace and service come from the layer's settings (tests/conftest.py sets them).
    dimensions = {"provider": "stripe", "status_class": "2xx", "service": "integrations-test"}
    assert point.metric == Metric.of("IntegrationsTest", "ProviderLatency", dimensions)
    assert (point.value, point.unit) == (12.5, "Milliseconds")


def test_each_dimension_set_is_a_metric_and_each_listed_value_a_datapoint() -> None:
    document = {
        "_aws": {
            "Timestamp": 1767225600000,
            "CloudWatchMetrics": [
                {
                    "Namespace": "App",
                    "Dimensions": [["provider"], ["provider", "region"], []],
                    "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}, {"Name": "Calls"}],
                }
            ],
        },
        "provider": "stripe",
        "region": "eu",
        "Latency": [3.0, 5.0],
        "Calls": 2,
    }
    points = parse_emf(json.dumps(document))
    latency = [(dict(p.metric.dimensions), p.value) for p in points if p.metric.name == "Latency"]
    assert latency == [
        ({"provider": "stripe"}, 3.0),
        ({"provider": "stripe"}, 5.0),
        ({"provider": "stripe", "region": "eu"}, 3.0),
        ({"provider": "stripe", "region": "eu"}, 5.0),
        ({}, 3.0),
        ({}, 5.0),
    ]
    assert {(p.value, p.unit) for p in points if p.metric.name == "Calls"} == {(2.0, "None")}


@pytest.mark.parametrize(
    "line",
    [
        '{"level": "INFO", "message": "provider response", "_aws": "not metadata"}',
        "plain text mentioning _aws",
        BOOKING_ACCEPTED.replace('"provider":"hotelbeds",', ""),  # a dimension with no value
        BOOKING_ACCEPTED.replace("[1.0]", '["1"]'),  # a value that is no number
        BOOKING_ACCEPTED.replace('"hotelbeds"', "7"),  # a dimension value that is no string
        BOOKING_ACCEPTED[:-1],  # cut short
    ],
    ids=["metadata not an object", "not json", "dimension missing", "value not a number", "dimension not text", "cut"],
)
def test_a_line_cloudwatch_would_not_read_as_metrics_yields_nothing(line: str) -> None:
    assert parse_emf(line) == []


def test_the_statistics_are_cloudwatchs() -> None:
    values = [float(value) for value in range(100, 0, -1)]  # 100 .. 1, out of order
    assert {stat: statistic(values, stat) for stat in ("Sum", "SampleCount", "Average", "Maximum", "Minimum")} == {
        "Sum": 5050.0,
        "SampleCount": 100.0,
        "Average": 50.5,
        "Maximum": 100.0,
        "Minimum": 1.0,
    }
    assert (statistic(values, "p50"), statistic(values, "p90"), statistic(values, "p99")) == (50.0, 90.0, 99.0)
    assert statistic([7.0], "p99") == 7.0
    with pytest.raises(ValueError, match="tm99"):
        statistic(values, "tm99")


def test_datapoints_are_aggregated_per_period_aligned_on_the_epoch() -> None:
    points = [(119.0, 1.0), (120.0, 2.0), (150.0, 4.0), (300.0, 8.0), (59.0, 100.0)]
    assert aggregate(points, "Sum", 60, start=60) == {60.0: 1.0, 120.0: 6.0, 300.0: 8.0}  # before start: left out
    assert aggregate(points, "Maximum", 300, start=0) == {0.0: 100.0, 300.0: 8.0}


def store_of(*metrics: Metric) -> MetricStore:
    store = MetricStore()
    store.record(Datapoint(metric, 1000.0, 1.0) for metric in metrics)
    return store


def found(store: MetricStore, expression: str) -> list[Metric]:
    return [series.metric for series in store.find(parse_search(expression).matches)]


def test_a_search_schema_finds_exactly_its_dimension_names_one_series_per_value_set() -> None:
    stripe_2xx = Metric.of("Integrations", "ProviderLatency", {"provider": "stripe", "service": "s", "status": "2xx"})
    stripe_5xx = Metric.of("Integrations", "ProviderLatency", {"provider": "stripe", "service": "s", "status": "5xx"})
    hotelbeds = Metric.of("Integrations", "ProviderLatency", {"provider": "hotelbeds", "service": "s", "status": "2xx"})
    fewer_keys = Metric.of("Integrations", "ProviderLatency", {"provider": "stripe", "service": "s"})
    other_name = Metric.of("Integrations", "BookingAccepted", {"provider": "stripe", "service": "s", "status": "2xx"})
    other_namespace = Metric.of("Other", "ProviderLatency", {"provider": "stripe", "service": "s", "status": "2xx"})
    store = store_of(stripe_2xx, stripe_5xx, hotelbeds, fewer_keys, other_name, other_namespace)

    search = parse_search("SEARCH('{Integrations,provider,service,status} MetricName=\"ProviderLatency\"', 'p99', 60)")
    assert (search.stat, search.period) == ("p99", 60)
    assert set(
        found(store, "SEARCH('{Integrations,status,service,provider} MetricName=\"ProviderLatency\"', 'p99')")
    ) == {
        stripe_2xx,
        stripe_5xx,
        hotelbeds,
    }
    assert found(store, "SEARCH('{Integrations,provider,service}', 'Sum')") == [fewer_keys]
    assert found(store, "SEARCH('{Integrations,provider,service,status} provider=\"hotelbeds\"', 'Sum')") == [hotelbeds]
    assert set(found(store, "SEARCH('MetricName=\"ProviderLatency\" AND status=\"2xx\"', 'Sum')")) == {
        stripe_2xx,
        hotelbeds,
        other_namespace,
    }


def test_an_unquoted_search_term_matches_whole_words_of_any_name_or_value() -> None:
    deployed = Metric.of("AWS/Lambda", "Errors", {"FunctionName": "integrations-prod-StripeWebhookFunction-1AB2"})
    other_stack = Metric.of("AWS/Lambda", "Errors", {"FunctionName": "integrations-dev-StripeWebhookFunction-9ZZ"})
    local = Metric.of("AWS/Lambda", "Errors", {"FunctionName": "StripeWebhookFunction"})
    store = store_of(deployed, other_stack, local)
    assert found(store, "SEARCH('{AWS/Lambda,FunctionName} MetricName=\"Errors\" integrations-prod', 'Sum', 60)") == [
        deployed
    ]
    assert len(found(store, "SEARCH('{AWS/Lambda,FunctionName} webhook', 'Sum')")) == 3  # camel case splits words
    assert found(store, "SEARCH('{AWS/Lambda,FunctionName} FunctionName=dev', 'Sum')") == [other_stack]
    assert found(store, "SEARCH('{AWS/Lambda,FunctionName} FunctionName=\"StripeWebhookFunction\"', 'Sum')") == [local]
    assert found(store, "SEARCH('{AWS/Lambda,FunctionName} FunctionName=\"Stripe\"', 'Sum')") == []  # quoted: exact
    assert found(store, "SEARCH('{AWS/Lambda,FunctionName} prod-integrations', 'Sum')") == []  # words in a row


@pytest.mark.parametrize(
    "expression",
    [
        "SEARCH('{AWS/Lambda,FunctionName} Errors OR Throttles', 'Sum', 60)",
        "SEARCH('{AWS/Lambda,FunctionName} NOT Errors', 'Sum')",
        "SEARCH('{AWS/Lambda,FunctionName} (Errors)', 'Sum')",
        "SEARCH('{AWS/Lambda,FunctionName}', 'IQM')",
        "METRICS()",
    ],
)
def test_a_search_beyond_what_is_supported_locally_is_refused_by_name(expression: str) -> None:
    with pytest.raises(ValueError, match="supported"):
        parse_search(expression)


def test_metric_math_adds_filled_series_and_drops_what_cannot_be_computed() -> None:
    periods = [0.0, 60.0, 120.0]
    series = {"q0": {0.0: 2.0, 60.0: 4.0}, "q1": {60.0: 1.0, 120.0: 0.0}}
    assert evaluate("q0 + q1", series, periods) == {60.0: 5.0}  # only where both have a value
    assert evaluate("100 * (FILL(q0, 0) + FILL(q1, 0)) / 200", series, periods) == {0.0: 1.0, 60.0: 2.5, 120.0: 0.0}
    assert evaluate("q0 / q1", series, periods) == {60.0: 4.0}  # 0 in q1 at 120: no value, as CloudWatch
    assert evaluate("-(1 + 2) * 3", series, periods) == -9.0
    for unsupported in ("RATE(q0)", "q0 + q9", "q0 +", "q0 q1"):
        with pytest.raises(ValueError, match=r"."):
            evaluate(unsupported, series, periods)


def test_metric_math_compares_and_chooses_per_period_with_if() -> None:
    periods = [0.0, 60.0, 120.0]
    calls = {"ok": {0.0: 8.0, 60.0: 1.0}, "failed": {0.0: 2.0, 120.0: 3.0}}
    total = "FILL(ok, 0) + FILL(failed, 0)"
    assert evaluate(f"{total} >= 10", calls, periods) == {0.0: 1.0, 60.0: 0.0, 120.0: 0.0}
    # The template's error rate: the 5xx share once there are 10 calls, else 0 (a division by zero never chosen).
    share = f"IF({total} >= 10, 100 * FILL(failed, 0) / ({total}), 0)"
    assert evaluate(share, calls, periods) == {0.0: 20.0, 60.0: 0.0, 120.0: 0.0}
    assert evaluate("IF(failed > 2, failed)", calls, periods) == {120.0: 3.0}  # no third argument: no value
    assert evaluate("IF(ok != 8, 5, ok)", calls, periods) == {0.0: 8.0, 60.0: 5.0}  # a branch without a value: none
    assert evaluate("(1 < 2) * 3 + (2 == 2)", calls, periods) == 4.0
    for unsupported in ("IF(ok > 1)", "ok > 1 > 0", "ok >"):
        with pytest.raises(ValueError, match=r"."):
            evaluate(unsupported, calls, periods)


def test_the_store_keeps_every_datapoint_recorded_from_many_threads() -> None:
    store = MetricStore()
    metric = Metric.of("Test", "Hits", {"thread": "any"})

    def record() -> None:
        for _ in range(500):
            store.record([Datapoint(metric, 1.0, 1.0)])

    threads = [threading.Thread(target=record) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (series,) = store.find(lambda candidate: candidate == metric)
    assert len(series.points) == 4000


@pytest.fixture
def own_stack(moto_endpoint: str) -> Iterator[LocalStack]:
    """The fixture template's functions with a store of their own (CounterFunction needs no resources)."""
    stack = LocalStack(FIXTURE, moto_endpoint)
    yield stack
    stack.stop()


def test_the_runtime_records_what_a_container_prints_and_each_invocation(own_stack: LocalStack) -> None:
    marker = uuid.uuid4().hex
    line = BOOKING_ACCEPTED.replace("hotelbeds", marker)
    counter = own_stack.function("CounterFunction")
    assert counter.run({"print": line}).error is None
    assert counter.run({"raise": "boom"}).error is not None

    store = own_stack.metrics
    accepted = Metric.of("Integrations", "BookingAccepted", {"provider": marker, "service": "integrations"})
    assert [series.points for series in store.find(lambda metric: metric == accepted)] == [[(1767225600.0, 1.0)]]

    def values(name: str, **dimensions: str) -> list[float]:
        (series,) = store.find(lambda metric: metric == Metric.of("AWS/Lambda", name, dimensions))
        return [value for _, value in series.points]

    function = {"FunctionName": "CounterFunction"}  # what ${CounterFunction} resolves to locally
    assert own_stack.template.resolve({"Fn::Sub": "${CounterFunction}"}) == function["FunctionName"]
    assert values("Invocations", **function) == [1.0, 1.0]
    assert values("Errors", **function) == [0.0, 1.0]
    assert values("Throttles", **function) == [0.0, 0.0]
    assert len(values("Duration", **function)) == 2
    assert values("Invocations") == [1.0, 1.0]  # and for the account and region, without dimensions


def test_moto_reports_each_queues_depth_and_the_age_of_its_oldest_message(moto_endpoint: str) -> None:
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint)
    name = f"depth-{uuid.uuid4().hex}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    for body in ("a", "b", "c"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=600)

    queues = httpx.get(f"{moto_endpoint}/_local/queues").json()
    assert queues[name]["ApproximateNumberOfMessagesVisible"] == 2
    assert queues[name]["ApproximateNumberOfMessagesNotVisible"] == 1
    assert queues[name]["ApproximateAgeOfOldestMessage"] >= 0
    empty = f"empty-{uuid.uuid4().hex}"
    sqs.create_queue(QueueName=empty)
    assert httpx.get(f"{moto_endpoint}/_local/queues").json()[empty] == {
        "ApproximateNumberOfMessagesVisible": 0,
        "ApproximateNumberOfMessagesNotVisible": 0,
        "ApproximateAgeOfOldestMessage": 0,
    }

    store = MetricStore()
    store.record_queues(queues)
    (visible,) = store.find(
        lambda m: m == Metric.of("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": name})
    )
    assert [value for _, value in visible.points] == [2.0]
    (age,) = store.find(lambda m: m == Metric.of("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": name}))
    assert age.unit == "Seconds"

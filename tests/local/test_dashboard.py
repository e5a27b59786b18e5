"""The local dashboard: the template's CloudWatch dashboards drawn from local metrics, seen in a real browser."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from playwright.sync_api import Page, sync_playwright
from standardwebhooks.webhooks import Webhook

from local.dashboard import dashboards
from local.gateway import served
from local.metrics import Datapoint, Metric, MetricStore, widget_data
from local.stack import LocalStack
from local.template import Template
from tests.support.make_run import BANNER_END, ROOT, follow, read_until, stack_state, start, stop

# Debian's chromium (`make unit` installs it); Playwright drives it instead of downloading a browser of its own.
CHROMIUM = Path("/usr/bin/chromium")
NOW = 1_767_225_600.0  # a whole day: periods of any length start here


def test_a_widget_draws_its_metrics_searches_and_math_from_the_store() -> None:
    store = MetricStore()
    calls = {"provider": "hotelbeds", "service": "integrations"}
    for status, count in (("2xx", 3), ("5xx", 1)):
        metric = Metric.of("Integrations", "ProviderLatency", {**calls, "status_class": status})
        store.record(Datapoint(metric, NOW + 30, 100.0 * (index + 1)) for index in range(count))
    latency = ["Integrations", "ProviderLatency", "provider", "hotelbeds", "service", "integrations", "status_class"]
    search = "SEARCH('{Integrations,provider,service,status_class} MetricName=\"ProviderLatency\"', 'p50', 60)"
    properties: dict[str, Any] = {
        "stat": "Sum",
        "period": 60,
        "metrics": [
            [*latency, "2xx", {"id": "ok", "visible": False, "stat": "SampleCount"}],
            [*latency, "5xx", {"id": "failed", "stat": "SampleCount", "label": "5xx"}],
            [{"expression": "FILL(failed, 0)", "label": "5xx, filled"}],
            [{"expression": "100 * FILL(failed, 0) / (FILL(ok, 0) + FILL(failed, 0))", "label": "5xx %", "id": "e1"}],
            [{"expression": search, "label": "p50"}],
            [{"expression": "ANOMALY_DETECTION_BAND(ok)"}],
        ],
    }
    data = widget_data(properties, store, start=NOW, now=NOW + 119)
    assert [(line.label, line.values) for line in data.lines] == [
        ("5xx", {NOW: 1.0}),
        ("5xx, filled", {NOW: 1.0, NOW + 60: 0.0}),  # a value in each period of the range
        ("5xx %", {NOW: 25.0}),  # no calls in the second period: 0 / 0 is no value
        ("p50 hotelbeds integrations 2xx", {NOW: 200.0}),
        ("p50 hotelbeds integrations 5xx", {NOW: 100.0}),
    ]
    assert data.notes == ["'ANOMALY_DETECTION_BAND' is not supported in a metric math expression locally"]


DASHBOARD_TEMPLATE = """
Resources:
  DashboardTestQueue:
    Type: AWS::SQS::Queue
  Dashboard:
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardName: !Sub "${AWS::StackName}-ops"
      DashboardBody: !Sub |
        {"widgets": [{"type": "metric", "properties": {"metrics": [
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "${DashboardTestQueue.QueueName}"],
          ["AWS/Lambda", "Invocations", "FunctionName", "${EchoFunction}"]]}}]}
  Unreadable:
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardBody: "{not json"
"""


def test_a_dashboard_body_is_resolved_against_the_local_stacks_names(tmp_path: Path, moto_endpoint: str) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(DASHBOARD_TEMPLATE)
    stack = LocalStack(path, moto_endpoint)
    stack.provision({})
    (name, body), (unreadable, reason) = dashboards(stack.template)
    assert name == "integrations-local-ops"
    assert isinstance(body, dict)
    queue, function = body["widgets"][0]["properties"]["metrics"]
    assert queue[-1] == stack.template.physical["DashboardTestQueue"]["QueueName"]
    assert function[-1] == "EchoFunction"  # a function's local name: the one the runtime records its invocations under
    assert unreadable == "Unreadable"
    assert isinstance(reason, str)
    assert "DashboardBody is not readable" in reason


@pytest.fixture(scope="module")
def gateway(fixture_stack: LocalStack) -> Iterator[str]:
    with served(fixture_stack) as url:
        yield url


def test_the_gateway_serves_the_local_pages_publicly_and_nothing_else_there(gateway: str) -> None:
    page = httpx.get(f"{gateway}/_local/dashboard")  # unsigned, though the fixture's API wants SigV4
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "declares no AWS::CloudWatch::Dashboard" in page.text
    assert httpx.get(f"{gateway}/items/special").status_code == 200
    metrics = httpx.get(f"{gateway}/_local/metrics").json()["metrics"]
    echo = {"namespace": "AWS/Lambda", "name": "Invocations", "dimensions": {"FunctionName": "EchoFunction"}}
    assert [metric["datapoints"] for metric in metrics if echo.items() <= metric.items()] != [[]]
    assert any(m["namespace"] == "AWS/SQS" for m in metrics)  # the queues, sampled as the page was asked for
    assert httpx.get(f"{gateway}/_local/nothing").status_code == 404
    assert httpx.post(f"{gateway}/_local/dashboard").status_code == 405


def test_the_local_metrics_take_a_run_made_in_another_process(gateway: str) -> None:
    run = MetricStore()
    run.record_emf(
        json.dumps(
            {
                "_aws": {
                    "Timestamp": int(time.time() * 1000),
                    "CloudWatchMetrics": [
                        {"Namespace": "Elsewhere", "Dimensions": [["job"]], "Metrics": [{"Name": "Ran"}]}
                    ],
                },
                "job": "j1",
                "Ran": 1,
            }
        )
    )
    assert httpx.post(f"{gateway}/_local/metrics", json=run.as_json()).status_code == 204
    metrics = httpx.get(f"{gateway}/_local/metrics").json()["metrics"]
    assert [m["dimensions"] for m in metrics if m["namespace"] == "Elsewhere"] == [{"job": "j1"}]
    refused = httpx.post(f"{gateway}/_local/metrics", content=b'{"metrics": [{"name": "half"}]}')
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"


BODY = json.dumps({"type": "invoice.paid", "data": {"invoice_id": "inv_7", "amount": 4200}})


def deliver(gateway: str, secret: str) -> httpx.Response:
    """A Standard Webhooks delivery from the provider ``acme``, signed with ``secret``."""
    webhook_id, moment = f"msg_{uuid.uuid4().hex}", dt.datetime.now(dt.UTC)
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, moment, BODY),
        "Content-Type": "application/json",
    }
    return httpx.post(f"{gateway}/webhooks/acme", content=BODY, headers=headers, timeout=60)


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`make run` with template.yaml, as its users run it: its gateway's URL and its state folder."""
    process: subprocess.Popen[str] = start(tmp_path, ROOT / "template.yaml")
    try:
        banner = read_until(process, BANNER_END)
        follow(process, tmp_path / "stack.log")
        dashboard = re.search(r"(http://127\.0\.0\.1:\d+)/_local/dashboard", banner)
        assert dashboard, banner
        yield dashboard.group(1), tmp_path
    finally:
        stop(process)


def latest_values(page: Page, text: str) -> list[float]:
    """The latest value of each chart line whose legend mentions ``text``."""
    items = page.locator(".legend li", has_text=text)
    return [float(items.nth(index).locator(".latest").inner_text().replace(",", "")) for index in range(items.count())]


def test_make_run_shows_the_deliveries_on_the_templates_dashboards_in_a_browser(
    make_run: tuple[str, Path], tmp_path: Path, record_property: Any
) -> None:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: `make unit` installs it (apt-get install -y chromium)"
    gateway, state_dir = make_run
    secret = json.loads((state_dir / "secrets.json").read_text())["StandardWebhooksSecret"]["providers"]["acme"][0]
    assert [deliver(gateway, secret).status_code for _ in range(3)] == [200, 200, 200]
    assert deliver(gateway, "whsec_" + "A" * 32).status_code == 400  # signed with another secret: rejected
    state = stack_state(state_dir)
    dead_letters = state["resources"]["ProviderEventsDeadLetterQueue"]["QueueUrl"]
    sqs = boto3.client(
        "sqs",
        endpoint_url=state["aws_endpoint"],
        region_name="us-east-1",
        aws_access_key_id="outsider",
        aws_secret_access_key="outsider",
    )
    sqs.send_message(QueueUrl=dead_letters, MessageBody="{}")

    # What the functions printed and the runtime saw, as the store holds it.
    template = Template(ROOT / "template.yaml")
    (receiver,) = [spec for spec in template.functions() if spec.name == "StandardWebhookFunction"]
    namespace = template.environment(receiver)["POWERTOOLS_METRICS_NAMESPACE"]
    metrics = httpx.get(f"{gateway}/_local/metrics").json()["metrics"]

    def total(space: str, name: str, **dimensions: str) -> float:
        return sum(
            value
            for metric in metrics
            if (metric["namespace"], metric["name"]) == (space, name)
            and dimensions.items() <= metric["dimensions"].items()
            for _, value in metric["datapoints"]
        )

    assert total(namespace, "WebhookAccepted", provider="standard-webhooks") == 3
    assert total(namespace, "WebhookRejected", provider="acme") == 1
    assert total("AWS/Lambda", "Invocations", FunctionName="StandardWebhookFunction") == 4
    assert total("AWS/Lambda", "Errors", FunctionName="StandardWebhookFunction") == 0  # a 400 is no function error

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        console_errors: list[str] = []
        page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: console_errors.append(str(error)))
        url = f"{gateway}/_local/dashboard"
        assert page.goto(url) is not None

        names = [name for name, _ in dashboards(template)]
        assert names, "template.yaml declares no dashboard"
        assert page.locator("section h2").all_inner_texts() == names
        assert page.locator(".note").all_inner_texts() == []  # every widget of the template's is drawn locally
        assert any(value > 0 for value in latest_values(page, "standard-webhooks")), "WebhookAccepted not shown"
        assert any(value > 0 for value in latest_values(page, "acme")), "WebhookRejected not shown"
        assert latest_values(page, "ProviderEventsDeadLetterQueue") == [1.0]

        # It redraws itself in place: the old body goes once the next answer is in.
        page.evaluate("document.body.dataset.drawn = 'before'")
        with page.expect_response(url):
            pass
        page.wait_for_function("document.body.dataset.drawn === undefined")
        assert any(value > 0 for value in latest_values(page, "standard-webhooks"))

        screenshot = tmp_path / "dashboard.png"
        page.screenshot(path=screenshot, full_page=True)
        browser.close()
    record_property("screenshot", str(screenshot))
    print(f"dashboard screenshot: {screenshot}")
    assert console_errors == []

"""Operations through `make run`: failures caused from outside, seen in the metrics, the alarms and the dashboard.

The stack runs as its users run it (``python -m local`` with template.yaml)
with two alarm parameters lowered so that a test's handful of failures
crosses them, ``WebhookRejectionAlarmCount=1`` and
``BreakerOpenAlarmMinutes=1``; every other parameter keeps its default.
Everything else is an outside client: HTTP to the gateway (SigV4-signed where
the API wants it), the Stripe sandbox's fault endpoint, boto3 against the
local AWS endpoint, and the gateway's ``/_local/metrics``, ``/_local/alarms``
and ``/_local/dashboard``.

Metrics reach the store when the functions' output is read, a moment after
their answers; every check polls until it holds, then fails with what it last saw.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest

from local.sandboxes.stripe import FIXTURES
from local.template import Template
from tests.support.make_run import BANNER_END, ROOT, follow, outside_client, read_until, stack_state, start, stop
from tests.support.sigv4 import signed_headers
from tests.support.stay import stay

DEADLINE = 60.0  # seconds: far beyond what any check needs, only so that a broken stack fails instead of hanging
T = TypeVar("T")
# The dashboard's alarm rows: state, then name.
ROW = re.compile(r'<tr data-state="(\w+)"><td class="state">\w+</td><td class="name"[^>]*>([^<]+)</td>')


def wait_for(what: str, probe: Callable[[], T], holds: Callable[[T], bool], deadline: float = DEADLINE) -> T:
    """``probe()`` again until ``holds`` accepts what it gives; fails with the last value after ``deadline`` s."""
    give_up = time.monotonic() + deadline
    while True:
        seen = probe()
        if holds(seen):
            return seen
        if time.monotonic() > give_up:
            pytest.fail(f"{what}: not so after {deadline:.0f} s; last seen: {seen!r}")
        time.sleep(0.5)


@dataclass
class Running:
    """The running stack as an outsider reaches it."""

    gateway: str
    state: dict[str, Any]
    namespace: str  # the functions' metrics namespace: Integrations/<stack name>

    def aws(self, service: str) -> Any:
        return outside_client(self.state, service)

    def queue_url(self, name: str) -> str:
        url: str = self.state["resources"][name]["QueueUrl"]
        return url

    def datapoints(self, name: str, **dimensions: str) -> list[tuple[float, float]]:
        """Every datapoint of the stack's metrics called ``name`` that have these dimensions (among others)."""
        metrics = httpx.get(f"{self.gateway}/_local/metrics", timeout=30).raise_for_status().json()["metrics"]
        return [
            (timestamp, value)
            for metric in metrics
            if (metric["namespace"], metric["name"]) == (self.namespace, name)
            and dimensions.items() <= metric["dimensions"].items()
            for timestamp, value in metric["datapoints"]
        ]

    def total(self, name: str, **dimensions: str) -> float:
        return sum(value for _, value in self.datapoints(name, **dimensions))

    def alarm(self, name: str) -> dict[str, Any]:
        answer = httpx.get(f"{self.gateway}/_local/alarms", timeout=30).raise_for_status().json()
        (alarm,) = [alarm for alarm in answer["alarms"] if alarm["name"] == name]
        assert isinstance(alarm, dict)
        return alarm

    def in_alarm(self, name: str) -> dict[str, Any]:
        return wait_for(f"{name} in ALARM", lambda: self.alarm(name), lambda alarm: alarm["state"] == "ALARM")

    def page_states(self) -> list[tuple[str, str]]:
        """The dashboard page's alarm rows, in order: (state, name)."""
        answer = httpx.get(f"{self.gateway}/_local/dashboard", timeout=30).raise_for_status()
        return ROW.findall(answer.text)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    state_dir = tmp_path_factory.mktemp("operations")
    overrides = ["WebhookRejectionAlarmCount=1", "BreakerOpenAlarmMinutes=1"]
    process = start(state_dir, ROOT / "template.yaml", "--parameter-overrides", *overrides)
    try:
        read_until(process, BANNER_END)
        follow(process, state_dir / "stack.log")
        state = stack_state(state_dir)
        namespace = Template(ROOT / "template.yaml").resolve({"Fn::Sub": "Integrations/${AWS::StackName}"})
        yield Running(state["gateway"], state, namespace)
    finally:
        stop(process)


def assert_shown_in_alarm(running: Running, *names: str) -> None:
    """The dashboard page lists these alarms as ALARM, and every ALARM row before the others."""
    rows = running.page_states()
    states = dict((name, state) for state, name in rows)
    assert {name: states.get(name) for name in names} == dict.fromkeys(names, "ALARM"), rows
    order = [state == "ALARM" for state, _ in rows]
    assert order == sorted(order, reverse=True), rows


def test_bad_stripe_signatures_are_counted_and_raise_the_rejections_alarm(running: Running) -> None:
    body = json.dumps({"id": "evt_forged", "object": "event", "type": "customer.created"})
    # A well-formed header, fresh, whose signature matches no secret: reason no-match.
    headers = {"Stripe-Signature": f"t={int(time.time())},v1={'0' * 64}", "Content-Type": "application/json"}
    answers = [
        httpx.post(f"{running.gateway}/webhooks/stripe", content=body, headers=headers, timeout=60) for _ in range(3)
    ]
    assert [answer.status_code for answer in answers] == [400, 400, 400], answers[-1].text

    rejected = wait_for(
        "3 rejections counted",
        lambda: running.total("WebhookRejected", provider="stripe", reason="no-match"),
        lambda count: count >= 3,
    )
    assert rejected == 3
    alarm = running.in_alarm("StripeWebhookRejectionsAlarm")
    # More than WebhookRejectionAlarmCount in five minutes: three rejections put two in one period at least.
    assert alarm["threshold"] == 1.0
    assert_shown_in_alarm(running, "StripeWebhookRejectionsAlarm")


def get_customer(running: Running, customer: str) -> httpx.Response:
    """GET /customers/{id} as an IAM caller signs it."""
    url = f"{running.gateway}/customers/{customer}"
    return httpx.get(url, headers=signed_headers("GET", url), timeout=60)


def circuit_open(answer: httpx.Response) -> bool:
    return answer.status_code == 503 and str(answer.json().get("type", "")).endswith(":circuit-open")


def test_stripe_failing_opens_its_breaker_and_raises_the_breaker_and_error_rate_alarms(running: Running) -> None:
    sandbox = running.state["environment"]["STRIPE_API_BASE"]
    httpx.post(f"{sandbox}/_sandbox/faults", json={"queue": [{"status": 500}] * 300}, timeout=10).raise_for_status()
    try:
        answers: list[httpx.Response] = []

        def call() -> httpx.Response:
            answers.append(get_customer(running, FIXTURES["customer"]["id"]))
            return answers[-1]

        # Each call retries Stripe's 500s with backoff before it fails: more time than one check needs.
        wait_for("GET /customers answered 503 with the circuit open", call, circuit_open, deadline=3 * DEADLINE)
    finally:
        httpx.post(f"{sandbox}/_sandbox/faults", json={}, timeout=10).raise_for_status()
    assert {answer.status_code for answer in answers[:-1]} <= {502, 503}, [answer.text for answer in answers]

    wait_for(
        "the breaker's opening and refusals counted",
        lambda: (
            running.total("CircuitTransition", provider="stripe", to_state="open"),
            running.total("CircuitRefused", provider="stripe"),
        ),
        lambda counts: counts[0] >= 1 and counts[1] >= 1,
    )
    assert running.in_alarm("StripeBreakerOpenAlarm")["threshold"] == 0.0

    # The 5xx share rule: in a 5-minute period with at least 10 calls, more than ProviderErrorAlarmPercent 5xx.
    # The breaker opened after 10 failed calls, but they may straddle a period boundary (then no period has 10).
    def rule_and_alarm() -> tuple[bool, dict[str, Any]]:
        alarm = running.alarm("StripeErrorRateAlarm")
        calls = Counter[tuple[float, bool]]()
        for status_class in ("2xx", "4xx", "5xx"):
            for timestamp, _ in running.datapoints("ProviderLatency", provider="stripe", status_class=status_class):
                calls[(timestamp - timestamp % alarm["period"], status_class == "5xx")] += 1
        met = False
        for period, _ in alarm["periods"]:
            total = calls[(period, True)] + calls[(period, False)]
            met |= total >= 10 and 100 * calls[(period, True)] / total > alarm["threshold"]
        return met, alarm

    met, alarm = wait_for(
        "StripeErrorRateAlarm as the 5xx share rule says",
        rule_and_alarm,
        lambda seen: seen[1]["state"] == ("ALARM" if seen[0] else "OK"),
    )
    assert len(running.datapoints("ProviderLatency", provider="stripe", status_class="5xx")) >= 10, alarm
    assert_shown_in_alarm(running, "StripeBreakerOpenAlarm", *(["StripeErrorRateAlarm"] if met else []))


def test_a_poison_message_fails_and_a_dead_letter_raises_its_alarm(running: Running) -> None:
    sqs = running.aws("sqs")
    sqs.send_message(QueueUrl=running.queue_url("StripeEventsQueue"), MessageBody="this is not a Stripe event")
    wait_for(
        "the processor's failure counted",
        lambda: running.total("RecordFailed", processor="stripe-events"),
        lambda count: count >= 1,
    )

    sqs.send_message(QueueUrl=running.queue_url("StripeEventsDeadLetterQueue"), MessageBody="{}")
    alarm = running.in_alarm("StripeEventsDeadLetterAlarm")
    # The depth sampled from moto: this message, and the poison one once its fifth receive failed (locally its
    # retries come back after 2, 4, 8 and 16 s, so it may be there already).
    assert alarm["value"] in (1.0, 2.0), alarm
    assert alarm["threshold"] == 0.0
    assert_shown_in_alarm(running, "StripeEventsDeadLetterAlarm")


def search_hotels(running: Running, days_ahead: int) -> httpx.Response:
    """POST /hotels/availability as an IAM caller signs it (a search takes no Idempotency-Key)."""
    url = f"{running.gateway}/hotels/availability"
    body = json.dumps({**stay(days_ahead), "rooms": [{"adults": 2}], "hotels": [1]})
    headers = {"Content-Type": "application/json"}
    return httpx.post(url, content=body, headers={**headers, **signed_headers("POST", url, body.encode(), headers)})


def test_hotelbeds_refusing_the_signature_then_saying_its_quota_is_spent_raise_their_alarms(running: Running) -> None:
    # What Hotelbeds says, not what we counted: a clock 400 s off, then the key's day spent by another system.
    with httpx.Client(base_url=running.state["environment"]["HOTELBEDS_API_BASE"], timeout=30) as hotelbeds:
        hotelbeds.post("/_sandbox/faults", json={"clock_offset": 400}).raise_for_status()
        assert search_hotels(running, 100).status_code == 502
        running.in_alarm("HotelbedsCredentialsAlarm")
        hotelbeds.post("/_sandbox/faults", json={"daily_quota": 0}).raise_for_status()
        refused = search_hotels(running, 101)
        assert refused.status_code == 429, refused.text
        assert 0 < int(refused.headers["Retry-After"]) <= 86_400  # until the quota resets at midnight UTC
        running.in_alarm("HotelbedsQuotaExhaustedAlarm")
    assert running.total("ProviderCredentialsRefused", provider="hotelbeds") >= 1
    assert_shown_in_alarm(running, "HotelbedsCredentialsAlarm", "HotelbedsQuotaExhaustedAlarm")

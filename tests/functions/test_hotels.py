"""Hotels through the gateway, the worker's queue and the scheduled jobs, as callers and schedules use them.

Each test runs the real template as a stack of its own with a Hotelbeds
sandbox of its own, so what the sandbox counts (bookings per clientReference,
requests past its quota) is that test's alone.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from local.aws import MotoServer, aws_client
from local.eventsource import QueuePoller
from local.gateway import Gateway
from local.httpserver import ServedOnThread
from local.sandboxes.hotelbeds import HotelbedsSandbox
from local.stack import LocalStack
from local.upstash import UpstashEndpoint
from seawall.providers.hotelbeds.bookings import MAX_UNSENT_SECONDS, QUOTA_WAIT_SECONDS
from seawall.providers.hotelbeds.errors import seconds_to_quota_reset
from tests.support.sigv4 import SECOND_PRINCIPAL, signed_headers
from tests.support.stack import ROOT, sandbox_environment
from tests.support.stay import stay

SEARCH = {**stay(), "rooms": [{"adults": 2}], "hotels": [1, 2, 3]}


@dataclass
class HotelStack:
    """The template with a Hotelbeds sandbox of its own, its gateway at ``api`` and the booking worker's queue."""

    stack: LocalStack
    api: str
    hotelbeds: HotelbedsSandbox
    worker: QueuePoller

    def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, key: str | None = None
    ) -> httpx.Response:
        """One signed request, as a caller with IAM credentials sends it."""
        url = f"{self.api}{path}"
        content = json.dumps(body).encode() if body is not None else b""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if key is not None:
            headers["Idempotency-Key"] = key
        return httpx.request(
            method, url, content=content, headers=signed_headers(method, url, content, headers), timeout=30
        )

    def resolve(self) -> dict[str, Any]:
        """One run of the in-doubt job."""
        report: dict[str, Any] = self.stack.function("HotelBookingsResolveFunction").invoke({})
        return report


@pytest.fixture
def hotel_stack(
    moto_server: MotoServer,
    seeded_secrets: dict[str, Any],
    sandboxes: dict[str, ServedOnThread],
    upstash_endpoint: UpstashEndpoint,
) -> Iterator[Callable[..., HotelStack]]:
    """Builds a stack with ``settings`` (environment variables) and a sandbox allowing ``sandbox_quota`` a day.

    ``backend`` is the StateBackend: Upstash leaves moto (which serves one request at a time) to the tables.
    """
    built: list[tuple[HotelStack, Gateway]] = []

    def build(sandbox_quota: int = 1_000_000, backend: str = "dynamodb", **settings: str) -> HotelStack:
        credentials = seeded_secrets["HotelbedsSecret"]
        hotelbeds = HotelbedsSandbox({credentials["api_key"]: credentials["secret"]}, daily_quota=sandbox_quota)
        hotelbeds.start()
        environment = {**sandbox_environment({**sandboxes, "hotelbeds": hotelbeds}), **settings}
        overrides = {"AWS::StackName": f"hotels-{uuid.uuid4().hex[:8]}", "StateBackend": backend}
        stack = LocalStack(ROOT / "template.yaml", moto_server.endpoint, overrides, environment)
        upstash = {"url": upstash_endpoint.url, "token": upstash_endpoint.token}
        stack.provision({**seeded_secrets, "UpstashSecret": upstash}, moto_server.iam)
        gateway = Gateway(stack, port=0)
        threading.Thread(target=gateway.serve_forever, daemon=True).start()
        worker = QueuePoller(stack, "HotelBookingWorkerFunction", "HotelBookingsQueue", 1)
        hotel = HotelStack(stack, f"http://127.0.0.1:{gateway.port}", hotelbeds, worker)
        built.append((hotel, gateway))
        return hotel

    yield build
    for hotel, gateway in built:
        gateway.shutdown()
        hotel.stack.stop()
        hotel.hotelbeds.stop()


def bookable_rate(hotel: HotelStack) -> dict[str, Any]:
    found = hotel.call("POST", "/hotels/availability", SEARCH)
    assert found.status_code == 200, found.text
    rates = [rate for h in found.json()["hotels"] for room in h["rooms"] for rate in room["rates"]]
    return next(rate for rate in rates if rate["rate_type"] == "BOOKABLE")


def booking_request(rate: dict[str, Any], name: str = "Ada") -> dict[str, Any]:
    return {
        "holder": {"name": name, "surname": "Lovelace"},
        "rooms": [
            {
                "rate_key": rate["rate_key"],
                "rate_type": rate["rate_type"],
                "guests": [
                    {"name": name, "surname": "Lovelace"},
                    {"type": "CH", "name": "Bo", "surname": "L", "age": 7},
                ],
            }
        ],
    }


def test_a_search_is_validated_before_any_quota_is_spent(hotel_stack: Callable[..., HotelStack]) -> None:
    hotel = hotel_stack()
    bad = [
        {**SEARCH, "check_in": "2020-01-01"},
        {**SEARCH, "check_in": "2035-06-01T00:00:00+14:00"},  # a date, not a moment: a zone moves it
        {**SEARCH, "check_in": "20350601"},
        {**SEARCH, "check_out": SEARCH["check_in"]},
        {**SEARCH, **stay(nights=44)},
        {**SEARCH, **stay(days_ahead=400)},  # beyond the booking window
        {**SEARCH, "rooms": []},
        {**SEARCH, "rooms": [{"adults": 1}] * 10},
        {**SEARCH, "rooms": [{"adults": 1, "children_ages": [18]}]},
        {**SEARCH, "destination": "PMI"},  # and hotels: one or the other
        {**SEARCH, "hotels": ["1"]},
        {**SEARCH, "hotels": [10**40]},
        {**SEARCH, "rooms": [{"adults": True}]},
        {key: value for key, value in SEARCH.items() if key != "hotels"},
        # 2,000 hotels x 9 distinct rooms: an answer of about 27 MB, over what Lambda can return.
        {
            **SEARCH,
            "hotels": list(range(1, 2001)),
            "rooms": [{"adults": adults} for adults in range(1, 9)] + [{"adults": 1, "children_ages": [5]}],
        },
    ]
    for body in bad:
        answer = hotel.call("POST", "/hotels/availability", body)
        assert answer.status_code == 422, body
        assert answer.headers["Content-Type"] == "application/problem+json"
    too_many = hotel.call("POST", "/hotels/availability", bad[-1]).json()
    assert "at most 500 hotel and distinct room pairs (2000 hotels x 9 distinct rooms here)" in json.dumps(too_many)
    assert hotel.hotelbeds.fault_report()["requests"] == 0
    found = hotel.call("POST", "/hotels/availability", {**SEARCH, "hotels": None, "destination": "PMI"})
    assert found.status_code == 200
    assert all(h["destination_code"] == "PMI" for h in found.json()["hotels"])
    assert hotel.call("POST", "/hotels/availability", SEARCH, key="k").status_code == 200  # a key is ignored


def test_a_booking_is_accepted_then_confirmed_and_cancelled_and_each_caller_sees_only_their_own(
    hotel_stack: Callable[..., HotelStack],
) -> None:
    hotel = hotel_stack()
    request = booking_request(bookable_rate(hotel))
    key = str(uuid.uuid4())
    accepted = hotel.call("POST", "/hotel-bookings", request, key=key)
    assert accepted.status_code == 202
    assert accepted.headers["Location"] == f"/hotel-bookings/{accepted.json()['id']}"  # the path the caller used
    location = f"{hotel.api}{accepted.headers['Location']}"
    assert accepted.json()["status"] == "pending"
    again = hotel.call("POST", "/hotel-bookings", request, key=key)
    assert (again.status_code, again.json()) == (202, accepted.json())
    assert hotel.call("POST", "/hotel-bookings", {**request, "remark": "other"}, key=key).status_code == 422
    path = httpx.URL(location).path
    assert hotel.call("DELETE", path).status_code == 409  # not confirmed yet: nothing to cancel
    hotel.worker.drain()
    confirmed = hotel.call("GET", path).json()
    assert confirmed["status"] == "confirmed"
    assert confirmed["reference"].startswith("102-")
    assert confirmed["currency"] == "EUR"
    assert confirmed["total_net"] == request["rooms"][0]["rate_key"].rsplit("@", 1)[1]
    assert confirmed["cancellation_policies"]
    other = httpx.get(
        f"{hotel.api}{path}",
        headers=signed_headers("GET", f"{hotel.api}{path}", credentials=SECOND_PRINCIPAL),
    )
    assert other.status_code == 404
    cancelled = hotel.call("DELETE", path)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert hotel.call("DELETE", path).json() == cancelled.json()
    assert hotel.hotelbeds.booking_report()["by_client_reference"] == {confirmed["client_reference"]: 1}
    assert hotel.call("GET", "/hotel-bookings/" + "0" * 32).status_code == 404
    wrong = hotel.call("PUT", path, {})
    assert (wrong.status_code, wrong.headers["Allow"]) == (405, "DELETE, GET")


def test_two_hundred_bookings_with_lost_answers_and_timeouts_each_end_once(
    hotel_stack: Callable[..., HotelStack],
) -> None:
    # Answers lost after the booking was made, answers slower than the client waits, 5xx before and after
    # booking, resets: a third of the sends. The worker waits 0.5 s for an answer; the sandbox never takes
    # more than 1 s, so 1.5 s after a send ended without an answer, a booking it made is in its list.
    hotel = hotel_stack(backend="upstash", HOTELBEDS_TIMEOUT_SECONDS="0.5", HOTELBEDS_BOOKING_SETTLE_SECONDS="1.5")
    rate = bookable_rate(hotel)
    hotel.hotelbeds.configure_faults(
        {
            "rules": [
                {
                    "method": "POST",
                    "path": "/hotel-api/1.0/bookings",
                    "lost": 0.1,
                    "slow": 0.06,
                    "slow_seconds": 1,
                    "error_after": 0.06,
                    "status": 0.06,
                    "reset": 0.05,
                }
            ]
        }
    )
    keys = [str(uuid.uuid4()) for _ in range(160)]
    requests = keys + random.sample(keys, 40)  # 200 requests; 40 keys sent twice
    random.shuffle(requests)
    stop = threading.Event()
    hotel.worker.start(stop)  # the worker runs while callers book, as in Lambda

    def book(key: str) -> dict[str, Any]:
        for _ in range(20):
            answer = hotel.call("POST", "/hotel-bookings", booking_request(rate, key[:8]), key=key)
            if answer.status_code == 202:
                return dict(answer.json())
            # In progress, throttled, a store or the queue briefly away: a client comes back with the same key.
            assert answer.status_code in (409, 429) or answer.status_code >= 500, answer.text
            time.sleep(min(1.0, float(answer.headers.get("Retry-After", "1"))))
        raise AssertionError(f"{key} never accepted")

    try:
        with ThreadPoolExecutor(8) as pool:
            accepted = list(pool.map(book, requests))
        hotel.worker.drain(120, concurrently=True)
    finally:
        stop.set()
    ids = {answer["id"]: answer["client_reference"] for answer in accepted}
    assert len(ids) == len(keys)
    for _ in range(10):  # the in-doubt job's runs, as its schedule makes them, until nothing is left open
        report = hotel.resolve()
        if not any(report.get(left, 0) for left in ("in-doubt", "not-reached", "errored")):
            break
        time.sleep(1.5)  # the settle time
    assert not any(report.get(left, 0) for left in ("in-doubt", "not-reached", "errored")), report
    statuses: Counter[str] = Counter()
    made = hotel.hotelbeds.booking_report()["by_client_reference"]
    for booking_id, client_reference in ids.items():
        status = hotel.call("GET", f"/hotel-bookings/{booking_id}").json()
        statuses[status["status"]] += 1
        # Exactly once: a confirmed booking exists once at Hotelbeds, a failed one not at all.
        assert made.get(client_reference, 0) == (1 if status["status"] == "confirmed" else 0), status
    assert set(statuses) <= {"confirmed", "failed"}
    assert statuses["confirmed"] >= 150, statuses
    faults = hotel.hotelbeds.fault_report()
    assert faults["requests"] > len(keys)  # the faults did happen: look-ups and second sends
    assert max(made.values()) == 1


def test_quota_spent_callers_get_429_and_hotelbeds_sees_nothing_past_its_quota(
    hotel_stack: Callable[..., HotelStack],
) -> None:
    # Ten a day: the searches' lane is five (one kept for cancellations, two for bookings taken, two for new ones).
    hotel = hotel_stack(sandbox_quota=10, HOTELBEDS_DAILY_QUOTA="10", HOTELBEDS_AVAILABILITY_CACHE_SECONDS="0")
    answers = [hotel.call("POST", "/hotels/availability", {**SEARCH, "hotels": [n]}) for n in range(1, 9)]
    assert [answer.status_code for answer in answers] == [200] * 5 + [429] * 3
    for refused in answers[5:]:
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert int(refused.headers["Retry-After"]) == pytest.approx(seconds_to_quota_reset(), abs=10)
    faults = hotel.hotelbeds.fault_report()
    assert (faults["used_today"], faults["over_quota"]) == (5, 0)


def test_a_key_spent_elsewhere_stops_callers_after_one_403_and_bookings_are_refused_or_wait_for_the_reset(
    hotel_stack: Callable[..., HotelStack],
) -> None:
    # Another system shares the key: the sandbox allows 3 today, our limiter would allow 50.
    hotel = hotel_stack(sandbox_quota=3, HOTELBEDS_DAILY_QUOTA="50", HOTELBEDS_AVAILABILITY_CACHE_SECONDS="0")
    rate = bookable_rate(hotel)
    assert hotel.call("POST", "/hotels/availability", {**SEARCH, "hotels": [5]}).status_code == 200
    assert hotel.call("POST", "/hotels/availability", {**SEARCH, "hotels": [6]}).status_code == 200
    spent = hotel.call("POST", "/hotels/availability", {**SEARCH, "hotels": [7]})
    assert spent.status_code == 429
    assert int(spent.headers["Retry-After"]) == pytest.approx(seconds_to_quota_reset(), abs=10)
    assert hotel.call("POST", "/hotels/availability", {**SEARCH, "hotels": [8]}).status_code == 429
    accepted = hotel.call("POST", "/hotel-bookings", booking_request(rate), key=str(uuid.uuid4()))
    if seconds_to_quota_reset() > MAX_UNSENT_SECONDS:  # its rate would go stale before the reset: refused now
        assert accepted.status_code == 503, accepted.text
        assert accepted.json()["type"].endswith(":quota-spent")
        assert int(accepted.headers["Retry-After"]) == pytest.approx(seconds_to_quota_reset(), abs=10)
    else:  # taken, and left for the reset
        assert accepted.status_code == 202
        hotel.worker.poll_once()
        # Far from the reset its message is taken off the queue (not spending its receives on the way to the
        # dead-letter queue: the in-doubt job books it); minutes from it, the message comes back after the reset.
        assert hotel.worker.empty() is (seconds_to_quota_reset() >= QUOTA_WAIT_SECONDS)
        assert hotel.call("GET", f"/hotel-bookings/{accepted.json()['id']}").json()["status"] == "pending"
    faults = hotel.hotelbeds.fault_report()
    assert faults["over_quota"] == 1  # one 403, then nothing reached the sandbox
    assert hotel.hotelbeds.booking_report()["bookings"] == []


def test_the_content_job_takes_only_its_share_of_the_daily_quota_and_resumes_the_next_day(
    hotel_stack: Callable[..., HotelStack], moto_endpoint: str
) -> None:
    # A key allowing 12 requests a day (4 in the searches' lane, which the job shares), the job a sixth of them:
    # two pages of the sandbox's 250 hotels today, never more, and the searches keep the rest.
    hotel = hotel_stack(HOTELBEDS_DAILY_QUOTA="12", SYNC_QUOTA_SHARE="0.17")  # 2 requests a day for the job
    job = hotel.stack.function("HotelContentSyncFunction")
    first = job.invoke({})
    assert (first["outcome"], first["pages"], first["records"], first["cursor"]) == ("throttled", 2, 200, "201")
    again = job.invoke({})
    assert (again["outcome"], again["pages"]) == ("throttled", 0)  # the job's share is spent for today
    assert hotel.hotelbeds.fault_report()["requests"] == 2
    assert hotel.call("POST", "/hotels/availability", SEARCH).status_code == 200  # the searches' share is left
    table = hotel.stack.template.physical["HotelsTable"]["Ref"]
    dynamodb = aws_client("dynamodb", moto_endpoint)
    stored = dynamodb.scan(TableName=table, Select="COUNT")["Count"]
    assert stored == 200
    item = dynamodb.get_item(TableName=table, Key={"code": {"N": "7"}})["Item"]
    assert item["name"]["S"] == "Sandbox Hotel 7"


def test_the_content_job_walks_every_page_and_starts_over_after_a_full_pass(
    hotel_stack: Callable[..., HotelStack], moto_endpoint: str
) -> None:
    hotel = hotel_stack()
    job = hotel.stack.function("HotelContentSyncFunction")
    done = job.invoke({})
    assert (done["outcome"], done["pages"], done["records"], done["cursor"]) == ("caught-up", 3, 250, "1")
    table = hotel.stack.template.physical["HotelsTable"]["Ref"]
    assert aws_client("dynamodb", moto_endpoint).scan(TableName=table, Select="COUNT")["Count"] == 250
    assert job.invoke({})["records"] == 250  # the next pass, from the first hotel again


def test_a_content_run_that_hotelbeds_fails_ends_with_its_report_and_the_next_resumes(
    hotel_stack: Callable[..., HotelStack],
) -> None:
    """Hotelbeds failing every call: runs end provider-error, then circuit-open; none is a function error."""
    hotel = hotel_stack(HOTELBEDS_BREAKER_OPEN_SECONDS="2")
    job = hotel.stack.function("HotelContentSyncFunction")
    hotel.hotelbeds.configure_faults({"rules": [{"path": "/hotel-content-api/1.0/hotels", "status": 1.0}]})
    reports = [job.invoke({}) for _ in range(6)]  # invoke raises on a function error
    hotel.hotelbeds.configure_faults({})
    outcomes = {report["outcome"] for report in reports}
    assert outcomes <= {"provider-error", "circuit-open"}, reports
    assert "circuit-open" in outcomes
    assert {report["error"] for report in reports} <= {"IntegrationError: hotelbeds", "CircuitOpenError: hotelbeds"}
    time.sleep(2.5)  # the breaker lets a probe through; Hotelbeds is back
    done = job.invoke({})
    assert (done["outcome"], done["records"]) == ("caught-up", 250)


def test_a_booking_is_validated_before_it_is_stored(hotel_stack: Callable[..., HotelStack]) -> None:
    hotel = hotel_stack()
    rate = bookable_rate(hotel)
    good = booking_request(rate)
    room = good["rooms"][0]
    bad = [
        {**good, "holder": {"name": "Ada\u202e", "surname": "L"}},  # a bidirectional override
        {**good, "holder": {"name": "A\nB", "surname": "L"}},
        {**good, "holder": {"name": "A" * 51, "surname": "L"}},
        {**good, "rooms": [{**room, "guests": [{"type": "CH", "name": "Bo", "surname": "L"}]}]},  # no age
        {**good, "rooms": [{**room, "guests": [{"type": "CH", "name": "Bo", "surname": "L", "age": 19}]}]},
        {**good, "rooms": [{**room, "guests": [{"name": "Ada", "surname": "L", "age": 12}]}]},  # an adult of 12
        {**good, "rooms": [{**room, "guests": [{"name": "Ada", "surname": "L", "room": "1"}]}]},
        {**good, "rooms": []},
        {**good, "remark": "a\u0000b"},
        {**good, "price": 1},
    ]
    for body in bad:
        answer = hotel.call("POST", "/hotel-bookings", body, key=str(uuid.uuid4()))
        assert answer.status_code == 422, body
    adult = {**good, "rooms": [{**room, "guests": [{"name": "Ada", "surname": "L", "age": 30}]}]}
    assert hotel.call("POST", "/hotel-bookings", adult, key=str(uuid.uuid4())).status_code == 202


def test_one_booking_that_keeps_failing_does_not_hold_up_the_in_doubt_job(
    hotel_stack: Callable[..., HotelStack],
) -> None:
    hotel = hotel_stack()
    found = hotel.call("POST", "/hotels/availability", SEARCH).json()
    recheck = next(
        r for h in found["hotels"] for room in h["rooms"] for r in room["rates"] if r["rate_type"] == "RECHECK"
    )
    stuck = hotel.call("POST", "/hotel-bookings", booking_request(recheck), key=str(uuid.uuid4()))
    fine = hotel.call("POST", "/hotel-bookings", booking_request(bookable_rate(hotel), "Bea"), key=str(uuid.uuid4()))
    assert stuck.status_code == fine.status_code == 202
    hotel.hotelbeds.configure_faults({"rules": [{"path": "/hotel-api/1.0/checkrates", "status": 1.0}]})
    report = hotel.resolve()  # the worker never ran: both wait for the job, the stuck one oldest
    assert (report["errored"], report["confirmed"]) == (1, 1), report
    assert hotel.call("GET", f"/hotel-bookings/{fine.json()['id']}").json()["status"] == "confirmed"
    assert hotel.call("GET", f"/hotel-bookings/{stuck.json()['id']}").json()["status"] == "pending"

"""Hotel bookings through `make run`: a confirmation 130 s late booked once; the quota's lanes.

The stack runs with the template's defaults (``HotelbedsBookingSettleSeconds`` 180, the client's 60 s
timeout, ``HotelbedsDailyQuota`` 50);
the Hotelbeds sandbox answers the booking 130 s after it was sent, having made it then. The client
gives up at 60 s; nothing is looked up or sent again until 180 s after the send began, when the
look-up finds the booking. Bookings made twice by a confirmation later than the settle time, and the
audit that cancels the extra one, are in tests/providers/hotelbeds/test_bookings.py (over HTTP, in
seconds) and tests/model/test_hotelbeds_bookings.py (random schedules, simulated time).

Then, with the template's daily quota of 50, searches spend their lane until they are refused for the
day, new bookings theirs until one more is refused at once (503) rather than left unsent, and the
customer can still cancel from the cancellations' reserve.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from seawall.providers.hotelbeds.bookings import MAX_UNSENT_SECONDS
from seawall.providers.hotelbeds.errors import seconds_to_quota_reset
from tests.support.make_run import BANNER_END, ROOT, follow, read_until, stack_state, start, stop
from tests.support.sigv4 import signed_headers
from tests.support.stay import stay

LATE_SECONDS = 130
BOOKINGS = "/hotel-api/1.0/bookings"
SEARCH = {**stay(nights=2), "rooms": [{"adults": 2}], "hotels": [1]}


@dataclass
class Running:
    gateway: str
    hotelbeds: httpx.Client

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        """An IAM caller's request (SigV4-signed), with an Idempotency-Key of its own for a POST."""
        url = f"{self.gateway}{path}"
        content = b"" if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if method == "POST":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        headers = {**headers, **signed_headers(method, url, content, headers)}
        return httpx.request(method, url, content=content, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    state_dir = tmp_path_factory.mktemp("hotel-bookings")
    # An evaluation key's day (the template's default; make run's own is 10,000), for the quota's lanes.
    process = start(state_dir, ROOT / "template.yaml", "--parameter-overrides", "HotelbedsDailyQuota=50")
    try:
        read_until(process, BANNER_END)
        follow(process, state_dir / "stack.log")
        state = stack_state(state_dir)
        with httpx.Client(base_url=state["environment"]["HOTELBEDS_API_BASE"], timeout=30) as hotelbeds:
            yield Running(state["gateway"], hotelbeds)
    finally:
        stop(process)


def test_a_confirmation_130_s_after_the_send_is_booked_once(running: Running) -> None:
    found = running.call("POST", "/hotels/availability", SEARCH)
    assert found.status_code == 200, found.text
    rate = next(
        rate for room in found.json()["hotels"][0]["rooms"] for rate in room["rates"] if rate["rate_type"] == "BOOKABLE"
    )
    # make run books a sample booking at start (events/hotelbeds/hotel_bookings_create/post.json):
    # the late answer is ours.
    started = time.monotonic()
    while not running.hotelbeds.get("/_sandbox/bookings").json()["bookings"]:
        assert time.monotonic() - started < 60, "the sample booking was never made"
        time.sleep(0.5)
    late = {"kind": "slow", "seconds": LATE_SECONDS, "method": "POST", "path": BOOKINGS}
    running.hotelbeds.post("/_sandbox/faults", json={"queue": [late]}).raise_for_status()
    booking = {
        "holder": {"name": "Late", "surname": "Confirmation"},
        "rooms": [{"rate_key": rate["rate_key"], "guests": [{"name": "Late", "surname": "Confirmation"}]}],
    }
    accepted = running.call("POST", "/hotel-bookings", booking)
    assert accepted.status_code == 202, accepted.text
    sent = time.monotonic()
    location = accepted.headers["Location"]
    while (status := running.call("GET", location).json())["status"] == "pending":
        assert time.monotonic() - sent < 400, status
        time.sleep(5)
    assert status["status"] == "confirmed", status
    assert time.monotonic() - sent >= LATE_SECONDS  # confirmed by the look-up, after the late booking was made
    made = running.hotelbeds.get("/_sandbox/bookings").json()
    ours = [booking for booking in made["bookings"] if booking["clientReference"] == status["client_reference"]]
    assert [(booking["reference"], booking["status"]) for booking in ours] == [(status["reference"], "CONFIRMED")]


def booked(running: Running, rate_key: str) -> dict[str, Any]:
    """A booking taken (202) and, once the worker is done with it, as its caller reads it."""
    booking = {
        "holder": {"name": "Lane", "surname": "Test"},
        "rooms": [{"rate_key": rate_key, "guests": [{"name": "L", "surname": "T"}]}],
    }
    accepted = running.call("POST", "/hotel-bookings", booking)
    if accepted.status_code != 202:
        return {
            "status_code": accepted.status_code,
            "retry_after": accepted.headers.get("Retry-After"),
            **accepted.json(),
        }
    until = time.monotonic() + 30
    while (status := running.call("GET", accepted.headers["Location"]).json())["status"] == "pending":
        if time.monotonic() > until:  # the worker cannot send it now: the lane is spent
            break
        time.sleep(0.5)
    return {"status_code": 202, **status}


def test_searches_spend_only_their_lane_and_a_customer_can_still_cancel(running: Running) -> None:
    # HotelbedsDailyQuota 50: searches may spend 25; with new bookings, 35; with bookings taken, 45; cancellations 50.
    found = running.call("POST", "/hotels/availability", {**SEARCH, "hotels": [2]})
    rate = found.json()["hotels"][0]["rooms"][0]["rates"][0]["rate_key"]
    first = booked(running, rate)
    assert first["status"] == "confirmed", first
    hotel, refused = 3, None
    while refused is None:
        answer = running.call("POST", "/hotels/availability", {**SEARCH, "hotels": [hotel]})
        if answer.status_code == 429 and int(answer.headers["Retry-After"]) <= 2:  # the second's share: wait
            time.sleep(int(answer.headers["Retry-After"]))
            continue
        if answer.status_code == 429:
            refused = answer
            break
        assert answer.status_code == 200, answer.text
        hotel += 1
        assert hotel < 60, "searches were never refused"
    # Refused for the day, with the truth: until the quota resets at midnight UTC.
    assert int(refused.headers["Retry-After"]) == pytest.approx(seconds_to_quota_reset(), abs=5)
    assert hotel - 3 + 2 == 25  # every search of the day (the first test's and this one's first): their lane
    # Bookings spend what is left of theirs; then a new one is refused at once rather than left unsent.
    while (last := booked(running, rate))["status_code"] == 202 and last["status"] == "confirmed":
        pass
    if seconds_to_quota_reset() > MAX_UNSENT_SECONDS:
        assert last["status_code"] == 503, last
        assert last["type"].endswith(":quota-spent")
        assert int(last["retry_after"]) == pytest.approx(seconds_to_quota_reset(), abs=5)
    else:  # the quota resets before the rate goes stale: taken, and sent after midnight
        assert (last["status_code"], last["status"]) == (202, "pending"), last
    # The customer can still cancel: the cancellations' reserve is theirs.
    cancelled = running.call("DELETE", f"/hotel-bookings/{first['id']}")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert running.hotelbeds.get("/_sandbox/faults").json()["over_quota"] == 0  # Hotelbeds never had to refuse
    until = time.monotonic() + 60
    while alarm_state(running, "HotelbedsQuotaAlarm") != "ALARM":  # half the day used, by our own count
        assert time.monotonic() < until, "HotelbedsQuotaAlarm never fired"
        time.sleep(1)


def alarm_state(running: Running, name: str) -> str:
    answer = httpx.get(f"{running.gateway}/_local/alarms", timeout=30).raise_for_status().json()
    return str(next(alarm["state"] for alarm in answer["alarms"] if alarm["name"] == name))

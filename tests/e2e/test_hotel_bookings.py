"""A Hotelbeds confirmation 130 s late, through `make run`: one booking at Hotelbeds, not two.

The stack runs with its defaults (``HotelbedsBookingSettleSeconds`` 180, the client's 60 s timeout);
the Hotelbeds sandbox answers the booking 130 s after it was sent, having made it then. The client
gives up at 60 s; nothing is looked up or sent again until 180 s after the send began, when the
look-up finds the booking. Bookings made twice by a confirmation later than the settle time, and the
audit that cancels the extra one, are in tests/providers/test_hotelbeds_bookings.py (over HTTP, in
seconds) and tests/model/test_hotelbeds_bookings.py (random schedules, simulated time).
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

from tests.support.make_run import BANNER_END, ROOT, follow, read_until, stack_state, start, stop
from tests.support.sigv4 import signed_headers

LATE_SECONDS = 130
BOOKINGS = "/hotel-api/1.0/bookings"


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
    process = start(state_dir, ROOT / "template.yaml")
    try:
        read_until(process, BANNER_END)
        follow(process, state_dir / "stack.log")
        state = stack_state(state_dir)
        with httpx.Client(base_url=state["environment"]["HOTELBEDS_API_BASE"], timeout=30) as hotelbeds:
            yield Running(state["gateway"], hotelbeds)
    finally:
        stop(process)


def test_a_confirmation_130_s_after_the_send_is_booked_once(running: Running) -> None:
    search = {"check_in": "2035-06-01", "check_out": "2035-06-03", "rooms": [{"adults": 2}], "hotels": [1]}
    found = running.call("POST", "/hotels/availability", search)
    assert found.status_code == 200, found.text
    rate = next(
        rate for room in found.json()["hotels"][0]["rooms"] for rate in room["rates"] if rate["rate_type"] == "BOOKABLE"
    )
    # make run books a sample booking at start (events/hotel_bookings_create/post.json): the late answer is ours.
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

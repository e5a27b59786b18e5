"""Sample events replayed as of now: a recorded stay keeps its distance ahead, nothing else changes."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from local.replay import redate, replay
from tests.support.stack import ROOT

SEARCH = json.loads((ROOT / "events/hotelbeds/hotels_availability/post.json").read_text())
RECORDED = dt.datetime.fromtimestamp(SEARCH["requestContext"]["requestTimeEpoch"] / 1000, dt.UTC)


def stay(event: dict[str, Any]) -> tuple[str, str]:
    body = json.loads(event["body"])
    return body["check_in"], body["check_out"]


def test_a_search_replayed_later_keeps_its_stay_as_far_ahead() -> None:
    later = RECORDED + dt.timedelta(days=400, hours=3)
    moved = redate(SEARCH, later)
    check_in, check_out = (dt.date.fromisoformat(day) for day in stay(moved))
    recorded_in, recorded_out = (dt.date.fromisoformat(day) for day in stay(SEARCH))
    assert check_in - later.date() == recorded_in - RECORDED.date()
    assert check_out - check_in == recorded_out - recorded_in
    assert moved["requestContext"]["requestTimeEpoch"] == int(later.timestamp() * 1000)
    assert moved["requestContext"]["requestTime"] == later.strftime("%d/%b/%Y:%H:%M:%S +0000")
    assert {**json.loads(moved["body"]), "check_in": 0, "check_out": 0} == {
        **json.loads(SEARCH["body"]),
        "check_in": 0,
        "check_out": 0,
    }
    assert stay(SEARCH) == ("2027-03-01", "2027-03-04")  # the committed sample is left as it is


def test_a_base64_body_stays_base64() -> None:
    encoded = {**SEARCH, "body": base64.b64encode(SEARCH["body"].encode()).decode(), "isBase64Encoded": True}
    moved = redate(encoded, RECORDED + dt.timedelta(days=10))
    assert json.loads(base64.b64decode(moved["body"]))["check_in"] == "2027-03-11"


def test_events_without_a_stay_are_sent_as_they_are() -> None:
    samples = (
        "health/get.json",
        "hotelbeds/hotel_bookings_create/post.json",
        "hotelbeds/hotel_booking_worker/sqs_batch.json",
    )
    for name in samples:
        event = json.loads((ROOT / "events" / name).read_text())
        assert replay(event, {}) is event
    unreadable = {**SEARCH, "body": "not json"}
    assert redate(unreadable) is unreadable

"""The Hotelbeds sandbox speaks APItude's wire format: signed requests over real HTTP, as a client sends them."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Generator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from local.sandboxes.faults import Fault
from local.sandboxes.hotelbeds import HotelbedsSandbox

KEY = "sandbox-api-key-0001"
SECRET = "sandbox-shared-secret"
API = "/hotel-api/1.0"
TODAY = datetime.now(UTC).date()


def signature(key: str, secret: str, seconds: int) -> str:
    return hashlib.sha256(f"{key}{secret}{seconds}".encode()).hexdigest()


class Signed(httpx.Auth):
    """Signs every request afresh, as APItude requires."""

    def __init__(self, key: str = KEY, secret: str = SECRET, skew: float = 0) -> None:
        self.key, self.secret, self.skew = key, secret, skew

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        seconds = int(time.time() + self.skew)
        request.headers["Api-key"] = self.key
        request.headers["X-Signature"] = signature(self.key, self.secret, seconds)
        yield request


@pytest.fixture
def hotelbeds() -> Iterator[HotelbedsSandbox]:
    server = HotelbedsSandbox({KEY: SECRET}, hotels=60)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def api(hotelbeds: HotelbedsSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hotelbeds.url, auth=Signed(), timeout=5) as client:
        yield client


def stay(days_ahead: int = 30, nights: int = 2) -> dict[str, str]:
    check_in = TODAY + timedelta(days=days_ahead)
    return {"checkIn": check_in.isoformat(), "checkOut": (check_in + timedelta(days=nights)).isoformat()}


def availability(api: httpx.Client, **body: Any) -> httpx.Response:
    request = {"stay": stay(), "occupancies": [{"rooms": 1, "adults": 2, "children": 0}], **body}
    return api.post(f"{API}/hotels", json=request)


def rate(api: httpx.Client, rate_type: str = "BOOKABLE", **body: Any) -> dict[str, Any]:
    hotel = availability(api, hotels={"hotel": [7]}, **body).json()["hotels"]["hotels"][0]
    return next(rate for rate in hotel["rooms"][0]["rates"] if rate["rateType"] == rate_type)


def book(api: httpx.Client, rate_key: str, client_reference: str = "ORDER-1", **options: Any) -> httpx.Response:
    body = {
        "holder": {"name": "Ada", "surname": "Lovelace"},
        "rooms": [{"rateKey": rate_key, "paxes": [{"roomId": 1, "type": "AD", "name": "Ada", "surname": "Lovelace"}]}],
        "clientReference": client_reference,
        "remark": "late arrival",
    }
    return api.post(f"{API}/bookings", json=body, **options)


def test_a_good_signature_passes_and_others_are_refused(hotelbeds: HotelbedsSandbox, api: httpx.Client) -> None:
    answer = api.get(f"{API}/status")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json;charset=UTF-8"
    assert answer.json()["status"] == "OK"
    assert answer.json()["auditData"]["serverId"] == "sandbox"

    for auth in (Signed(secret="wrong-secret"), Signed(skew=-600)):
        refused = httpx.get(f"{hotelbeds.url}{API}/status", auth=auth)
        assert refused.status_code == 401
        assert refused.headers["x-mashery-error-code"] == "ERR_401_INVALID_SIGNATURE"
        assert refused.json() == {"error": "Request signature verification failed"}
    assert httpx.get(f"{hotelbeds.url}{API}/status", auth=Signed(skew=-200)).status_code == 200  # within 300 s

    unknown = httpx.get(f"{hotelbeds.url}{API}/status", auth=Signed(key="somebody-else"))
    assert unknown.status_code == 403
    assert unknown.headers["x-mashery-error-code"] == "ERR_403_DEVELOPER_INACTIVE"
    assert unknown.json() == {"error": "Not authorized"}

    hotelbeds.configure_faults({"clock_offset": 900})  # the sandbox's clock runs ahead: fresh signatures fail
    assert api.get(f"{API}/status").status_code == 401
    assert hotelbeds.fault_report()["signature_failures"] == 3


def test_the_daily_quota_refuses_without_counting(hotelbeds: HotelbedsSandbox, api: httpx.Client) -> None:
    httpx.post(f"{hotelbeds.url}/_sandbox/faults", json={"daily_quota": 3}).raise_for_status()
    assert [api.get(f"{API}/status").status_code for _ in range(3)] == [200, 200, 200]
    refused = api.get(f"{API}/status")
    assert refused.status_code == 403
    assert refused.headers["x-mashery-error-code"] == "ERR_403_DEVELOPER_OVER_RATE"
    assert refused.headers["content-type"] == "text/html"
    assert refused.text == "<h1>Developer Over Rate</h1>"
    report = httpx.get(f"{hotelbeds.url}/_sandbox/faults").json()
    assert (report["used_today"], report["over_quota"], report["daily_quota"]) == (3, 1, 3)


def test_a_per_second_limit(hotelbeds: HotelbedsSandbox, api: httpx.Client) -> None:
    hotelbeds.configure_faults({"requests_per_second": 2})
    statuses = [api.get(f"{API}/status").status_code for _ in range(3)]
    assert statuses == [200, 200, 403]
    assert hotelbeds.fault_report()["over_qps"] == 1
    assert hotelbeds.fault_report()["used_today"] == 2


def test_answers_are_gzipped_when_asked(hotelbeds: HotelbedsSandbox, api: httpx.Client) -> None:
    zipped = api.get(f"{API}/status", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.json()["status"] == "OK"  # httpx unzips
    plain = api.get(f"{API}/status", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert hotelbeds.fault_report()["gzip_answers"] == 1


def test_availability_in_hotelbeds_shape(api: httpx.Client) -> None:
    occupancy = {"rooms": 1, "adults": 2, "children": 1, "paxes": [{"type": "CH", "age": 5}]}
    answer = availability(api, destination={"code": "PMI"}, occupancies=[occupancy])
    assert answer.status_code == 200
    hotels = answer.json()["hotels"]
    assert hotels["total"] == len(hotels["hotels"]) == 12  # codes 5, 10, ... 60
    assert (hotels["checkIn"], hotels["checkOut"]) == (stay()["checkIn"], stay()["checkOut"])
    hotel = hotels["hotels"][0]
    assert (hotel["code"], hotel["name"], hotel["destinationCode"]) == (5, "Sandbox Hotel 5", "PMI")
    assert [room["code"] for room in hotel["rooms"]] == ["DBL.ST", "TWN.SU"]
    rates = hotel["rooms"][0]["rates"]
    assert [rate["rateType"] for rate in rates] == ["BOOKABLE", "RECHECK"]
    first = rates[0]
    assert (first["rooms"], first["adults"], first["children"], first["boardCode"]) == (1, 2, 1, "RO")
    assert first["net"] == f"{float(first['net']):.2f}"
    check_in = date.fromisoformat(stay()["checkIn"])
    assert first["cancellationPolicies"][0]["from"] == f"{check_in - timedelta(days=1)}T23:59:00+01:00"
    nets = [float(rate["net"]) for room in hotel["rooms"] for rate in room["rates"]]
    assert (float(hotel["minRate"]), float(hotel["maxRate"])) == (min(nets), max(nets))
    # The same search answers the same prices and keys.
    assert availability(api, destination={"code": "PMI"}, occupancies=[occupancy]).json()["hotels"] == hotels


def test_availability_by_hotel_and_its_errors(api: httpx.Client) -> None:
    listed = availability(api, hotels={"hotel": [2, 3, 999]}).json()["hotels"]
    assert [hotel["code"] for hotel in listed["hotels"]] == [2, 3]
    assert availability(api, destination={"code": "NYC"}).json()["hotels"] == {"total": 0}

    backwards = availability(api, stay={"checkIn": "2026-12-03", "checkOut": "2026-12-01"}, hotels={"hotel": [1]})
    assert backwards.status_code == 400
    assert backwards.json()["error"]["code"] == "INVALID_REQUEST"
    assert "auditData" in backwards.json()
    no_age = availability(api, hotels={"hotel": [1]}, occupancies=[{"rooms": 1, "adults": 2, "children": 1}])
    assert no_age.status_code == 400
    assert api.get(f"{API}/nowhere").status_code == 404


def test_checkrates_turns_a_recheck_rate_bookable(api: httpx.Client) -> None:
    recheck = rate(api, "RECHECK")
    refused = book(api, recheck["rateKey"])
    assert refused.status_code == 400
    assert "checked" in refused.json()["error"]["message"]

    checked = api.post(f"{API}/checkrates", json={"rooms": [{"rateKey": recheck["rateKey"]}]})
    assert checked.status_code == 200
    hotel = checked.json()["hotel"]
    assert (hotel["code"], hotel["totalNet"], hotel["currency"]) == (7, recheck["net"], "EUR")
    fresh = hotel["rooms"][0]["rates"][0]
    assert fresh["rateType"] == "BOOKABLE"
    assert fresh["rateKey"] == recheck["rateKey"].replace("RECHECK", "BOOKABLE")
    assert fresh["rateComments"]
    assert book(api, fresh["rateKey"]).status_code == 200

    tampered = recheck["rateKey"].rsplit("@", 1)[0] + "@1.00"
    assert api.post(f"{API}/checkrates", json={"rooms": [{"rateKey": tampered}]}).status_code == 400


def test_book_list_read_simulate_and_cancel(hotelbeds: HotelbedsSandbox, api: httpx.Client) -> None:
    bookable = rate(api)
    booked = book(api, bookable["rateKey"], "ORDER-42")
    assert booked.status_code == 200
    booking = booked.json()["booking"]
    reference = booking["reference"]
    assert reference.startswith("102-")
    assert (booking["status"], booking["clientReference"], booking["creationDate"]) == (
        "CONFIRMED",
        "ORDER-42",
        TODAY.isoformat(),
    )
    assert booking["totalNet"] == float(bookable["net"])  # a number here, a string in availability
    assert booking["hotel"]["rooms"][0]["rates"][0]["net"] == bookable["net"]
    assert booking["hotel"]["rooms"][0]["paxes"][0]["name"] == "Ada"

    window: dict[str, Any] = {"start": TODAY.isoformat(), "end": TODAY.isoformat(), "from": 1, "to": 25}
    listed = api.get(f"{API}/bookings", params={**window, "clientReference": "ORDER-42"}).json()["bookings"]
    assert (listed["total"], listed["bookings"][0]["reference"]) == (1, reference)
    assert api.get(f"{API}/bookings", params={**window, "to": 101}).status_code == 400
    assert api.get(f"{API}/bookings/{reference}").json()["booking"] == booking

    simulated = api.delete(f"{API}/bookings/{reference}", params={"cancellationFlag": "SIMULATION"}).json()["booking"]
    assert simulated["status"] == "CONFIRMED"
    assert simulated["hotel"]["cancellationAmount"] == 0  # check-in is a month away
    cancelled = api.delete(f"{API}/bookings/{reference}").json()["booking"]
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["hotel"]["rooms"][0]["status"] == "CANCELLED"
    assert cancelled["cancellationReference"]
    again = api.delete(f"{API}/bookings/{reference}")
    assert (again.status_code, again.json()["booking"]) == (200, cancelled)
    assert api.get(f"{API}/bookings/102-9999999").status_code == 404
    assert api.delete(f"{API}/bookings/102-9999999").status_code == 404

    # Checking in today, the policy from yesterday is in force.
    today = rate(api, stay={"checkIn": TODAY.isoformat(), "checkOut": (TODAY + timedelta(days=1)).isoformat()})
    due = book(api, today["rateKey"], "ORDER-43").json()["booking"]
    fee = api.delete(f"{API}/bookings/{due['reference']}", params={"cancellationFlag": "SIMULATION"})
    assert fee.json()["booking"]["hotel"]["cancellationAmount"] == float(today["cancellationPolicies"][0]["amount"])
    cancelled_only = api.get(f"{API}/bookings", params={**window, "status": "CANCELLED"}).json()["bookings"]
    assert [summary["reference"] for summary in cancelled_only["bookings"]] == [reference]


def test_the_same_client_reference_books_twice(hotelbeds: HotelbedsSandbox, api: httpx.Client) -> None:
    key = rate(api)["rateKey"]
    first, second = book(api, key, "SAME-REF"), book(api, key, "SAME-REF")
    assert first.json()["booking"]["reference"] != second.json()["booking"]["reference"]
    report = httpx.get(f"{hotelbeds.url}/_sandbox/bookings").json()
    assert report["by_client_reference"] == {"SAME-REF": 2}


def test_a_lost_answer_still_books(hotelbeds: HotelbedsSandbox, api: httpx.Client) -> None:
    key = rate(api)["rateKey"]
    fault = {"kind": "lost", "method": "POST", "path": f"{API}/bookings"}
    httpx.post(f"{hotelbeds.url}/_sandbox/faults", json={"queue": [fault]}).raise_for_status()
    assert api.get(f"{API}/status").status_code == 200  # not a matching request: the fault waits
    with pytest.raises(httpx.TransportError):
        book(api, key, "LOST-1")
    assert hotelbeds.booking_report()["by_client_reference"] == {"LOST-1": 1}
    assert hotelbeds.fault_report()["queued"] == 0


def test_a_slow_answer_times_out_but_books(hotelbeds: HotelbedsSandbox, api: httpx.Client) -> None:
    key = rate(api)["rateKey"]
    hotelbeds.faults.plan.queue.append(Fault(kind="slow", seconds=0.5, method="POST", path=f"{API}/bookings"))
    with pytest.raises(httpx.TimeoutException):
        book(api, key, "SLOW-1", timeout=0.1)
    deadline = time.monotonic() + 3
    while not hotelbeds.booking_report()["bookings"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hotelbeds.booking_report()["by_client_reference"] == {"SLOW-1": 1}


def test_status_and_error_after_faults(hotelbeds: HotelbedsSandbox, api: httpx.Client) -> None:
    key = rate(api)["rateKey"]
    hotelbeds.configure_faults({"queue": [{"kind": "status", "status": 503}, {"kind": "error_after", "status": 502}]})
    assert book(api, key, "FAIL-1").status_code == 503  # not done
    assert book(api, key, "FAIL-2").status_code == 502  # done, answer lost in an error
    assert hotelbeds.booking_report()["by_client_reference"] == {"FAIL-2": 1}
    hotelbeds.configure_faults({"rules": [{"method": "GET", "path": API, "status": 1, "status_code": 500}]})
    assert api.get(f"{API}/status").status_code == 500
    hotelbeds.configure_faults({"queue": [{"kind": "reset"}]})
    with pytest.raises(httpx.TransportError):
        api.get(f"{API}/status")
    assert httpx.post(f"{hotelbeds.url}/_sandbox/faults", json={"queue": [{"kind": "melt"}]}).status_code == 400


def test_content_pages_the_same_catalogue(hotelbeds: HotelbedsSandbox, api: httpx.Client) -> None:
    content = "/hotel-content-api/1.0/hotels"
    page = api.get(content, params={"fields": "all", "language": "ENG", "from": 1, "to": 25}).json()
    assert (page["from"], page["to"], page["total"], len(page["hotels"])) == (1, 25, 60, 25)
    first = page["hotels"][0]
    assert (first["code"], first["name"]["content"], first["destinationCode"]) == (1, "Sandbox Hotel 1", "BCN")
    assert first["phones"][0]["phoneType"] == "PHONEBOOKING"
    last = api.get(content, params={"from": 51, "to": 100}).json()
    assert (last["to"], [hotel["code"] for hotel in last["hotels"]]) == (60, list(range(51, 61)))
    assert api.get(content, params={"from": 1, "to": 1001}).status_code == 400
    assert api.get(content).status_code == 400

    httpx.post(f"{hotelbeds.url}/_sandbox/hotels", json={"count": 5}).raise_for_status()
    assert api.get(content, params={"from": 1, "to": 100}).json()["total"] == 5
    httpx.post(f"{hotelbeds.url}/_sandbox/reset").raise_for_status()
    assert hotelbeds.fault_report()["requests"] == 0

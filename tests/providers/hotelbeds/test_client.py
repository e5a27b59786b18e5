"""The Hotelbeds client against the Hotelbeds sandbox over HTTP, on both state backends.

Every request signed afresh and gzipped; answers typed with money as Decimal;
equal searches answered from the shared cache; both quotas kept by the
limiter, and a quota 403 from Hotelbeds stopping the whole fleet until the
quota resets, without tripping the breaker.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from local.sandboxes.hotelbeds import HotelbedsSandbox
from seawall.breaker import BreakerState
from seawall.errors import CircuitOpenError, IntegrationError, ProviderTimeoutError, ThrottledError
from seawall.problems import problem_for
from seawall.providers.hotelbeds.client import HotelbedsGateway
from seawall.providers.hotelbeds.errors import QuotaExhaustedError, seconds_to_quota_reset
from seawall.providers.hotelbeds.search import AvailabilitySearch
from seawall.state import SharedState
from tests.conftest import LogCapture, json_lines
from tests.support.stay import stay

STAY = stay()


def search(**changes: Any) -> AvailabilitySearch:
    return AvailabilitySearch.model_validate({**STAY, "rooms": [{"adults": 2}], "hotels": [1, 2], **changes})


def booking_body(rate_key: str, client_reference: str) -> dict[str, Any]:
    return {
        "holder": {"name": "Ada", "surname": "Lovelace"},
        "rooms": [{"rateKey": rate_key, "paxes": [{"roomId": 1, "type": "AD", "name": "Ada", "surname": "Lovelace"}]}],
        "clientReference": client_reference,
    }


def test_every_request_is_signed_afresh_gzipped_and_typed(
    hotelbeds_gateway: Callable[..., HotelbedsGateway], hotelbeds: HotelbedsSandbox
) -> None:
    client = hotelbeds_gateway(HOTELBEDS_AVAILABILITY_CACHE_SECONDS=0)
    assert client.status() == "OK"
    found = client.availability(search(rooms=[{"adults": 2, "children_ages": [4]}]))
    assert {hotel.code for hotel in found.hotels} == {1, 2}
    rate = found.hotels[0].rooms[0].rates[0]
    assert isinstance(rate.net, Decimal)
    assert rate.net.as_tuple().exponent == -2  # exactly the decimal string Hotelbeds sent
    assert all(isinstance(policy.amount, Decimal) for policy in rate.cancellation_policies)
    report = hotelbeds.fault_report()
    assert report["signature_failures"] == 0
    assert report["gzip_answers"] == report["requests"] == 2
    assert all(headers.get("Accept") == "application/json" for _, _, headers in hotelbeds.requests)


def test_equal_searches_spend_one_request_fleet_wide(
    hotelbeds_gateway: Callable[..., HotelbedsGateway], hotelbeds: HotelbedsSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = hotelbeds_gateway(), hotelbeds_gateway()  # two containers
    answer = first.availability(search(hotels=[2, 1], rooms=[{"adults": 2}, {"adults": 1, "children_ages": [9, 3]}]))
    again = second.availability(search(hotels=[1, 2], rooms=[{"adults": 1, "children_ages": [3, 9]}, {"adults": 2}]))
    assert again == answer
    assert hotelbeds.fault_report()["requests"] == 1
    other = second.availability(search(**stay(nights=4)))
    assert other != answer
    assert hotelbeds.fault_report()["requests"] == 2
    saved = [line for line in json_lines(capsys.readouterr().out) if "ProviderQuotaSaved" in line]
    assert len(saved) == 1


@pytest.mark.parametrize(
    ("hotels", "rooms"),
    [
        (500, [{"adults": 2}]),  # the widest search by hotels
        (55, [{"adults": adults} for adults in range(1, 9)] + [{"adults": 1, "children_ages": [5]}]),  # by rooms
    ],
)
def test_the_largest_search_allowed_fits_lambdas_answer_and_the_cache(
    hotelbeds_gateway: Callable[..., HotelbedsGateway],
    hotelbeds: HotelbedsSandbox,
    hotels: int,
    rooms: list[dict[str, Any]],
) -> None:
    hotelbeds.set_hotels(2000)
    client = hotelbeds_gateway()
    asked = search(hotels=list(range(1, hotels + 1)), rooms=rooms)
    found = client.availability(asked)
    assert len(found.hotels) == hotels
    assert len(found.model_dump_json().encode()) < 6 * 1024 * 1024 / 2  # half of what Lambda can return
    assert client.availability(asked) == found  # kept by the cache: no second request
    assert hotelbeds.fault_report()["requests"] == 1
    with pytest.raises(ValueError, match="at most 500 hotel and distinct room pairs"):
        search(hotels=list(range(1, hotels + 2)), rooms=rooms)


def test_a_destination_search_asks_hotelbeds_for_no_more_than_fits(
    hotelbeds_gateway: Callable[..., HotelbedsGateway], hotelbeds: HotelbedsSandbox
) -> None:
    hotelbeds.set_hotels(2000)  # 400 in PMI
    rooms = [{"adults": adults} for adults in range(1, 9)] + [{"adults": 1, "children_ages": [5]}]
    found = hotelbeds_gateway().availability(
        AvailabilitySearch.model_validate({**STAY, "rooms": rooms, "destination": "PMI"})
    )
    assert len(found.hotels) == 500 // 9  # filter.maxHotels: the pairs' limit over 9 distinct rooms
    assert all(len(room.rates) <= 10 for hotel in found.hotels for room in hotel.rooms)  # filter.maxRatesPerRoom


def test_check_rate_then_book_list_detail_simulate_and_cancel(
    hotelbeds_gateway: Callable[..., HotelbedsGateway],
) -> None:
    client = hotelbeds_gateway()
    rates = [rate for room in client.availability(search()).hotels[0].rooms for rate in room.rates]
    recheck = next(rate for rate in rates if rate.rate_type == "RECHECK")
    checked = client.check_rate(recheck.rate_key)
    assert [rate.rate_type for rate in checked.rates] == ["BOOKABLE"]
    reference = uuid.uuid4().hex[:20].upper()
    booking = client.book(booking_body(checked.rates[0].rate_key, reference))
    assert (booking.status, booking.client_reference, booking.currency) == ("CONFIRMED", reference, "EUR")
    assert booking.total_net == checked.rates[0].net
    today = dt.datetime.now(dt.UTC).date()
    assert [found.reference for found in client.find_bookings(reference, created_on=today)] == [booking.reference]
    assert client.find_bookings("NOSUCHREFERENCE", created_on=today) == []
    assert client.booking(booking.reference) == booking
    simulated = client.cancel(booking.reference, simulate=True)
    assert simulated.status == "CONFIRMED"
    assert simulated.hotel.cancellation_amount is not None
    cancelled = client.cancel(booking.reference)
    assert cancelled.status == "CANCELLED"
    assert cancelled.cancellation_reference
    assert client.cancel(booking.reference) == cancelled  # again: the same answer


def test_a_booking_is_found_by_its_client_reference_beyond_the_first_page(
    hotelbeds_gateway: Callable[..., HotelbedsGateway],
) -> None:
    client = hotelbeds_gateway()
    rate = client.availability(search()).hotels[0].rooms[0].rates[0]
    made = [client.book(booking_body(rate.rate_key, f"PAGE{index:04d}")) for index in range(101)]
    # The list's clientReference filter is not trusted alone: without it, the booking is on the second page.
    page = client.bookings(start=dt.date(2000, 1, 1), end=dt.date(2100, 1, 1))
    assert (page.total, len(page.bookings)) == (101, 100)
    again = client.book(booking_body(rate.rate_key, "PAGE0000"))  # the same reference, booked twice
    today = dt.datetime.now(dt.UTC).date()
    assert [found.client_reference for found in client.find_bookings("PAGE0100", created_on=today)] == ["PAGE0100"]
    twice = client.find_bookings("PAGE0000", created_on=today)
    assert [found.reference for found in twice] == [made[0].reference, again.reference]  # both, in creation order


def test_content_pages(hotelbeds_gateway: Callable[..., HotelbedsGateway]) -> None:
    client = hotelbeds_gateway()
    page = client.content_hotels(51, 20)
    assert (page.from_, page.to, page.total) == (51, 60, 60)
    assert [hotel.code for hotel in page.hotels] == list(range(51, 61))
    assert isinstance(page.hotels[0].name, str)


def test_the_daily_quota_is_kept_fleet_wide_before_hotelbeds_refuses(
    hotelbeds_gateway: Callable[..., HotelbedsGateway], hotelbeds: HotelbedsSandbox
) -> None:
    hotelbeds.configure_faults({"daily_quota": 10})
    containers = [hotelbeds_gateway(HOTELBEDS_DAILY_QUOTA=10, HOTELBEDS_AVAILABILITY_CACHE_SECONDS=0) for _ in range(2)]
    for index in range(5):  # the searches' lane: 10 less the cancellations' 1 and the bookings' 2 and 2
        containers[index % 2].status()
    with pytest.raises(ThrottledError) as refused:
        containers[1].status()
    assert refused.value.retry_after == pytest.approx(seconds_to_quota_reset(), abs=5)
    problem = problem_for(refused.value)
    assert problem.status == 429
    assert int(problem.headers["Retry-After"]) == pytest.approx(seconds_to_quota_reset(), abs=5)
    report = hotelbeds.fault_report()
    assert (report["used_today"], report["over_quota"]) == (5, 0)


def test_a_quota_403_stops_the_fleet_until_the_reset_without_tripping_the_breaker(
    hotelbeds_gateway: Callable[..., HotelbedsGateway], hotelbeds: HotelbedsSandbox, state: SharedState
) -> None:
    hotelbeds.configure_faults({"daily_quota": 2})  # another system spent most of the key's quota
    first, second = hotelbeds_gateway(), hotelbeds_gateway()
    first.status()
    first.status()
    with pytest.raises(QuotaExhaustedError) as spent:
        first.status()
    assert spent.value.retryable is False
    assert spent.value.retry_after == pytest.approx(seconds_to_quota_reset(), abs=5)
    assert problem_for(spent.value).status == 429
    with pytest.raises(ThrottledError) as refused:  # the other container never reaches Hotelbeds
        second.availability(search(hotels=[uuid.uuid4().int % 50 + 1, 51]))  # a search nobody cached
    assert refused.value.retry_after == pytest.approx(seconds_to_quota_reset(), abs=5)
    assert hotelbeds.fault_report()["over_quota"] == 1  # one 403, not retried, nothing after it
    assert all(breaker.inspect().state is BreakerState.CLOSED for breaker in first.call.breakers.values())


def test_a_refused_signature_is_logged_with_clock_skew_as_the_likely_cause(
    hotelbeds_gateway: Callable[..., HotelbedsGateway], hotelbeds: HotelbedsSandbox, logs: LogCapture
) -> None:
    hotelbeds.configure_faults({"clock_offset": 900})  # the sandbox's clock is 15 minutes ahead of ours
    with pytest.raises(IntegrationError) as refused:
        hotelbeds_gateway().status()
    assert refused.value.status_code == 401
    warning = next(record for record in logs.records() if "clock" in record["message"])
    assert warning["status_code"] == 401
    assert hotelbeds.secret not in logs.text  # type: ignore[attr-defined]
    assert hotelbeds.fault_report()["signature_failures"] >= 1


def test_requests_time_out_by_endpoint_and_are_retried_but_a_booking_is_sent_once(
    hotelbeds_gateway: Callable[..., HotelbedsGateway], hotelbeds: HotelbedsSandbox
) -> None:
    client = hotelbeds_gateway(HOTELBEDS_TIMEOUT_SECONDS=0.3, HOTELBEDS_AVAILABILITY_CACHE_SECONDS=0)
    rate = client.availability(search()).hotels[0].rooms[0].rates[0]
    hotelbeds.configure_faults({"queue": [{"kind": "slow", "seconds": 1, "path": "/hotel-api/1.0/hotels"}]})
    assert client.availability(search()).hotels  # the slow attempt timed out; the retry answered
    hotelbeds.configure_faults({"queue": [{"kind": "slow", "seconds": 1, "method": "POST"}]})
    started = time.monotonic()
    with pytest.raises(ProviderTimeoutError):
        client.book(booking_body(rate.rate_key, "SENTONCE"))
    assert time.monotonic() - started < 1
    time.sleep(1)
    assert hotelbeds.booking_report()["by_client_reference"] == {"SENTONCE": 1}


def test_a_cancellation_whose_answer_was_lost_is_read_back_not_left_confirmed(
    hotelbeds_gateway: Callable[..., HotelbedsGateway], hotelbeds: HotelbedsSandbox
) -> None:
    client = hotelbeds_gateway()
    rate = client.availability(search()).hotels[0].rooms[0].rates[0]
    booking = client.book(booking_body(rate.rate_key, "CANCELLOST"))
    # The cancellation is done and its answer lost; the retry is refused (as an API may refuse cancelling twice).
    hotelbeds.configure_faults(
        {"queue": [{"kind": "lost", "method": "DELETE"}, {"kind": "status", "status": 400, "method": "DELETE"}]}
    )
    cancelled = client.cancel_booking(booking.reference)
    assert cancelled.status == "CANCELLED"
    assert hotelbeds.bookings[booking.reference]["status"] == "CANCELLED"
    other = client.book(booking_body(rate.rate_key, "CANCELFAILS"))
    hotelbeds.configure_faults({"rules": [{"method": "DELETE", "status": 1.0}]})  # Hotelbeds cancels nothing
    with pytest.raises(IntegrationError):
        client.cancel_booking(other.reference)
    assert hotelbeds.bookings[other.reference]["status"] == "CONFIRMED"


def test_bookings_failing_open_only_the_booking_breaker(
    hotelbeds_gateway: Callable[..., HotelbedsGateway], hotelbeds: HotelbedsSandbox
) -> None:
    client = hotelbeds_gateway()
    rate = client.availability(search()).hotels[0].rooms[0].rates[0]
    made = client.book(booking_body(rate.rate_key, uuid.uuid4().hex[:20].upper()))
    hotelbeds.configure_faults({"rules": [{"method": "POST", "path": "/hotel-api/1.0/bookings", "status": 1.0}]})
    for _ in range(9):  # with the success above, ten calls in the window, nine provider faults
        with pytest.raises(IntegrationError):
            client.book(booking_body(rate.rate_key, uuid.uuid4().hex[:20].upper()))
    with pytest.raises(CircuitOpenError, match="circuit open for booking"):  # the booking breaker opened
        client.book(booking_body(rate.rate_key, uuid.uuid4().hex[:20].upper()))
    assert client.call.breakers["hotelbeds:booking"].inspect().state is BreakerState.OPEN
    assert client.availability(search(hotels=[3])).hotels  # searches go on
    assert client.cancel_booking(made.reference).status == "CANCELLED"  # and so do cancellations
    assert {key: breaker.inspect().state for key, breaker in client.call.breakers.items()} == {
        "hotelbeds:search": BreakerState.CLOSED,
        "hotelbeds:booking": BreakerState.OPEN,
        "hotelbeds:cancel": BreakerState.CLOSED,
        "hotelbeds:content": BreakerState.CLOSED,
    }


def test_searches_cannot_spend_the_bookings_and_cancellations_reserve(
    hotelbeds_gateway: Callable[..., HotelbedsGateway], hotelbeds: HotelbedsSandbox
) -> None:
    # 20 a day: searches 10; with new bookings taken, 14; with the calls of bookings taken, 18; cancellations 20.
    client = hotelbeds_gateway(HOTELBEDS_DAILY_QUOTA=20, HOTELBEDS_AVAILABILITY_CACHE_SECONDS=0)
    rate = client.availability(search()).hotels[0].rooms[0].rates[0]
    for _ in range(9):
        client.availability(search())
    with pytest.raises(ThrottledError) as refused:
        client.availability(search())
    assert refused.value.retry_after == pytest.approx(seconds_to_quota_reset(), abs=5)  # until the day resets
    assert [client.reserve_booking() for _ in range(4)] == [0.0] * 4  # four new bookings taken
    assert client.reserve_booking() == pytest.approx(seconds_to_quota_reset(), abs=5)  # a fifth is not
    made = [client.book(booking_body(rate.rate_key, f"LANE{index}")) for index in range(4)]
    assert [client.booking(booking.reference).status for booking in made] == ["CONFIRMED"] * 4  # look-ups
    with pytest.raises(ThrottledError):  # the taken bookings' share is spent too
        client.booking(made[0].reference)
    assert [client.cancel_booking(booking.reference).status for booking in made[:2]] == ["CANCELLED"] * 2
    assert hotelbeds.fault_report()["requests"] == 20  # the key's whole day, none of it refused by Hotelbeds


def test_a_booking_in_doubt_is_looked_up_however_much_searches_spent(
    hotelbeds_gateway: Callable[..., HotelbedsGateway], hotelbeds: HotelbedsSandbox
) -> None:
    # The look-ups and the sends of a booking already taken have their own share, which searches cannot take.
    client = hotelbeds_gateway(HOTELBEDS_DAILY_QUOTA=20, HOTELBEDS_AVAILABILITY_CACHE_SECONDS=0)
    rate = client.availability(search()).hotels[0].rooms[0].rates[0]
    assert client.reserve_booking() == 0.0
    for _ in range(9):
        client.availability(search())
    with pytest.raises(ThrottledError):  # the searches' lane is spent
        client.availability(search())
    made = client.book(booking_body(rate.rate_key, "INDOUBT1"))
    today = dt.datetime.now(dt.UTC).date()
    assert [found.reference for found in client.find_bookings("INDOUBT1", created_on=today)] == [made.reference]
    assert client.booking(made.reference).status == "CONFIRMED"


def test_a_cancellation_is_still_tried_once_a_minute_when_hotelbeds_says_the_day_is_spent(
    hotelbeds_gateway: Callable[..., HotelbedsGateway], hotelbeds: HotelbedsSandbox
) -> None:
    client = hotelbeds_gateway(HOTELBEDS_AVAILABILITY_CACHE_SECONDS=0)
    rate = client.availability(search()).hotels[0].rooms[0].rates[0]
    made = client.book(booking_body(rate.rate_key, "PROBE1"))
    hotelbeds.configure_faults({"daily_quota": 2})  # another system spent the key's day
    with pytest.raises(QuotaExhaustedError):
        client.availability(search(hotels=[7]))
    with pytest.raises(ThrottledError):  # the day is marked spent: nothing else goes out
        client.availability(search(hotels=[8]))
    hotelbeds.configure_faults({"daily_quota": 3})  # Hotelbeds takes one more after all
    assert client.cancel_booking(made.reference).status == "CANCELLED"  # tried, and its answer stands
    with pytest.raises(ThrottledError) as again:  # the next try waits for the minute
        client.cancel(made.reference)
    assert 0 < (again.value.retry_after or 0) <= 60


def test_a_cancellation_hotelbeds_refuses_over_its_quota_is_asked_again_in_a_minute(
    hotelbeds_gateway: Callable[..., HotelbedsGateway], hotelbeds: HotelbedsSandbox
) -> None:
    client = hotelbeds_gateway(HOTELBEDS_AVAILABILITY_CACHE_SECONDS=0)
    rate = client.availability(search()).hotels[0].rooms[0].rates[0]
    made = client.book(booking_body(rate.rate_key, "PROBE2"))
    hotelbeds.configure_faults({"daily_quota": 2})
    with pytest.raises(QuotaExhaustedError):  # the day is spent, as Hotelbeds says
        client.availability(search(hotels=[9]))
    with pytest.raises(QuotaExhaustedError) as refused:  # the once-a-minute try, refused too
        client.cancel(made.reference)
    assert refused.value.retry_after == 60  # not midnight: the caller may try again when the next try may go
    assert problem_for(refused.value).status == 429
    assert hotelbeds.fault_report()["over_quota"] == 2


def test_a_half_open_probe_holds_its_slot_as_long_as_hotelbeds_may_take_to_answer(
    hotelbeds_gateway: Callable[..., HotelbedsGateway],
) -> None:
    client = hotelbeds_gateway()
    longest = client.slow.connect + client.slow.write + client.slow.read  # a bookings list: Hotelbeds' longest answer
    for breaker in client.call.breakers.values():
        # A shorter lease would give a slow probe's period to the next one and drop its outcome.
        assert breaker.config.probe_lease_seconds >= longest

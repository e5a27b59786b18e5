"""The booking workflow against the Hotelbeds sandbox: exactly one booking per request, whatever the answers do.

The bookings table is the template's (in moto); the sandbox never
deduplicates by clientReference, so every double booking would show there.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from local.sandboxes.hotelbeds import HotelbedsSandbox
from local.stack import LocalStack
from seawall.aws import ClientTimeouts, aws_client
from seawall.errors import IntegrationError, StoreUnavailableError, ThrottledError
from seawall.problems import ProblemError
from seawall.providers.hotelbeds.bookings import (
    BookingAudit,
    BookingDesk,
    BookingRecord,
    BookingRequest,
    BookingStore,
    BookingWorkflow,
)
from seawall.providers.hotelbeds.bookings._request import booking_ids
from seawall.providers.hotelbeds.client import HotelbedsGateway
from seawall.providers.hotelbeds.errors import QuotaExhaustedError
from seawall.providers.hotelbeds.search import AvailabilitySearch
from tests.support.stay import stay

RATE_KEY = "20350601|20350604|W|1|1|DBL.ST|NOR-BOOKABLE|RO||1~2~0||N@656.04"
RECHECK_KEY = "20350601|20350604|W|1|1|DBL.ST|NRF-RECHECK|BB||1~2~0||N@458.52"
BOOKINGS = "/hotel-api/1.0/bookings"


@pytest.fixture
def store(project_stack: LocalStack) -> BookingStore:
    return BookingStore(aws_client("dynamodb"), project_stack.template.physical["HotelBookingsTable"]["Ref"])


@pytest.fixture
def workflow(hotelbeds_gateway: Callable[..., HotelbedsGateway], store: BookingStore) -> Callable[..., BookingWorkflow]:
    def build(settle_seconds: float = 0.0, **settings: Any) -> BookingWorkflow:
        return BookingWorkflow(hotelbeds_gateway(**settings), store, settle_seconds=settle_seconds)

    return build


def accepted(
    store: BookingStore,
    rate_key: str = RATE_KEY,
    rate_type: str = "BOOKABLE",
    guests: list[dict[str, Any]] | None = None,
    max_total: dict[str, str] | None = None,
) -> BookingRecord:
    booking_id, client_reference = booking_ids(uuid.uuid4().hex)
    request = BookingRequest.model_validate(
        {
            **({"max_total": max_total} if max_total else {}),
            "holder": {"name": "Ada", "surname": "Lovelace"},
            "rooms": [
                {
                    "rate_key": rate_key,
                    "rate_type": rate_type,
                    "guests": guests or [{"name": "Ada", "surname": "L"}],
                }
            ],
        }
    )
    now = time.time()
    record, created = store.create(
        BookingRecord(booking_id, "caller", client_reference, "pending", request, created_at=now, updated_at=now)
    )
    assert created
    return record


def made(hotelbeds: HotelbedsSandbox, record: BookingRecord) -> int:
    return int(hotelbeds.booking_report()["by_client_reference"].get(record.client_reference, 0))


def test_a_booking_is_sent_once_and_confirmed(
    workflow: Callable[..., BookingWorkflow], store: BookingStore, hotelbeds: HotelbedsSandbox
) -> None:
    record = accepted(store)
    done = workflow().advance(record.id)
    assert done is not None
    assert (done.status, done.sends) == ("confirmed", 1)
    assert done.booking is not None
    assert str(done.booking.total_net) == "656.04"
    assert made(hotelbeds, record) == 1
    assert workflow().advance(record.id) is None  # final: nothing more to do
    assert made(hotelbeds, record) == 1


@pytest.mark.parametrize(
    ("kind", "status"),
    # A 429, 401 or 403 from behind Hotelbeds' gateway (not its own refusal, which names its code) proves nothing.
    [("lost", 500), ("error_after", 500), ("error_after", 400), *(("error_after", code) for code in (429, 401, 403))],
)
def test_an_answer_lost_after_the_booking_was_made_is_found_not_sent_again(
    workflow: Callable[..., BookingWorkflow], store: BookingStore, hotelbeds: HotelbedsSandbox, kind: str, status: int
) -> None:
    # A 400 after the booking was made does not prove it was refused: it is looked up before the booking fails.
    record = accepted(store)
    hotelbeds.configure_faults({"queue": [{"kind": kind, "status": status, "method": "POST", "path": BOOKINGS}]})
    done = workflow().advance(record.id)
    assert done is not None
    assert (done.status, done.sends) == ("confirmed", 1)
    assert made(hotelbeds, record) == 1


def test_a_booking_refused_before_it_was_made_is_sent_again_after_the_look_up(
    workflow: Callable[..., BookingWorkflow], store: BookingStore, hotelbeds: HotelbedsSandbox
) -> None:
    record = accepted(store)
    hotelbeds.configure_faults({"queue": [{"kind": kind, "method": "POST", "path": BOOKINGS} for kind in ("reset",)]})
    done = workflow().advance(record.id)
    assert done is not None
    assert (done.status, done.sends) == ("confirmed", 2)
    assert made(hotelbeds, record) == 1
    looked_up = [path for method, path, _ in hotelbeds.requests if method == "GET" and path == BOOKINGS]
    assert len(looked_up) == 1


def test_a_slow_answer_is_waited_out_before_the_look_up(
    workflow: Callable[..., BookingWorkflow], store: BookingStore, hotelbeds: HotelbedsSandbox
) -> None:
    record = accepted(store)
    hotelbeds.configure_faults({"queue": [{"kind": "slow", "seconds": 1.5, "method": "POST", "path": BOOKINGS}]})
    started = time.monotonic()
    done = workflow(settle_seconds=2.5, HOTELBEDS_TIMEOUT_SECONDS=0.5).advance(record.id)
    assert done is not None
    assert (done.status, done.sends) == ("confirmed", 1)
    assert time.monotonic() - started >= 2.5  # nothing was looked up before Hotelbeds could have finished
    assert made(hotelbeds, record) == 1


def test_a_booking_hotelbeds_refuses_fails_with_why(
    workflow: Callable[..., BookingWorkflow], store: BookingStore, hotelbeds: HotelbedsSandbox
) -> None:
    record = accepted(store, rate_key=RATE_KEY.replace("656.04", "1.00"))  # a key that was never offered
    done = workflow().advance(record.id)
    assert done is not None
    assert done.status == "failed"
    assert done.failure is not None
    assert "HTTP 400" in done.failure
    assert done.public()["status"] == "failed"
    assert made(hotelbeds, record) == 0


def test_a_recheck_rate_is_checked_before_it_is_booked(
    workflow: Callable[..., BookingWorkflow], store: BookingStore, hotelbeds: HotelbedsSandbox
) -> None:
    record = accepted(store, rate_key=RECHECK_KEY, rate_type="RECHECK")
    done = workflow().advance(record.id)
    assert done is not None
    assert done.status == "confirmed"
    assert [path for method, path, _ in hotelbeds.requests if method == "POST"] == [
        "/hotel-api/1.0/checkrates",
        BOOKINGS,
    ]


def test_after_the_last_send_with_no_booking_found_it_fails(
    workflow: Callable[..., BookingWorkflow], store: BookingStore, hotelbeds: HotelbedsSandbox
) -> None:
    record = accepted(store)
    hotelbeds.configure_faults({"rules": [{"method": "POST", "path": BOOKINGS, "status": 1.0}]})
    done = workflow().advance(record.id)
    assert done is not None
    assert (done.status, done.sends, done.failure) == ("failed", 3, "Hotelbeds did not confirm the booking")
    assert made(hotelbeds, record) == 0


def test_a_spent_quota_leaves_the_booking_as_it_was(
    workflow: Callable[..., BookingWorkflow], store: BookingStore, hotelbeds: HotelbedsSandbox
) -> None:
    record = accepted(store)
    flow = workflow()
    flow.gateway.availability(
        AvailabilitySearch.model_validate({**stay(nights=1), "rooms": [{"adults": 1}], "hotels": [9]})
    )
    hotelbeds.configure_faults({"daily_quota": 1})
    with pytest.raises(QuotaExhaustedError):
        flow.advance(record.id)
    kept = store.get(record.id)
    assert kept is not None
    assert (kept.status, kept.sends, kept.sent_at) == ("pending", 0, None)
    with pytest.raises(ThrottledError):  # now our limiter refuses first: nothing reaches Hotelbeds
        flow.advance(record.id)
    assert hotelbeds.fault_report()["over_quota"] == 1


def test_two_workers_on_one_booking_make_one_booking(
    workflow: Callable[..., BookingWorkflow], store: BookingStore, hotelbeds: HotelbedsSandbox
) -> None:
    record = accepted(store)
    hotelbeds.configure_faults({"latency": 0.3})
    results: list[BookingRecord | None] = []
    workers = [threading.Thread(target=lambda: results.append(workflow().advance(record.id))) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(result.status for result in results if result is not None) == ["confirmed"]
    assert results.count(None) == 3
    assert made(hotelbeds, record) == 1


def test_a_resend_refused_is_looked_up_not_failed(
    workflow: Callable[..., BookingWorkflow], store: BookingStore, hotelbeds: HotelbedsSandbox
) -> None:
    # A 5xx left the booking in doubt; the look-up found none; the resend is refused with a 409, which
    # could mean an earlier send holds the rate: it is looked up again, not failed, and sent a third time.
    record = accepted(store)
    hotelbeds.configure_faults(
        {
            "queue": [
                {"kind": "status", "status": 500, "method": "POST", "path": BOOKINGS},
                {"kind": "status", "status": 409, "method": "POST", "path": BOOKINGS},
            ]
        }
    )
    done = workflow().advance(record.id)
    assert done is not None
    assert (done.status, done.sends) == ("confirmed", 3)
    looked_up = [path for method, path, _ in hotelbeds.requests if method == "GET" and path == BOOKINGS]
    assert len(looked_up) == 2
    assert made(hotelbeds, record) == 1


def test_a_booking_never_sent_in_time_fails(
    workflow: Callable[..., BookingWorkflow], store: BookingStore, hotelbeds: HotelbedsSandbox, hotelbeds_gateway: Any
) -> None:
    record = accepted(store)
    flow = BookingWorkflow(hotelbeds_gateway(), store, settle_seconds=0, max_unsent_seconds=0)
    done = flow.advance(record.id)
    assert done is not None
    assert (done.status, done.failure) == ("failed", "the booking could not be sent to Hotelbeds in time")
    assert made(hotelbeds, record) == 0


def test_a_worker_that_fails_mid_send_keeps_the_booking_locked_until_hotelbeds_is_done(
    workflow: Callable[..., BookingWorkflow], store: BookingStore, hotelbeds: HotelbedsSandbox
) -> None:
    record = accepted(store)
    flow = workflow(settle_seconds=60)

    def store_gone(*_: Any, **__: Any) -> BookingRecord:
        raise ConnectionError("the bookings table did not answer")

    flow.store = BookingStore(store.client, store.table)
    flow.store.confirm = store_gone  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        flow.advance(record.id)
    # Its confirmation is not stored: nobody may look it up or send it before the lock runs out.
    assert workflow().advance(record.id) is None
    kept = store.get(record.id)
    assert kept is not None
    assert (kept.status, kept.sends) == ("in-doubt", 1)
    assert made(hotelbeds, record) == 1


def test_a_failed_attempt_goes_to_the_back_of_the_in_doubt_jobs_order(
    workflow: Callable[..., BookingWorkflow], store: BookingStore, hotelbeds: HotelbedsSandbox
) -> None:
    stuck = accepted(store, rate_key=RECHECK_KEY, rate_type="RECHECK")
    hotelbeds.configure_faults({"rules": [{"method": "POST", "path": "/hotel-api/1.0/checkrates", "status": 1.0}]})
    before = store.get(stuck.id)
    assert before is not None
    time.sleep(0.01)
    with pytest.raises(IntegrationError):
        workflow().advance(stuck.id)
    after = store.get(stuck.id)
    assert after is not None
    assert (after.status, after.sends) == ("pending", 0)
    assert after.updated_at > before.updated_at
    hotelbeds.configure_faults({})
    done = workflow().advance(stuck.id)  # unlocked: the next attempt takes it
    assert done is not None
    assert done.status == "confirmed"


def test_a_key_whose_idempotency_record_expired_still_names_its_own_booking(
    project_stack: LocalStack, store: BookingStore
) -> None:
    # Powertools forgets a key after a day; the booking does not: the same key with another body is refused.
    queue_url = project_stack.template.physical["HotelBookingsQueue"]["QueueUrl"]
    desk = BookingDesk(store, aws_client("sqs"), queue_url)
    key = f"hotel-bookings-create:{uuid.uuid4().hex}"
    request = accepted(store).request
    first = desk.accept("caller", key, request)
    assert desk.accept("caller", key, request).id == first.id  # the same booking, queued again
    other = request.model_copy(update={"remark": "another booking"})
    with pytest.raises(ProblemError) as refused:
        desk.accept("caller", key, other)
    assert refused.value.problem.status == 422


def test_each_guest_goes_to_the_room_of_the_rate_they_name(
    workflow: Callable[..., BookingWorkflow], store: BookingStore, hotelbeds: HotelbedsSandbox
) -> None:
    two_rooms = "20350601|20350604|W|1|1|DBL.ST|NOR-BOOKABLE|RO||2~4~0||N@1312.08"  # one rate, two rooms
    guests = [{"name": f"G{n}", "surname": "L", "room": 1 + n % 2} for n in range(4)]
    record = accepted(store, rate_key=two_rooms, guests=guests)
    done = workflow().advance(record.id)
    assert done is not None
    assert done.status == "confirmed", done.failure
    booked = hotelbeds.bookings[done.booking.reference]  # type: ignore[union-attr]
    assert sorted(pax["roomId"] for room in booked["hotel"]["rooms"] for pax in room["paxes"]) == [1, 1, 2, 2]
    third = accepted(store, rate_key=two_rooms, guests=[{"name": "G", "surname": "L", "room": 3}])
    refused = workflow().advance(third.id)
    assert refused is not None
    assert refused.status == "failed"  # the rate has two rooms: Hotelbeds refuses a third
    assert made(hotelbeds, third) == 0


def live(hotelbeds: HotelbedsSandbox, record: BookingRecord) -> list[str]:
    """References of the bookings the sandbox holds, not cancelled, under the record's clientReference."""
    return [
        booking["reference"]
        for booking in hotelbeds.booking_report()["bookings"]
        if booking["clientReference"] == record.client_reference and booking["status"] != "CANCELLED"
    ]


def test_a_confirmation_later_than_the_settle_time_is_made_twice_and_the_audit_cancels_the_extra_one(
    workflow: Callable[..., BookingWorkflow], store: BookingStore, hotelbeds: HotelbedsSandbox, hotelbeds_gateway: Any
) -> None:
    # The first send is confirmed 2 s after it went out; the client gave up at 0.3 s, the settle time (1 s from
    # the send) found nothing, and the resend was booked at once: Hotelbeds holds two bookings.
    record = accepted(store)
    hotelbeds.configure_faults({"queue": [{"kind": "slow", "seconds": 2.0, "method": "POST", "path": BOOKINGS}]})
    started = time.monotonic()
    done = workflow(settle_seconds=1.0, HOTELBEDS_TIMEOUT_SECONDS=0.3).advance(record.id)
    assert done is not None
    assert (done.status, done.sends) == ("confirmed", 2)
    assert time.monotonic() - started < 2.0  # the resend went out before the first send was booked
    assert done.audit_at is not None  # sent twice: a suspect
    while made(hotelbeds, record) < 2:
        assert time.monotonic() - started < 10
        time.sleep(0.05)
    audit = BookingAudit(hotelbeds_gateway(), store, settle_seconds=1.0)
    assert audit.audit(record.id) == "audit-duplicates-cancelled"
    assert done.booking is not None
    assert live(hotelbeds, record) == [done.booking.reference]  # the one the record names is kept
    assert audit.audit(record.id) == "audit-matches"  # looked again: nothing more to cancel, nothing counted twice
    after = store.get(record.id)
    assert after is not None
    assert (after.status, len(after.cancelled_duplicates), after.audits) == ("confirmed", 1, 2)
    assert after.audit_at is not None and after.audit_at > time.time() + 60 * 4 - 10  # the second look: 4 min on


def test_a_booking_failed_before_its_slow_confirmation_is_adopted_by_the_audit(
    store: BookingStore, hotelbeds: HotelbedsSandbox, hotelbeds_gateway: Any
) -> None:
    record = accepted(store)
    hotelbeds.configure_faults({"queue": [{"kind": "slow", "seconds": 1.0, "method": "POST", "path": BOOKINGS}]})
    gateway = hotelbeds_gateway(HOTELBEDS_TIMEOUT_SECONDS=0.3)
    failed = BookingWorkflow(gateway, store, settle_seconds=0.5, max_sends=1).advance(record.id)
    assert failed is not None
    assert (failed.status, failed.failure) == ("failed", "Hotelbeds did not confirm the booking")
    while made(hotelbeds, record) < 1:
        time.sleep(0.05)
    assert BookingAudit(gateway, store, settle_seconds=0.5).audit(record.id) == "audit-adopted"
    adopted = store.get(record.id)
    assert adopted is not None
    assert adopted.status == "confirmed"
    assert adopted.failure is None
    assert adopted.booking is not None
    assert live(hotelbeds, record) == [adopted.booking.reference]


def test_a_booking_confirmed_by_its_only_answer_is_never_audited(
    workflow: Callable[..., BookingWorkflow], store: BookingStore, hotelbeds: HotelbedsSandbox
) -> None:
    plain, doubted = accepted(store), accepted(store)
    assert workflow().advance(plain.id) is not None
    hotelbeds.configure_faults({"queue": [{"kind": "lost", "method": "POST", "path": BOOKINGS}]})
    assert workflow().advance(doubted.id) is not None
    due = store.due_for_audit(time.time() + 1)
    assert doubted.id in due  # found by a look-up, not by its answer: a suspect
    assert plain.id not in due


def test_a_cancelled_booking_with_a_second_booking_at_hotelbeds_has_both_cancelled(
    workflow: Callable[..., BookingWorkflow], store: BookingStore, hotelbeds: HotelbedsSandbox, hotelbeds_gateway: Any
) -> None:
    record = accepted(store)
    hotelbeds.configure_faults({"queue": [{"kind": "lost", "method": "POST", "path": BOOKINGS}]})
    done = workflow().advance(record.id)
    assert done is not None
    assert done.booking is not None
    gateway = hotelbeds_gateway()
    extra = gateway.book(done.request.body(record.client_reference, [RATE_KEY]))  # made twice, somehow
    store.cancel(record.id, gateway.cancel_booking(done.booking.reference))
    assert live(hotelbeds, record) == [extra.reference]
    assert BookingAudit(gateway, store, settle_seconds=0).audit(record.id) == "audit-duplicates-cancelled"
    assert live(hotelbeds, record) == []


def test_a_look_up_that_finds_two_bookings_keeps_the_first_and_the_audit_cancels_the_second(
    workflow: Callable[..., BookingWorkflow], store: BookingStore, hotelbeds: HotelbedsSandbox, hotelbeds_gateway: Any
) -> None:
    record = accepted(store)
    gateway = hotelbeds_gateway()
    body = record.request.body(record.client_reference, [RATE_KEY])
    first, second = gateway.book(body), gateway.book(body)
    # As if both had been sent and neither answered: the record is in doubt.
    owner = "a-worker-that-died"
    assert store.claim(record.id, owner, time.time() + 1) is not None
    store.mark_sent(record.id, owner, audit_after=0)
    store.release(record.id, owner)
    done = workflow().advance(record.id)
    assert done is not None
    assert done.booking is not None
    assert (done.status, done.booking.reference) == ("confirmed", first.reference)
    assert BookingAudit(gateway, store, settle_seconds=0).audit(record.id) == "audit-duplicates-cancelled"
    assert live(hotelbeds, record) == [first.reference]
    assert second.reference not in live(hotelbeds, record)


@pytest.mark.parametrize(
    "case",
    [
        (
            (RECHECK_KEY, "RECHECK"),
            {"amount": "458.51", "currency": "EUR"},
            "the price, 458.52 EUR, is above max_total",
        ),
        ((RATE_KEY, "BOOKABLE"), {"amount": "600", "currency": "EUR"}, "the price, 656.04 EUR, is above max_total"),
        ((RATE_KEY, "BOOKABLE"), {"amount": "700", "currency": "USD"}, "priced in EUR, not in max_total's USD"),
        ((RECHECK_KEY, "RECHECK"), {"amount": "458.52", "currency": "EUR"}, None),
        ((RATE_KEY, "BOOKABLE"), {"amount": "1000.00", "currency": "EUR"}, None),
    ],
)
def test_a_price_above_max_total_fails_the_booking_before_anything_is_booked(
    workflow: Callable[..., BookingWorkflow],
    store: BookingStore,
    hotelbeds: HotelbedsSandbox,
    case: tuple[tuple[str, str], dict[str, str], str | None],
) -> None:
    (rate_key, rate_type), limit, failure = case
    record = accepted(store, rate_key=rate_key, rate_type=rate_type, max_total=limit)
    done = workflow().advance(record.id)
    assert done is not None
    if failure is None:
        assert done.status == "confirmed", done.failure
        assert made(hotelbeds, record) == 1
        return
    assert done.status == "failed"
    assert done.failure is not None
    assert failure in done.failure
    assert made(hotelbeds, record) == 0
    assert [path for method, path, _ in hotelbeds.requests if method == "POST"] == ["/hotel-api/1.0/checkrates"]


def test_a_bookings_table_out_of_reach_is_the_layers_store_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # DynamoDB down
    store = BookingStore(aws_client("dynamodb", ClientTimeouts(connect=0.2, read=0.2, attempts=1)), "bookings")
    with pytest.raises(StoreUnavailableError, match="bookings table") as raised:
        store.open_bookings(idle_since=time.time())  # the in-doubt job's first call: a 503-like refusal, no traceback
    assert type(raised.value.__cause__).__name__ == "EndpointConnectionError"  # botocore's, kept for the logs
    with pytest.raises(StoreUnavailableError, match="bookings table"):
        store.get("bk_1")

"""Hotel bookings' rare days at random: answers lost, late by up to 300 s, refused after booking, workers dying.

A hypothesis ``RuleBasedStateMachine`` drives the real booking code (the
worker's patient workflow, the resolver's impatient one and its audit, the
bookings store on the template's own table in moto) against a simulated
Hotelbeds on a simulated clock: confirmations that arrive minutes after the
client gave up cannot be waited for in real time. The simulated Hotelbeds
is APItude's booking behaviour alone: a booking per send that reaches it
(never deduplicated by clientReference), a list by clientReference, detail
and idempotent cancellation; the wire format is the sandbox's job
(tests/providers/hotelbeds/test_bookings.py runs the same paths over HTTP).

Rules accept bookings; let the worker send one with a plan of faults for its
sends (answered, slow by up to 300 s, lost after booking, reset, 5xx, a 400
or 500 after booking, a 400 or 409 refusal, the quota spent, the breaker
open, the worker dying with the send in flight); run the resolver (open
bookings, then the audit) with its look-ups or cancellations failing;
let customers cancel; and let time pass. After draining (faults end, every
late confirmation lands, the resolver runs until the audit has seen every
suspect through its window), the invariants:

- per clientReference, exactly one live booking at Hotelbeds iff the record
  is ``confirmed`` (and it is the one the record names); none when
  ``failed`` or ``cancelled``; no record left open;
- every extra booking cancelled was counted once (``BookingDuplicateCancelled``).

The suite runs a fixed seed and a random one (printed);
``--hypothesis-profile=long`` runs many more and longer schedules.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import time
import uuid
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from unittest import mock

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, rule

import seawall.deadline
from local.aws import MotoServer, aws_client
from local.template import Template
from seawall.deadline import Deadline, bind_deadline
from seawall.errors import CircuitOpenError, IntegrationError, NotAttemptedError, ProviderTimeoutError
from seawall.providers.hotelbeds.bookings import (
    BookingAudit,
    BookingRecord,
    BookingRequest,
    BookingStore,
    _audit,
    _store,
    _workflow,
)
from seawall.providers.hotelbeds.bookings._request import booking_ids
from seawall.providers.hotelbeds.bookings._workflow import BookingWorkflow
from seawall.providers.hotelbeds.errors import QuotaExhaustedError
from seawall.providers.hotelbeds.models import Booking, BookingSummary
from tests.support.model import run_seeded

FIXED_SEED = 23
EXAMPLES, STEPS = 12, 30
TIMEOUT = 60.0  # the client's read timeout for a confirmation (HOTELBEDS_TIMEOUT_SECONDS)
SETTLE = 180.0  # HotelbedsBookingSettleSeconds' default
WORKER_SECONDS = 300.0  # the worker's and the resolver's Timeout
MAX_LATENCY = 300.0
SEND_FAULTS = (
    "answered",
    "lost",
    "reset",
    "unavailable",
    "error-after",
    "refused-after",
    "refused",
    "conflict",
    "quota",
    "circuit-open",
    "worker-dies",
)
TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
REQUEST = BookingRequest.model_validate(
    {
        "holder": {"name": "Ada", "surname": "Lovelace"},
        "rooms": [
            {
                "rate_key": "20350601|20350604|W|1|1|DBL.ST|NOR-BOOKABLE|RO||1~2~0||N@656.04",
                "guests": [{"name": "Ada", "surname": "L"}],
            }
        ],
    }
)


class WorkerDied(Exception):
    """The worker's container stopped with a send in flight (its lock stands until it runs out)."""


# A send's fault: half the sends answered late (after the client gave up, or not), the rest one of the others.
SEND = st.one_of(
    st.tuples(st.just("slow"), st.floats(0, MAX_LATENCY, allow_nan=False)),
    st.tuples(st.sampled_from(SEND_FAULTS), st.just(0.0)),
)
# What a worker's or the resolver's step may end with (the worker's message, or the run, goes on).
FAILURES = (IntegrationError, NotAttemptedError, WorkerDied)


class SimClock:
    """Unix time and the monotonic clock, both simulated; sleeping moves it on and lets late bookings land."""

    def __init__(self) -> None:
        self.now = time.time()
        self.hotelbeds: SimulatedHotelbeds | None = None

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        if self.hotelbeds is not None:
            self.hotelbeds.land(self.now)


@dataclass
class Made:
    reference: str
    client_reference: str
    status: str = "CONFIRMED"


class SimulatedHotelbeds:
    """APItude's bookings as the workflow and the audit use them, with a plan of faults for the next calls."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.bookings: dict[str, Made] = {}  # in the order made: the list's order
        self.on_the_way: list[tuple[float, str]] = []  # (when it is made, clientReference)
        self.sends: deque[tuple[str, float]] = deque()  # the next sends' faults and latencies
        self.failing_lists = 0
        self.failing_cancels = 0
        self.sequence = 0

    def land(self, now: float) -> None:
        for due, client_reference in sorted(self.on_the_way):
            if due <= now:
                self.make(client_reference)
        self.on_the_way = [(due, reference) for due, reference in self.on_the_way if due > now]

    def make(self, client_reference: str) -> Made:
        self.sequence += 1
        made = Made(f"1-{self.sequence:07d}", client_reference)
        self.bookings[made.reference] = made
        return made

    def model(self, made: Made) -> Booking:
        return Booking.model_validate(
            {
                "reference": made.reference,
                "clientReference": made.client_reference,
                "status": made.status,
                "totalNet": "656.04",
                "currency": "EUR",
                "hotel": {"code": 1, "name": "Hotel 1", "checkIn": "2035-06-01", "checkOut": "2035-06-04"},
            }
        )

    def book(self, body: dict[str, Any]) -> Booking:
        kind, latency = self.sends.popleft() if self.sends else ("answered", 0.0)
        reference = str(body["clientReference"])
        match kind:
            case "slow" if latency > TIMEOUT:
                self.on_the_way.append((self.clock.now + latency, reference))
                self.clock.advance(TIMEOUT)
                raise ProviderTimeoutError("hotelbeds")
            case "slow":
                self.clock.advance(latency)
            case "lost":
                self.make(reference)
                raise IntegrationError("hotelbeds", "connection lost")
            case "reset":
                raise IntegrationError("hotelbeds", "connection reset")
            case "unavailable":
                raise IntegrationError("hotelbeds", "unavailable", status_code=503)
            case "error-after":
                self.make(reference)
                raise IntegrationError("hotelbeds", "error", status_code=500)
            case "refused-after":
                self.make(reference)
                raise IntegrationError("hotelbeds", "refused", status_code=400)
            case "refused":
                raise IntegrationError("hotelbeds", "refused", status_code=400)
            case "conflict":
                raise IntegrationError("hotelbeds", "conflict", status_code=409)
            case "quota":
                raise QuotaExhaustedError(retry_after=3600)
            case "circuit-open":
                raise CircuitOpenError("hotelbeds", retry_after=30)
            case "worker-dies":
                self.make(reference)
                raise WorkerDied
        return self.model(self.make(reference))

    def find_bookings(self, client_reference: str, *, created_on: dt.date) -> list[BookingSummary]:
        if self.failing_lists:
            self.failing_lists -= 1
            raise IntegrationError("hotelbeds", "unavailable", status_code=503)
        return [
            BookingSummary(reference=made.reference, client_reference=made.client_reference, status=made.status)
            for made in self.bookings.values()
            if made.client_reference == client_reference
        ]

    def booking(self, reference: str) -> Booking:
        return self.model(self.bookings[reference])

    def cancel_booking(self, reference: str) -> Booking:
        if self.failing_cancels:
            self.failing_cancels -= 1
            raise IntegrationError("hotelbeds", "unavailable", status_code=503)
        self.bookings[reference].status = "CANCELLED"
        return self.model(self.bookings[reference])

    def live(self, client_reference: str) -> list[str]:
        return [
            made.reference
            for made in self.bookings.values()
            if made.client_reference == client_reference and made.status != "CANCELLED"
        ]


@dataclass
class Tally:
    """What a run covered, over all its schedules (printed as JSON: docs/benchmarks.md)."""

    schedules: int = 0
    bookings: int = 0
    sends: int = 0
    made: int = 0
    made_twice: int = 0  # clientReferences Hotelbeds booked more than once before the audit
    duplicates_cancelled: int = 0
    adopted: int = 0
    double: int = 0
    orphan: int = 0
    final: Counter[str] = field(default_factory=Counter)


class HotelbedsBookings(RuleBasedStateMachine):
    """The booking workflow, the resolver and its audit, customers cancelling, on a simulated clock."""

    moto: ClassVar[MotoServer]
    tally: ClassVar[Tally]
    records = Bundle("records")

    def __init__(self) -> None:
        super().__init__()
        self.clock = SimClock()
        self.hotelbeds = SimulatedHotelbeds(self.clock)
        self.clock.hotelbeds = self.hotelbeds
        self.counted: Counter[str] = Counter()
        self.patches = [
            mock.patch.object(module, "time", self.clock) for module in (_workflow, _store, _audit, seawall.deadline)
        ]
        self.patches.append(mock.patch.object(_audit, "emit", lambda name, *_, **__: self.counted.update([name])))
        for patch in self.patches:
            patch.start()
        dynamodb = aws_client("dynamodb", self.moto.endpoint)
        table = f"hotel-bookings-{uuid.uuid4().hex[:10]}"
        properties = Template(TEMPLATE).resources["HotelBookingsTable"]["Properties"]
        dynamodb.create_table(
            TableName=table,
            **{
                name: properties[name]
                for name in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "BillingMode")
            },
        )
        self.store = BookingStore(dynamodb, table)
        gateway: Any = self.hotelbeds
        self.worker = BookingWorkflow(gateway, self.store, settle_seconds=SETTLE)
        self.resolver = BookingWorkflow(gateway, self.store, settle_seconds=SETTLE, patient=False)
        self.audit = BookingAudit(gateway, self.store, settle_seconds=SETTLE)
        self.ids: list[str] = []

    @rule(target=records)
    def accept(self) -> str:
        booking_id, client_reference = booking_ids(uuid.uuid4().hex)
        now = self.clock.now
        self.store.create(BookingRecord(booking_id, "caller", client_reference, "pending", REQUEST, now, now))
        self.ids.append(booking_id)
        return booking_id

    @rule(
        booking=records,
        sends=st.lists(SEND, max_size=4),
    )
    def work(self, booking: str, sends: list[tuple[str, float]]) -> None:
        """The worker takes the booking's message: as many sends as its invocation allows, each with its fault."""
        self.hotelbeds.sends = deque(sends)
        with bind_deadline(Deadline.after(WORKER_SECONDS)), contextlib.suppress(*FAILURES):
            self.worker.advance(booking)
        self.hotelbeds.sends.clear()

    @rule(
        sends=st.lists(SEND, max_size=3),
        failing_lists=st.integers(0, 2),
        failing_cancels=st.integers(0, 2),
    )
    def resolve(self, sends: list[tuple[str, float]], failing_lists: int, failing_cancels: int) -> None:
        """A scheduled resolver run: open bookings idle past the settle time, then the audit's due suspects."""
        self.hotelbeds.sends = deque(sends)
        self.hotelbeds.failing_lists, self.hotelbeds.failing_cancels = failing_lists, failing_cancels
        self.resolve_once()
        self.hotelbeds.sends.clear()
        self.hotelbeds.failing_lists = self.hotelbeds.failing_cancels = 0

    def resolve_once(self) -> None:
        with bind_deadline(Deadline.after(WORKER_SECONDS)):
            for booking in self.store.open_bookings(idle_since=self.clock.now - SETTLE):
                try:
                    self.resolver.advance(booking)
                except FAILURES:
                    continue
            for booking in self.audit.due():
                try:
                    self.audit.audit(booking)
                except IntegrationError:
                    continue

    @rule(booking=records, fails=st.booleans())
    def cancel(self, booking: str, fails: bool) -> None:
        """The customer cancels (DELETE /hotel-bookings/{id}): only a confirmed booking is cancelled."""
        record = self.store.get(booking)
        if record is None or record.status != "confirmed" or record.booking is None:
            return
        self.hotelbeds.failing_cancels = int(fails)
        with contextlib.suppress(IntegrationError):
            self.store.cancel(booking, self.hotelbeds.cancel_booking(record.booking.reference))
        self.hotelbeds.failing_cancels = 0

    @rule(seconds=st.floats(1, 900, allow_nan=False))
    def wait(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def drain(self) -> None:
        """Faults end, every late confirmation lands, the resolver runs until no booking is open or left to audit."""
        self.clock.advance(MAX_LATENCY + SETTLE)
        for _ in range(100):
            self.resolve_once()
            records = [record for record in map(self.store.get, self.ids) if record is not None]
            due = [record.audit_at for record in records if record.audit_at is not None]
            if not due and not any(record.open for record in records):
                return
            self.clock.advance(max(SETTLE, min(due, default=0.0) - self.clock.now))
        raise AssertionError("the resolver never finished")

    def teardown(self) -> None:
        try:
            self.drain()
            self.check()
        finally:
            for patch in reversed(self.patches):
                patch.stop()

    def check(self) -> None:
        tally = self.tally
        tally.schedules += 1
        tally.made += len(self.hotelbeds.bookings)
        for booking in self.ids:
            record = self.store.get(booking)
            assert record is not None
            assert not record.open, record
            live = self.hotelbeds.live(record.client_reference)
            tally.bookings += 1
            tally.sends += record.sends
            tally.final[record.status] += 1
            tally.made_twice += (
                sum(made.client_reference == record.client_reference for made in self.hotelbeds.bookings.values()) > 1
            )
            tally.double += len(live) > 1
            tally.orphan += bool(live) and record.status != "confirmed"
            if record.status == "confirmed":
                assert record.booking is not None
                assert live == [record.booking.reference], (record, live)
            else:
                assert live == [], (record, live)
            for reference in record.cancelled_duplicates:
                assert self.hotelbeds.bookings[reference].status == "CANCELLED"
        duplicates = sum(len(record.cancelled_duplicates) for record in map(self.store.get, self.ids) if record)
        assert self.counted["BookingDuplicateCancelled"] == duplicates, "each extra booking counted once"
        tally.duplicates_cancelled += duplicates
        tally.adopted += self.counted["BookingAdopted"]


def run_machine(moto: MotoServer, chosen_seed: int) -> None:
    print(f"HotelbedsBookings: seed {chosen_seed}")
    HotelbedsBookings.moto, HotelbedsBookings.tally = moto, Tally()

    run_seeded(HotelbedsBookings, chosen_seed, EXAMPLES, STEPS)
    tally = HotelbedsBookings.tally
    print(json.dumps({"seed": chosen_seed, **asdict(tally), "final": dict(tally.final)}))


def test_hotel_bookings_with_a_fixed_seed(moto_server: MotoServer) -> None:
    run_machine(moto_server, FIXED_SEED)


def test_hotel_bookings_with_a_random_seed(moto_server: MotoServer) -> None:
    run_machine(moto_server, random.SystemRandom().randrange(2**32))


def test_a_booking_refused_after_a_send_that_lands_later_is_adopted(moto_server: MotoServer) -> None:
    # A schedule the random ones rarely draw: the first send answered after the settle time (250 s), the
    # resend refused with a 400 (the booking fails), then the first send's booking lands: the audit adopts it.
    HotelbedsBookings.moto, HotelbedsBookings.tally = moto_server, Tally()
    machine = HotelbedsBookings()
    booking = machine.accept()
    machine.work(booking, [("slow", 250.0), ("refused", 0.0)])
    record = machine.store.get(booking)
    assert record is not None
    assert record.status == "failed"
    machine.teardown()  # drains: the late booking lands, the audit adopts it; the invariants hold
    assert machine.counted["BookingAdopted"] == 1
    assert HotelbedsBookings.tally.final == {"confirmed": 1}

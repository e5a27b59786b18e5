"""The projector's rare paths at random: busy aggregates, markers past their time, items from before, deletions.

A hypothesis ``RuleBasedStateMachine`` drives ``Projector`` on moto (a projection table with its stream, an
outbox table) with a clock it moves on by days: customers' updates and deletions arrive in any order, come
again (a redelivery, a redrive, a reconciliation's overlap) while their markers must still hold, aggregates
pass the markers an item holds, markers pass their 35 days and are pruned, and aggregates recorded by the
previous design (a count on the item, markers as rows) receive new events and old ones again. Invariants,
after every step and over the stream at the end:

- an event is recorded once while its marker lasts: one fact, never a second;
- each aggregate's facts come off the stream numbered 1, 2, 3... in order, one per event recorded;
- an item holds at most ``markers_per_item`` markers before its markers move to rows;
- the projection is the latest update's, or deleted; a deleted customer's item holds no name, in its
  projection or in the fact it holds.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from local.aws import MotoServer, aws_client
from seawall.webhooks import projections
from seawall.webhooks.projections import (
    FACT_RETENTION_SECONDS,
    MARKER_PREFIX,
    DomainEvent,
    Projector,
    Write,
    markers_are_rows,
    order_key,
)
from tests.support.model import run_seeded
from tests.support.streams import stream_pages

FIXED_SEED = 7
EXAMPLES, STEPS = 15, 30
MARKERS_ON_AN_ITEM = 3
CUSTOMERS = ("cus_a", "cus_b", "cus_c")
DAY = 86_400
CUSTOMER_CONDITION = "attribute_not_exists(#deleted) OR #deleted = :deleted"


@dataclass
class Sent:
    """An event the model sent, and what became of it."""

    write: Write
    recorded_at: float | None = None  # when its fact was recorded (model clock); None while not yet


@dataclass
class Clock:
    """The projector's clock (its module's ``time``): now, moved on by the model."""

    offset: float = 0.0

    def time(self) -> float:
        return time.time() + self.offset


class Projections(RuleBasedStateMachine):
    """One example: a projection table, its outbox, and the events sent to them."""

    moto: ClassVar[MotoServer]
    clock: ClassVar[Clock]

    def __init__(self) -> None:
        super().__init__()
        self.dynamodb = aws_client("dynamodb", self.moto.endpoint)
        uid = uuid.uuid4().hex[:8]
        self.table, self.outbox = f"customers-{uid}", f"outbox-{uid}"
        for name, stream in ((self.table, True), (self.outbox, False)):
            self.dynamodb.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                **(
                    {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
                    if stream
                    else {}
                ),
            )
        self.projector = Projector(self.dynamodb, self.outbox, markers_per_item=MARKERS_ON_AN_ITEM)
        self.sent: list[Sent] = []
        self.recorded: defaultdict[str, int] = defaultdict(int)  # facts recorded by aggregate
        self.legacy: dict[str, int] = {}  # aggregates the previous design recorded: facts it counted
        self.last_write: dict[str, float] = {}  # when each aggregate last recorded a fact (model clock)
        self.created = 1_000

    def teardown(self) -> None:
        try:
            self.check_stream()
        finally:
            self.clock.offset = 0.0
            for name in (self.table, self.outbox):
                self.dynamodb.delete_table(TableName=name)

    # Events ------------------------------------------------------------------------------------

    def write(self, customer: str, *, deleted: bool, created: int) -> Write:
        event_id = f"evt_{uuid.uuid4().hex[:14]}"
        name = f"name-{event_id}"
        detail = {"customer_id": customer} if deleted else {"customer_id": customer, "name": name}
        fact = DomainEvent(
            f"stripe:{event_id}", "integrations.stripe", "CustomerDeleted" if deleted else "CustomerUpserted", detail
        )
        if deleted:
            order = order_key(created, 2, event_id)
            return Write(self.table, customer, "customer", {"deleted": True}, order, fact, final=True, remove=("name",))
        values = {"name": name, "deleted": False}
        order = order_key(created, 1, event_id)
        return Write(self.table, customer, "customer", values, order, fact, condition=CUSTOMER_CONDITION)

    def apply(self, sent: Sent) -> None:
        outcome = self.projector.apply(sent.write)
        live = sent.recorded_at is not None and self.clock.time() - sent.recorded_at < FACT_RETENTION_SECONDS
        if sent.recorded_at is None:
            assert outcome != "duplicate", "an event never recorded was taken for a duplicate"
        elif live:
            assert outcome == "duplicate", "an event recorded while its marker lasts was recorded again"
        if outcome != "duplicate":
            sent.recorded_at = self.last_write[sent.write.key] = self.clock.time()
            self.recorded[sent.write.key] += 1

    @rule(
        customer=st.sampled_from(CUSTOMERS), kind=st.sampled_from(["update"] * 4 + ["delete"]), back=st.integers(0, 3)
    )
    def new_event(self, customer: str, kind: str, back: int) -> None:
        """A new event, created up to three seconds before the last (Stripe's order is not arrival's)."""
        self.created += 1
        sent = Sent(self.write(customer, deleted=kind == "delete", created=self.created - back))
        self.sent.append(sent)
        self.apply(sent)

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def again(self, data: st.DataObject) -> None:
        """An event delivered again: a redelivery, a redrive, a reconciliation's overlap."""
        live = [
            sent
            for sent in self.sent
            if sent.recorded_at is not None and self.clock.time() - sent.recorded_at < FACT_RETENTION_SECONDS - DAY
        ]
        if live:
            self.apply(data.draw(st.sampled_from(live)))

    @rule(days=st.integers(1, 40))
    def days_pass(self, days: int) -> None:
        self.clock.offset += days * DAY

    @rule(count=st.integers(1, 4))
    def recorded_before(self, count: int) -> None:
        """An aggregate the previous design recorded: its count on the item, its events' markers as rows."""
        customer = f"cus_legacy_{uuid.uuid4().hex[:6]}"
        forget_at = int(self.clock.time()) + FACT_RETENTION_SECONDS
        self.dynamodb.put_item(TableName=self.table, Item={"id": {"S": customer}, "fact_sequence": {"N": str(count)}})
        for _ in range(count):
            self.created += 1
            sent = Sent(self.write(customer, deleted=False, created=self.created), recorded_at=self.clock.time())
            self.dynamodb.put_item(
                TableName=self.outbox,
                Item={"id": {"S": sent.write.event.event_id}, "expires_at": {"N": str(forget_at)}},
            )
            self.sent.append(sent)
        self.legacy[customer] = count
        self.recorded[customer] += count

    @precondition(lambda self: self.legacy)
    @rule(data=st.data())
    def legacy_event(self, data: st.DataObject) -> None:
        customer = data.draw(st.sampled_from(sorted(self.legacy)))
        self.created += 1
        sent = Sent(self.write(customer, deleted=False, created=self.created))
        self.sent.append(sent)
        self.apply(sent)

    # Invariants ----------------------------------------------------------------------------------

    def item(self, key: str) -> dict[str, Any]:
        found: dict[str, Any] = self.dynamodb.get_item(
            TableName=self.table, Key={"id": {"S": key}}, ConsistentRead=True
        ).get("Item", {})
        return found

    @invariant()
    def items_hold_what_they_should(self) -> None:
        for key, count in self.recorded.items():
            stored = self.item(key)
            assert int(stored["fact_sequence"]["N"]) == count, (key, stored)
            markers = {name: int(value["N"]) for name, value in stored.items() if name.startswith(MARKER_PREFIX)}
            assert markers_are_rows(stored) or len(markers) <= MARKERS_ON_AN_ITEM, (key, markers)
            # A marker past its time is pruned by the aggregate's next write.
            assert all(forget_at >= int(self.last_write.get(key, 0)) for forget_at in markers.values()), markers
            if stored.get("deleted", {}).get("BOOL"):
                assert "name" not in stored, stored
                assert "name" not in json.loads(stored.get("fact_detail", {"S": "{}"})["S"]), stored
            else:
                updates = [s.write for s in self.sent if s.write.key == key and s.recorded_at is not None]
                latest = max(updates, key=lambda w: w.order, default=None)
                if latest is not None and key not in self.legacy:
                    assert stored["name"]["S"] == latest.values["name"], (key, stored)

    def check_stream(self) -> None:
        facts: defaultdict[str, list[int]] = defaultdict(list)
        ids: list[str] = []
        for page in stream_pages(self.moto.endpoint, self.table):
            for record in page:
                images = record["dynamodb"]
                fact = DomainEvent.from_image(images.get("NewImage", {}), images.get("OldImage"))
                if fact is not None:
                    facts[images["Keys"]["id"]["S"]].append(fact.detail["sequence"])
                    ids.append(fact.event_id)
        for key, count in self.recorded.items():
            first = self.legacy.get(key, 0) + 1  # the previous design published its own facts
            assert facts[key] == list(range(first, count + 1)), (key, facts[key])
        recorded = [s.write.event.event_id for s in self.sent if s.recorded_at is not None]
        assert len(ids) == sum(self.recorded.values()) - sum(self.legacy.values())
        assert set(ids) <= set(recorded)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The projector's clock, moved on by the model (nothing else's: moto and the SDK keep the real one)."""
    clock = Clock()
    monkeypatch.setattr(projections, "time", clock)
    return clock


def test_projections_at_random(moto_server: MotoServer, clock: Clock) -> None:
    print(f"Projections: seed {FIXED_SEED}")
    Projections.moto, Projections.clock = moto_server, clock
    run_seeded(Projections, FIXED_SEED, EXAMPLES, STEPS)


def test_projections_at_random_with_a_random_seed(moto_server: MotoServer, clock: Clock) -> None:
    chosen = random.SystemRandom().randrange(2**32)
    print(f"Projections: seed {chosen}")
    Projections.moto, Projections.clock = moto_server, clock
    run_seeded(Projections, chosen, EXAMPLES, STEPS)

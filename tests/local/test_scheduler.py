"""The local scheduler: the template's ScheduleV2 expressions, fired as EventBridge Scheduler fires them."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from local.aws import aws_client
from local.scheduler import Scheduler, next_firing
from local.stack import LocalStack

NOON_FRIDAY = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)  # a Friday


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("rate(1 minute)", NOON_FRIDAY + dt.timedelta(minutes=1)),
        ("rate(15 minutes)", NOON_FRIDAY + dt.timedelta(minutes=15)),
        ("rate(2 hours)", NOON_FRIDAY + dt.timedelta(hours=2)),
        ("rate(1 day)", NOON_FRIDAY + dt.timedelta(days=1)),
        ("cron(30 9 ? * MON-FRI *)", dt.datetime(2026, 11, 30, 9, 30, tzinfo=dt.UTC)),
        ("cron(0 6 * * ? *)", dt.datetime(2026, 11, 28, 6, 0, tzinfo=dt.UTC)),
        ("cron(0 8 ? * 2 *)", dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)),  # EventBridge's 2 is Monday
    ],
)
def test_rate_and_cron_expressions_fire_when_eventbridge_would(expression: str, expected: dt.datetime) -> None:
    assert next_firing(expression, NOON_FRIDAY) == expected


def test_an_unknown_expression_is_refused() -> None:
    with pytest.raises(ValueError, match="not a schedule expression"):
        next_firing("every(5 minutes)", NOON_FRIDAY)


def test_the_templates_schedules_run_their_functions(project_stack: LocalStack, moto_endpoint: str) -> None:
    scheduler = Scheduler(project_stack, speedup=3600)  # an hour a second
    assert {line.split(":")[0].strip() for line in scheduler.describe()} == {
        "Schedule StripeReconcileFunction-NewEvents",
        "Schedule StripeReconcileFunction-UndeliveredEvents",
        "Schedule HotelBookingsResolveFunction-Schedule",
        "Schedule HotelContentSyncFunction-Schedule",
    }
    # Every schedule of an hour or less fires within a second here (the daily one would take 24 s).
    hourly = {
        "StripeReconcileFunction-NewEvents",
        "StripeReconcileFunction-UndeliveredEvents",
        "HotelBookingsResolveFunction-Schedule",
    }
    stop = threading.Event()
    scheduler.start(stop)
    try:
        limit = time.monotonic() + 20
        while not hourly <= {name for name, _ in scheduler.fired} and time.monotonic() < limit:
            time.sleep(0.1)
    finally:
        stop.set()
    assert hourly <= {name for name, _ in scheduler.fired}
    table = project_stack.template.physical["StateTable"]["Ref"]
    dynamodb = aws_client("dynamodb", moto_endpoint)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # a run took the lease: the function ran with the schedule's input
        if "Item" in dynamodb.get_item(TableName=table, Key={"pk": {"S": "sync:stripe-events"}}):
            return
        time.sleep(0.2)
    pytest.fail("no scheduled run took the lease")

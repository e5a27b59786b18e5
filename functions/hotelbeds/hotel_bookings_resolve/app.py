"""Scheduled: settles hotel bookings left open, then audits the suspect ones against Hotelbeds' booking list.

Each open booking (in doubt, or pending with its messages spent) nobody has
touched for ``settle_seconds`` is advanced by the same workflow as the
worker: looked up by its clientReference, confirmed if Hotelbeds has it,
booked again only if no booking carries it. Then each suspect booking that
is due (sent more than once, or without a confirming answer) is audited:
extra bookings Hotelbeds made are cancelled, one it made for a booking we
failed is adopted (``BookingAudit``). Two runs at once are harmless (a
booking is locked by whoever advances it; the audit counts each extra once).
One booking failing does not hold up the others; a spent quota or an open
circuit ends the run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from seawall.aws import aws_client
from seawall.config import load_settings
from seawall.deadline import current_deadline
from seawall.errors import CircuitOpenError, RateLimitedError, ThrottledError
from seawall.handler import instrumented
from seawall.observability import emit, logger
from seawall.providers.hotelbeds.bookings import BookingAudit, BookingSettings, BookingStore, BookingWorkflow
from seawall.providers.hotelbeds.client import HotelbedsGateway
from seawall.state import SharedState

# A refusal shorter than this is a per-second limit, not a reason to end the run.
PAUSE_SECONDS = 5.0
# No booking is started with less time left than a look-up and a send may take.
BOOKING_SECONDS = 20.0


settings = load_settings(BookingSettings)
store = BookingStore(aws_client("dynamodb"), settings.table)
gateway = HotelbedsGateway(SharedState.from_env(), wait_for_rate_limit=True)
# One step per booking and run: no waiting out a settle time here while other bookings wait.
workflow = BookingWorkflow(gateway, store, settle_seconds=settings.settle_seconds, patient=False)
audit = BookingAudit(gateway, store, settle_seconds=settings.settle_seconds)


class Round:
    """One run's steps over bookings: each outcome counted; nothing more goes out once Hotelbeds must not be called."""

    def __init__(self) -> None:
        self.outcomes: Counter[str] = Counter()
        self.stopped = False

    def take(self, booking_ids: Iterable[str], step: Callable[[str], str]) -> None:
        """``step`` each booking while the deadline allows and Hotelbeds takes calls."""
        deadline = current_deadline()
        for booking_id in booking_ids:
            if self.stopped or (deadline is not None and not deadline.allows(BOOKING_SECONDS)):
                self.outcomes["not-reached"] += 1
                continue
            try:
                self.outcomes[step(booking_id)] += 1
            except (ThrottledError, RateLimitedError, CircuitOpenError) as error:
                if (error.retry_after or 0) < PAUSE_SECONDS:  # a second's limit: the next booking may go out
                    self.outcomes["errored"] += 1
                    continue
                # A spent quota, an open circuit: nothing more goes out now.
                logger.info("open bookings wait for Hotelbeds", extra={"error": type(error).__name__})
                self.outcomes["not-reached"] += 1
                self.stopped = True
            except Exception as error:  # noqa: BLE001 (one booking's failure must not keep the others waiting)
                logger.warning("booking not settled", extra={"booking_id": booking_id, "error": type(error).__name__})
                self.outcomes["errored"] += 1


def settle(booking_id: str) -> str:
    """Advance one open booking; where it stands after."""
    record = workflow.advance(booking_id)
    return "taken-elsewhere" if record is None else "in-doubt" if record.open else record.status


@instrumented()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """EventBridge Scheduler entry point: how many bookings it saw, and where each ended."""
    run = Round()
    run.take(store.open_bookings(idle_since=time.time() - settings.settle_seconds), settle)
    run.take(audit.due(), audit.audit)
    outcomes = run.outcomes
    report = {"examined": sum(outcomes.values()), **outcomes}
    logger.info("open bookings resolved", extra=report)
    left = outcomes["in-doubt"] + outcomes["not-reached"] + outcomes["errored"]
    emit("BookingsLeftOpen", left, provider="hotelbeds")
    return report

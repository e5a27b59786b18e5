"""One run of a sync job: take the lease, fetch and apply pages until caught up or out of time.

Each page is fetched (paced by the job's share of the provider's quota),
applied, and then checkpointed, in that order: a crash between applying and
checkpointing applies the page again on the next run (appliers are
idempotent), and never skips it. No page starts unless ``page_seconds`` are
left before the invocation's deadline, and a page the deadline cuts short is
not checkpointed, so a run stops cleanly and the next resumes from its last
checkpoint.

A run that is refused or fails on the way (our limiter or the provider's 429,
an open breaker, a provider or queue error, a store of ours down, a deadline
too short for one page) ends with its report like any other: the last
checkpoint stands, the outcome is counted, and the next scheduled run resumes.
Only a bug (any other exception) fails the invocation.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from aws_lambda_powertools.metrics import MetricUnit

from seawall.deadline import Deadline, bind_deadline, current_deadline
from seawall.errors import (
    CircuitOpenError,
    DeadlineExceededError,
    IntegrationError,
    NotAttemptedError,
    RateLimitedError,
    StoreUnavailableError,
    ThrottledError,
)
from seawall.observability import emit, error_name, logger
from seawall.sync._store import JobState, Position, SyncStore

if TYPE_CHECKING:
    from seawall.ratelimit import RateLimiter

T = TypeVar("T")

Outcome = Literal[
    "caught-up",
    "out-of-time",
    "deadline-too-short",
    "throttled",
    "circuit-open",
    "provider-error",
    "store-unavailable",
    "lease-held",
    "lease-lost",
]
# Runs that ended because something refused or failed; the schedule's next run resumes from the checkpoint.
FAILED_OUTCOMES: frozenset[Outcome] = frozenset({"throttled", "circuit-open", "provider-error", "store-unavailable"})

# The lease outlives the invocation's deadline by this much: a live run never loses it, a dead one frees it soon.
LEASE_SLACK_SECONDS = 30.0


@dataclass(frozen=True)
class Page(Generic[T]):
    """What one fetch returned: its records, where the next fetch starts once they are applied, and if more wait."""

    items: Sequence[T]
    position: Position
    has_more: bool


@dataclass(frozen=True)
class RunReport:
    """What one run did: for logs, metrics and the caller.

    ``cursor`` is the position the run left stored; ``held_from`` and
    ``held_until`` (Unix seconds) bound the time it held the lease: no two
    runs' spans overlap. ``error`` names what refused or failed the run
    (``"CircuitOpenError: stripe"``), never a message a provider wrote, and
    ``retry_after`` is that refusal's advice in seconds, when it gave any.
    """

    job: str
    outcome: Outcome
    records: int = 0
    pages: int = 0
    requests: int = 0
    seconds: float = 0.0
    lag_seconds: float | None = None
    quota_per_second: float | None = None
    cursor: str | None = None
    held_from: float | None = None
    held_until: float | None = None
    error: str | None = None
    retry_after: float | None = None

    @property
    def goodput(self) -> float | None:
        """The share of the job's quota the run put to use: requests per second over the quota (``None`` without one).

        Near 1 means the quota, not the run's own work, set its pace.
        """
        if not self.quota_per_second or self.seconds <= 0:
            return None
        return self.requests / self.seconds / self.quota_per_second


class SyncJob(Generic[T]):
    """A named job whose runs never overlap fleet-wide and resume where the last one checkpointed.

    ``pacing`` is the job's own limiter (its share of the provider's quota,
    waited for within the deadline); ``page_seconds`` is the time a page may
    take to fetch, apply and checkpoint (the state store's timeouts included);
    without a bound deadline a lease lasts ``lease_seconds``. A lease outlives
    the deadline by ``lease_slack_seconds``: longer than a live run overruns it,
    short enough that a dead run's lease frees soon.
    """

    def __init__(
        self,
        name: str,
        store: SyncStore,
        *,
        pacing: RateLimiter | None = None,
        quota_per_second: float | None = None,
        page_seconds: float = 5.0,
        lease_seconds: float = 60.0,
        lease_slack_seconds: float | None = None,
        run_seconds: float | None = None,
        quota_scope: str | None = None,
    ) -> None:
        self.name = name
        self.store = store
        self.pacing = pacing
        self.quota_per_second = quota_per_second
        self.page_seconds = page_seconds
        self.lease_seconds = lease_seconds
        self.lease_slack_seconds = LEASE_SLACK_SECONDS if lease_slack_seconds is None else lease_slack_seconds
        self.run_seconds = run_seconds
        self.quota_scope = quota_scope or name

    def _lease_until_ms(self) -> int:
        deadline = current_deadline()
        seconds = (deadline.remaining() if deadline is not None else self.lease_seconds) + self.lease_slack_seconds
        return int((time.time() + seconds) * 1000)

    def run(self, fetch: Callable[[Position], Page[T]], apply: Callable[[Sequence[T]], object]) -> RunReport:
        """Fetch and apply pages from the stored position on; the report says how far it got and why it stopped."""
        deadline = current_deadline()
        if self.run_seconds is not None:
            own = Deadline.after(self.run_seconds)
            if deadline is None or own.expires_at < deadline.expires_at:
                with bind_deadline(own):
                    return self._run(fetch, apply)
        return self._run(fetch, apply)

    def _run(self, fetch: Callable[[Position], Page[T]], apply: Callable[[Sequence[T]], object]) -> RunReport:
        started = time.monotonic()
        deadline = current_deadline()
        if deadline is not None and not deadline.allows(self.page_seconds):
            # Not one page fits: say so rather than take the lease for nothing (page_seconds or the timeout is off).
            return self._finish(RunReport(self.name, "deadline-too-short", seconds=time.monotonic() - started))
        holder = uuid.uuid4().hex
        try:
            with self._reaching_store():
                position = self.store.acquire(self.name, holder, int(time.time() * 1000), self._lease_until_ms())
        except NotAttemptedError as error:
            # The lease may be ours with the answer lost: give it up rather than leave it until it expires.
            self._release(holder, _outcome(error))
            return self._finish(self._refused(error, started))
        if position is None:
            return self._finish(RunReport(self.name, "lease-held"))
        held_from = time.time()
        records = pages = requests = 0
        refusal: NotAttemptedError | IntegrationError | None = None
        try:
            while True:
                if deadline is not None and not deadline.allows(self.page_seconds):
                    outcome: Outcome = "out-of-time"
                    break
                try:
                    if self.pacing is not None:
                        self.pacing.acquire(self.quota_scope, wait=math.inf)
                    page = fetch(position)
                    requests += 1
                    apply(page.items)
                    with self._reaching_store():
                        held = self.store.checkpoint(self.name, holder, page.position, self._lease_until_ms())
                except (NotAttemptedError, IntegrationError) as error:
                    # Refused or failed mid-page: not checkpointed, so the next run fetches and applies it again.
                    outcome, refusal = _outcome(error), error
                    break
                if not held:
                    outcome = "lease-lost"  # another run took over: its checkpoints stand, this one stops
                    break
                position, records, pages = page.position, records + len(page.items), pages + 1
                if not page.has_more:
                    outcome = "caught-up"
                    break
        except BaseException:
            self._release(holder, "failed")  # a bug: the invocation fails and the schedule retries it
            raise
        self._release(holder, outcome)
        return self._finish(
            RunReport(
                self.name,
                outcome,
                records=records,
                pages=pages,
                requests=requests,
                seconds=time.monotonic() - started,
                lag_seconds=None if position.at is None else max(0.0, time.time() - position.at),
                quota_per_second=self.quota_per_second,
                cursor=position.cursor,
                held_from=held_from,
                held_until=time.time(),
                **_failure(refusal),
            )
        )

    def _refused(self, error: NotAttemptedError, started: float) -> RunReport:
        """The report of a run refused before it held the lease (its store down, or no time left to ask)."""
        return RunReport(self.name, _outcome(error), seconds=time.monotonic() - started, **_failure(error))

    @contextmanager
    def _reaching_store(self) -> Iterator[None]:
        """A lease, checkpoint or read call; a store that fails it is a :class:`StoreUnavailableError` naming the job.

        The run then fails (the schedule retries it). A lease taken by a call
        whose answer was lost is held by nobody alive and expires.
        """
        try:
            yield
        except (DeadlineExceededError, StoreUnavailableError):
            raise
        except Exception as error:  # each store fails its own way: botocore's errors, the REST client's
            raise StoreUnavailableError(f"sync store of {self.name}", cause=error) from error

    def state(self) -> JobState:
        """The job's stored record: cursor, lease, and how its last run ended (for operators)."""
        with self._reaching_store():
            return self.store.read(self.name)

    def _release(self, holder: str, outcome: str) -> None:
        try:
            self.store.release(self.name, holder, outcome=outcome, now_ms=int(time.time() * 1000))
        except Exception as error:  # noqa: BLE001 (the lease then expires on its own; the run's outcome stands)
            logger.warning("sync lease not released; it expires", extra={"job": self.name, "error": error_name(error)})

    def _finish(self, report: RunReport) -> RunReport:
        """Log the run in one line (a warning when it was refused or failed) and emit its metrics.

        ``SyncRunFailed`` is 1 for a run that ended refused or failed and 0 for
        any other that held the lease: its minimum over a few schedule periods
        is 1 only while every run fails (the alarm's signal).
        """
        failed = report.outcome in FAILED_OUTCOMES
        (logger.warning if failed else logger.info)(
            "sync run finished",
            extra={
                "job": report.job,
                "outcome": report.outcome,
                "records": report.records,
                "pages": report.pages,
                "requests": report.requests,
                "seconds": round(report.seconds, 3),
                "lag_seconds": None if report.lag_seconds is None else round(report.lag_seconds, 1),
                "goodput": None if report.goodput is None else round(report.goodput, 3),
                "error": report.error,
            },
        )
        emit("SyncRun", job=report.job, outcome=report.outcome)
        if report.outcome != "lease-held":
            emit("SyncRunFailed", int(failed), job=report.job)
            emit("SyncRecords", report.records, job=report.job)
            emit("SyncRequests", report.requests, job=report.job)
        if report.lag_seconds is not None:
            emit("SyncLag", report.lag_seconds, MetricUnit.Seconds, job=report.job)
        if report.goodput is not None:
            emit("SyncGoodput", report.goodput, MetricUnit.NoUnit, job=report.job)
        return report


def _outcome(error: NotAttemptedError | IntegrationError) -> Outcome:
    """How a run that ``error`` stopped ended."""
    if isinstance(error, DeadlineExceededError):
        return "out-of-time"
    if isinstance(error, (ThrottledError, RateLimitedError)):  # our limiter's wait would not fit, or a 429
        return "throttled"
    if isinstance(error, CircuitOpenError):
        return "circuit-open"
    if isinstance(error, IntegrationError):
        return "provider-error"
    return "store-unavailable" if isinstance(error, StoreUnavailableError) else "throttled"


def _failure(error: NotAttemptedError | IntegrationError | None) -> dict[str, Any]:
    """The report's ``error`` and ``retry_after`` for a run ``error`` stopped (nothing for a deadline)."""
    if error is None or isinstance(error, DeadlineExceededError):
        return {}
    return {"error": f"{type(error).__name__}: {error.service}", "retry_after": error.retry_after}

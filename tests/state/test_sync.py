"""Sync jobs on both backends: one lease fleet-wide, resumable runs, nothing skipped, paced by a quota."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

from seawall.deadline import Deadline, bind_deadline
from seawall.errors import (
    CircuitOpenError,
    DeadlineExceededError,
    IntegrationError,
    NotAttemptedError,
    RateLimitedError,
    StoreUnavailableError,
)
from seawall.ratelimit import Limit
from seawall.state import SharedState
from seawall.sync import JobState, Page, Position
from tests.conftest import LogCapture, json_lines

RECORDS = 95
PAGE = 10


def job_name() -> str:
    return f"job-{uuid.uuid4().hex[:10]}"


class Source:
    """A provider's list of records, paged after a cursor (the last record's index)."""

    def __init__(self, count: int = RECORDS, *, pause: float = 0.0) -> None:
        self.records = list(range(count))
        self.pause = pause
        self.fetched_at: list[float] = []

    def fetch(self, position: Position) -> Page[int]:
        self.fetched_at.append(time.time())
        time.sleep(self.pause)
        start = 0 if position.cursor is None else int(position.cursor) + 1
        items = self.records[start : start + PAGE]
        last = items[-1] if items else start - 1
        return Page(
            items, Position(str(last) if last >= 0 else None, 1_700_000_000.0 + last), start + PAGE < len(self.records)
        )


class Applied:
    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()

    def __call__(self, items: Sequence[int]) -> None:
        self.counts.update(items)


def test_a_run_applies_every_page_and_leaves_the_cursor_at_the_end(state: SharedState) -> None:
    job, source, applied = state.sync_job(job_name(), quota_per_second=25), Source(), Applied()
    report = job.run(source.fetch, applied)
    assert (report.outcome, report.records, report.pages, report.requests) == ("caught-up", RECORDS, 10, 10)
    assert applied.counts == Counter(range(RECORDS))
    assert report.goodput is not None
    again = job.run(source.fetch, applied)  # nothing new: one page, empty, from where the last run stopped
    assert (again.outcome, again.records) == ("caught-up", 0)
    assert applied.counts == Counter(range(RECORDS))


def test_a_run_out_of_time_stops_cleanly_and_the_next_resumes(state: SharedState) -> None:
    name, source, applied = job_name(), Source(pause=0.25), Applied()
    outcomes: list[str] = []
    while len(outcomes) < 20 and (not outcomes or outcomes[-1] != "caught-up"):  # each run applies a page or more
        # A page needs its fetch and the store's timeouts (1.6 s a call): a 2.6 s run has room for about three.
        job = state.sync_job(name, page_seconds=1.9)  # a new container each run
        with bind_deadline(Deadline.after(2.6)):
            outcomes.append(job.run(source.fetch, applied).outcome)
    assert outcomes[-1] == "caught-up"
    assert "out-of-time" in outcomes
    assert applied.counts == Counter(range(RECORDS))  # every record once: nothing skipped, nothing repeated


def test_a_failed_checkpoint_reapplies_the_page_and_skips_nothing(state: SharedState) -> None:
    name, source, applied = job_name(), Source(), Applied()
    job = state.sync_job(name)
    real = job.store.checkpoint
    calls = [0]

    def checkpoint_failing_third(*args: object) -> bool:
        calls[0] += 1
        if calls[0] == 3:
            raise StoreUnavailableError("state")
        return real(*args)  # type: ignore[arg-type]

    job.store.checkpoint = checkpoint_failing_third  # type: ignore[method-assign]
    report = job.run(source.fetch, applied)  # the third page was applied, not checkpointed
    assert (report.outcome, report.pages, report.error) == ("store-unavailable", 2, "StoreUnavailableError: state")
    assert state.sync_job(name).run(source.fetch, applied).outcome == "caught-up"
    assert set(applied.counts) == set(range(RECORDS))
    assert {record for record, times in applied.counts.items() if times > 1} == set(range(20, 30))


def test_a_store_that_cannot_be_reached_ends_the_run_with_its_report(
    state: SharedState, logs: LogCapture, capfd: pytest.CaptureFixture[str]
) -> None:
    job, source, applied = state.sync_job(job_name()), Source(), Applied()

    def unreachable(*args: object) -> None:
        raise ConnectionResetError("reset by peer")

    job.store.acquire = unreachable  # type: ignore[method-assign,assignment]
    report = job.run(source.fetch, applied)
    assert (report.outcome, report.error) == ("store-unavailable", "StoreUnavailableError: sync store of " + job.name)
    assert source.fetched_at == []
    (line,) = [record for record in logs.records() if record.get("message") == "sync run finished"]
    assert (line["level"], line["outcome"]) == ("WARNING", "store-unavailable")
    metrics = [json.loads(line) for line in capfd.readouterr().out.splitlines() if '"SyncRunFailed"' in line]
    assert [metric["SyncRunFailed"] for metric in metrics] == [[1.0]]


def test_a_checkpoint_cut_by_the_deadline_ends_out_of_time_and_the_page_is_applied_again(
    state: SharedState,
) -> None:
    name, source, applied = job_name(), Source(), Applied()
    job = state.sync_job(name)
    real = job.store.checkpoint

    def out_of_time_on_the_second(*args: object) -> bool:
        if len(source.fetched_at) == 2:
            raise DeadlineExceededError("dynamodb")
        return real(*args)  # type: ignore[arg-type]

    job.store.checkpoint = out_of_time_on_the_second  # type: ignore[method-assign]
    report = job.run(source.fetch, applied)
    assert (report.outcome, report.pages, report.requests) == ("out-of-time", 1, 2)
    assert state.sync_job(name).run(source.fetch, applied).outcome == "caught-up"
    assert {record for record, times in applied.counts.items() if times > 1} == set(range(10, 20))
    assert set(applied.counts) == set(range(RECORDS))


def test_a_provider_429_ends_the_run_throttled_and_the_next_resumes(state: SharedState) -> None:
    name, source, applied = job_name(), Source(), Applied()

    def refused_third(position: Position) -> Page[int]:
        if len(source.fetched_at) == 2:
            source.fetched_at.append(time.time())
            raise RateLimitedError("provider", retry_after=1.0)
        return source.fetch(position)

    report = state.sync_job(name).run(refused_third, applied)
    assert (report.outcome, report.pages) == ("throttled", 2)
    assert state.sync_job(name).run(source.fetch, applied).outcome == "caught-up"
    assert applied.counts == Counter(range(RECORDS))


def test_two_runs_never_hold_the_lease_at_once(state: SharedState) -> None:
    name, inside, release = job_name(), threading.Event(), threading.Event()
    source = Source()

    def slow_fetch(position: Position) -> Page[int]:
        inside.set()
        release.wait(5)
        return source.fetch(position)

    first = threading.Thread(target=lambda: state.sync_job(name).run(slow_fetch, Applied()))
    first.start()
    assert inside.wait(5)
    second = state.sync_job(name).run(source.fetch, Applied())  # a schedule firing during a manual run
    release.set()
    first.join()
    assert second.outcome == "lease-held"
    assert source.fetched_at[:-10] == []  # only the first run fetched
    assert state.sync_job(name).run(source.fetch, Applied()).outcome == "caught-up"  # released when it ended


def test_the_lease_of_a_run_that_died_expires(state: SharedState) -> None:
    name = job_name()
    store = state.sync_job(name).store
    now = int(time.time() * 1000)
    assert store.acquire(name, "dead-run", now, now + 200) is not None  # took it, then its Lambda died
    assert store.acquire(name, "next-run", now, now + 60_000) is None
    time.sleep(0.3)
    later = int(time.time() * 1000)
    assert store.acquire(name, "next-run", later, later + 60_000) is not None
    assert not store.checkpoint(name, "dead-run", Position("99", None), later + 60_000)  # it can no longer write


def test_pages_are_paced_by_the_jobs_share_of_the_quota(state: SharedState) -> None:
    pacing = state.rate_limiter(f"quota-{uuid.uuid4().hex[:8]}", [Limit("second", 4, 1)])
    job, source = state.sync_job(job_name(), pacing=pacing, quota_per_second=4), Source(count=60)
    assert job.run(source.fetch, Applied()).outcome == "caught-up"
    per_second = Counter(int(at) for at in source.fetched_at)
    assert len(source.fetched_at) == 6
    assert max(per_second.values()) <= 4


def test_an_operator_reads_the_cursor_the_lease_and_how_the_last_run_ended(state: SharedState) -> None:
    name, source, inside, release = job_name(), Source(), threading.Event(), threading.Event()
    job = state.sync_job(name)
    assert job.state() == JobState(Position())  # never ran
    report = job.run(source.fetch, Applied())
    after = job.state()
    assert after.position == Position(report.cursor, 1_700_000_000.0 + RECORDS - 1)
    assert (after.holder, after.lease_until, after.last_outcome) == (None, None, "caught-up")
    assert report.held_until is not None
    assert after.last_run_at is not None
    assert report.held_from is not None
    assert report.held_from <= after.last_run_at <= time.time()

    def held_fetch(position: Position) -> Page[int]:
        inside.set()
        release.wait(5)
        return source.fetch(position)

    running = threading.Thread(target=lambda: state.sync_job(name).run(held_fetch, Applied()))
    running.start()
    assert inside.wait(5)
    during = job.state()
    release.set()
    running.join()
    assert during.holder is not None
    assert during.lease_until is not None
    assert during.lease_until > time.time()

    def broken(position: Position) -> Page[int]:
        raise RuntimeError("a bug in the fetch")

    with pytest.raises(RuntimeError):
        job.run(broken, Applied())
    assert (job.state().last_outcome, job.state().holder) == ("failed", None)


@pytest.mark.parametrize(
    ("refusal", "outcome"),
    [
        (CircuitOpenError("provider", retry_after=30.0), "circuit-open"),
        (IntegrationError("provider", "provider answered HTTP 503", status_code=503), "provider-error"),
        (IntegrationError("sqs", "the events could not be queued", retryable=True), "provider-error"),
        (StoreUnavailableError("rate limits"), "store-unavailable"),
    ],
    ids=["open breaker", "provider 5xx", "queue down", "limiter store down"],
)
def test_a_refused_or_failed_page_ends_the_run_with_its_report_and_the_next_resumes(
    state: SharedState, refusal: Exception, outcome: str
) -> None:
    name, source, applied = job_name(), Source(), Applied()

    def refused_third(position: Position) -> Page[int]:
        if len(source.fetched_at) == 2:
            source.fetched_at.append(time.time())
            raise refusal
        return source.fetch(position)

    report = state.sync_job(name).run(refused_third, applied)
    assert (report.outcome, report.pages, report.records) == (outcome, 2, 20)
    assert report.error == f"{type(refusal).__name__}: {refusal.service}"  # type: ignore[attr-defined]
    assert report.retry_after == refusal.retry_after  # type: ignore[attr-defined]
    assert state.sync_job(name).state().last_outcome == outcome  # the lease given up, the checkpoint standing
    assert state.sync_job(name).run(source.fetch, applied).outcome == "caught-up"
    assert applied.counts == Counter(range(RECORDS))


def test_a_deadline_that_cannot_fit_one_page_says_so_without_taking_the_lease(state: SharedState) -> None:
    job, source = state.sync_job(job_name(), page_seconds=5), Source()
    with bind_deadline(Deadline.after(4)):
        report = job.run(source.fetch, Applied())
    assert (report.outcome, report.requests) == ("deadline-too-short", 0)
    assert source.fetched_at == []
    assert job.state() == JobState(Position())  # nothing taken, nothing recorded


def test_a_run_whose_lease_was_taken_over_stops_and_leaves_the_new_holders_checkpoints(state: SharedState) -> None:
    name, source, applied = job_name(), Source(), Applied()
    job = state.sync_job(name)
    store = job.store

    def overtaken_on_the_third(position: Position) -> Page[int]:
        page = source.fetch(position)
        if len(source.fetched_at) == 3:  # this run outlived its lease: another took it over and checkpointed
            later = int(time.time() * 1000) + 10**9
            assert store.acquire(name, "next-run", later, later + 60_000) is not None
            assert store.checkpoint(name, "next-run", Position("49", 1.0), later + 60_000)
        return page

    report = job.run(overtaken_on_the_third, applied)
    assert (report.outcome, report.pages, report.requests) == ("lease-lost", 2, 3)
    assert len(source.fetched_at) == 3  # it stopped at once
    assert report.cursor == "19"  # what it reports is what it had checkpointed
    assert store.read(name).position == Position("49", 1.0)  # the new holder's checkpoint stands
    assert store.read(name).holder == "next-run"


def test_a_position_without_a_cursor_is_stored_as_such(state: SharedState) -> None:
    """A pass that ends with "start over" (no cursor) must not leave the previous cursor in place."""
    name = job_name()
    pages = iter(
        [
            Page([1], Position("page-1", 10.0), True),
            Page([2], Position(None, 20.0), True),  # the pass is done: the next starts over
            Page([3], Position(None, None), False),
        ]
    )
    seen: list[Position] = []

    def fetch(position: Position) -> Page[int]:
        seen.append(position)
        return next(pages)

    job = state.sync_job(name)
    assert job.run(fetch, Applied()).outcome == "caught-up"
    assert seen == [Position(), Position("page-1", 10.0), Position(None, 20.0)]
    assert job.state().position == Position()


def test_an_operator_reads_when_a_held_lease_runs_out_in_seconds(state: SharedState) -> None:
    job, source = state.sync_job(job_name()), Source()
    during: list[JobState] = []

    def fetch(position: Position) -> Page[int]:
        during.append(job.state())
        return source.fetch(position)

    taken = time.time()
    job.run(fetch, Applied())
    # Without a deadline, a lease lasts 60 s and its slack (30 s) from when it was taken or extended.
    lease_until = during[0].lease_until
    assert lease_until is not None
    assert taken + 89.99 <= lease_until <= time.time() + 90


def test_a_run_resumes_from_the_stored_position_time_included(state: SharedState) -> None:
    name = job_name()
    pages = iter([Page([1], Position("page-1", 10.0), False), Page([], Position("page-1", 10.0), False)])
    seen: list[Position] = []

    def fetch(position: Position) -> Page[int]:
        seen.append(position)
        return next(pages)

    assert state.sync_job(name).run(fetch, Applied()).outcome == "caught-up"
    assert state.sync_job(name).run(fetch, Applied()).outcome == "caught-up"  # a new container, the stored position
    assert seen == [Position(), Position("page-1", 10.0)]


def test_an_operator_reads_the_record_as_last_written(state: SharedState) -> None:
    """DynamoDB's default read may miss the latest write: the job's record is read strongly consistent."""
    job = state.sync_job(job_name())
    reads: list[dict[str, Any]] = []
    if state.backend == "dynamodb":  # a Valkey read is always the latest
        state.dynamodb.meta.events.register(
            "provide-client-params.dynamodb.GetItem", lambda params, **_: reads.append(dict(params))
        )
    job.run(Source().fetch, Applied())
    assert job.state().last_outcome == "caught-up"
    assert [read.get("ConsistentRead") for read in reads] == ([True] if state.backend == "dynamodb" else [])


def emitted(out: str, job: str) -> dict[str, tuple[list[float], str, dict[str, str]]]:
    """The metrics emitted for ``job``: each name's values, unit and dimensions."""
    found = {}
    for line in json_lines(out):
        if line.get("job") != job or "_aws" not in line:  # another job's, or a log line
            continue
        for directive in line["_aws"]["CloudWatchMetrics"]:
            dimensions = {name: line[name] for names in directive["Dimensions"] for name in names}
            for metric in directive["Metrics"]:
                found[metric["Name"]] = (line[metric["Name"]], metric["Unit"], dimensions)
    return found


def test_a_run_counts_its_outcome_work_lag_and_goodput_and_logs_them_in_one_line(
    state: SharedState, logs: LogCapture, capfd: pytest.CaptureFixture[str]
) -> None:
    job, source = state.sync_job(job_name(), quota_per_second=25), Source()
    capfd.readouterr()
    report = job.run(source.fetch, Applied())
    assert report.lag_seconds is not None
    assert report.goodput is not None
    metrics = emitted(capfd.readouterr().out, job.name)
    assert metrics["SyncRun"][:2] == ([1.0], "Count")
    assert (metrics["SyncRun"][2]["job"], metrics["SyncRun"][2]["outcome"]) == (job.name, "caught-up")
    assert {name: metrics[name][:2] for name in ("SyncRunFailed", "SyncRecords", "SyncRequests")} == {
        "SyncRunFailed": ([0.0], "Count"),
        "SyncRecords": ([float(RECORDS)], "Count"),
        "SyncRequests": ([10.0], "Count"),
    }
    assert metrics["SyncLag"][:2] == ([report.lag_seconds], "Seconds")
    assert metrics["SyncGoodput"][:2] == ([report.goodput], "None")
    (line,) = [record for record in logs.records() if record.get("message") == "sync run finished"]
    assert {name: line.get(name) for name in ("level", "job", "outcome", "records", "pages", "requests", "error")} == {
        "level": "INFO",
        "job": job.name,
        "outcome": "caught-up",
        "records": RECORDS,
        "pages": 10,
        "requests": 10,
        "error": None,
    }
    assert line["seconds"] == round(report.seconds, 3)
    assert line["lag_seconds"] == round(report.lag_seconds, 1)
    assert line["goodput"] == round(report.goodput, 3)


def test_a_run_that_finds_the_lease_held_counts_only_that(
    state: SharedState, capfd: pytest.CaptureFixture[str]
) -> None:
    job = state.sync_job(job_name())
    now = int(time.time() * 1000)
    assert job.store.acquire(job.name, "another-run", now, now + 60_000) is not None
    capfd.readouterr()
    assert job.run(Source().fetch, Applied()).outcome == "lease-held"
    metrics = emitted(capfd.readouterr().out, job.name)
    assert list(metrics) == ["SyncRun"]
    assert metrics["SyncRun"][2]["outcome"] == "lease-held"


def test_each_checkpoint_extends_the_runs_lease(state: SharedState) -> None:
    job, source = state.sync_job(job_name()), Source(count=3 * PAGE)
    leases: list[float | None] = []

    def fetch(position: Position) -> Page[int]:
        leases.append(job.state().lease_until)
        time.sleep(0.01)  # the next checkpoint's lease ends at least this much later
        return source.fetch(position)

    assert job.run(fetch, Applied()).outcome == "caught-up"
    first, second, third = leases
    assert first is not None and second is not None and third is not None
    assert first < second < third


def test_a_refusal_of_no_known_kind_ends_the_run_throttled_and_the_next_resumes(state: SharedState) -> None:
    name, source, applied = job_name(), Source(), Applied()

    def refused_second(position: Position) -> Page[int]:
        if source.fetched_at:
            raise NotAttemptedError("provider", "a guard of the caller's own", retry_after=2.0)
        return source.fetch(position)

    report = state.sync_job(name).run(refused_second, applied)
    assert (report.outcome, report.pages, report.error, report.retry_after) == (
        "throttled",
        1,
        "NotAttemptedError: provider",
        2.0,
    )
    assert state.sync_job(name).run(source.fetch, applied).outcome == "caught-up"
    assert applied.counts == Counter(range(RECORDS))


def test_a_run_refused_before_the_lease_reports_its_job_and_the_time_it_took(
    state: SharedState, logs: LogCapture
) -> None:
    job = state.sync_job(job_name())

    def unreachable(*args: object) -> None:
        raise ConnectionResetError("reset by peer")

    job.store.acquire = unreachable  # type: ignore[method-assign,assignment]
    started = time.monotonic()
    report = job.run(Source().fetch, Applied())
    assert (report.job, report.outcome) == (job.name, "store-unavailable")
    assert 0 < report.seconds <= time.monotonic() - started
    (line,) = [record for record in logs.records() if record.get("message") == "sync run finished"]
    assert line["error"] == report.error == f"StoreUnavailableError: sync store of {job.name}"


def test_under_a_deadline_a_lease_lasts_until_it_and_its_slack(state: SharedState) -> None:
    job, source = state.sync_job(job_name(), lease_slack_seconds=10.0), Source()
    during: list[JobState] = []

    def fetch(position: Position) -> Page[int]:
        during.append(job.state())
        return source.fetch(position)

    taken = time.time()
    with bind_deadline(Deadline.after(20)):
        job.run(fetch, Applied())
    lease_until = during[0].lease_until
    assert lease_until is not None
    assert taken + 29 <= lease_until <= time.time() + 30


def test_a_lease_that_could_not_be_given_up_is_logged_with_its_job(state: SharedState, logs: LogCapture) -> None:
    job = state.sync_job(job_name())

    def unreachable(*args: object, **kwargs: object) -> None:
        raise ConnectionResetError("reset by peer")

    job.store.release = unreachable  # type: ignore[method-assign]
    assert job.run(Source().fetch, Applied()).outcome == "caught-up"  # the run's outcome stands
    (line,) = [record for record in logs.records() if record.get("message") == "sync lease not released; it expires"]
    assert (line["level"], line["job"], line["error"]) == ("WARNING", job.name, "ConnectionResetError")


# As in the out-of-time test above: 2.6 s have room for a page or three of 0.25 s and the store's timeouts.
def test_a_run_ends_out_of_time_at_its_own_bound_when_that_comes_first(state: SharedState) -> None:
    name, source, applied = job_name(), Source(pause=0.25), Applied()
    with bind_deadline(Deadline.after(60)):  # ten pages would fit
        report = state.sync_job(name, page_seconds=1.9, run_seconds=2.6).run(source.fetch, applied)
    assert (report.outcome, report.pages > 0) == ("out-of-time", True)
    assert state.sync_job(name).run(source.fetch, applied).outcome == "caught-up"
    assert applied.counts == Counter(range(RECORDS))


def test_without_an_invocation_deadline_a_run_ends_at_its_own_bound(state: SharedState) -> None:
    report = state.sync_job(job_name(), page_seconds=1.9, run_seconds=2.6).run(Source(pause=0.25).fetch, Applied())
    assert (report.outcome, report.pages > 0) == ("out-of-time", True)


def test_an_invocation_deadline_before_the_runs_own_bound_ends_it(state: SharedState) -> None:
    with bind_deadline(Deadline.after(2.6)):
        report = state.sync_job(job_name(), page_seconds=1.9, run_seconds=60).run(Source(pause=0.25).fetch, Applied())
    assert (report.outcome, report.pages > 0) == ("out-of-time", True)


def test_a_runs_lag_is_the_time_since_its_newest_record_and_never_negative(state: SharedState) -> None:
    before = time.time()
    past = state.sync_job(job_name()).run(lambda _: Page([1], Position("a", before - 100), False), Applied())
    future = state.sync_job(job_name()).run(lambda _: Page([1], Position("a", before + 100), False), Applied())
    assert past.lag_seconds is not None
    assert 100 <= past.lag_seconds <= time.time() - before + 100
    assert future.lag_seconds == 0.0  # a provider's clock ahead of ours


def test_a_run_too_short_for_a_page_reports_its_job_and_the_moment_it_took(state: SharedState) -> None:
    job = state.sync_job(job_name(), page_seconds=5)
    started = time.monotonic()
    with bind_deadline(Deadline.after(4)):
        report = job.run(Source().fetch, Applied())
    assert (report.job, report.outcome) == (job.name, "deadline-too-short")
    assert 0 < report.seconds <= time.monotonic() - started


def test_a_run_reports_the_time_it_took(state: SharedState) -> None:
    started = time.monotonic()
    report = state.sync_job(job_name()).run(Source().fetch, Applied())
    assert 0 < report.seconds <= time.monotonic() - started


def test_a_run_takes_over_a_lease_that_ran_out(state: SharedState) -> None:
    job = state.sync_job(job_name())
    now = int(time.time() * 1000)
    assert job.store.acquire(job.name, "dead-run", now - 10_000, now - 5_000) is not None  # ran out 5 s ago
    assert job.run(Source().fetch, Applied()).outcome == "caught-up"


def test_a_lease_taken_with_its_answer_lost_is_given_up_at_once(state: SharedState) -> None:
    job, source = state.sync_job(job_name()), Source()
    real = job.store.acquire

    def taken_then_lost(*args: object) -> None:
        real(*args)  # type: ignore[arg-type]
        raise ConnectionResetError("the answer was lost")

    job.store.acquire = taken_then_lost  # type: ignore[method-assign,assignment]
    assert job.run(source.fetch, Applied()).outcome == "store-unavailable"
    after = job.state()
    assert (after.holder, after.last_outcome) == (None, "store-unavailable")
    assert state.sync_job(job.name).run(source.fetch, Applied()).outcome == "caught-up"  # not held until it runs out


def test_jobs_sharing_a_quota_scope_share_its_pace_and_others_keep_their_own(state: SharedState) -> None:
    pacing = state.rate_limiter(f"quota-{uuid.uuid4().hex[:8]}", [Limit("hour", 2, 3600, fixed=True)])
    scope = f"scope-{uuid.uuid4().hex[:8]}"
    with bind_deadline(Deadline.after(10)):  # a wait for the next hour does not fit: refused at once
        first = state.sync_job(job_name(), pacing=pacing, quota_scope=scope).run(Source(count=20).fetch, Applied())
        second = state.sync_job(job_name(), pacing=pacing, quota_scope=scope).run(Source(count=20).fetch, Applied())
        own = state.sync_job(job_name(), pacing=pacing).run(Source(count=20).fetch, Applied())
    assert (first.outcome, second.outcome, own.outcome) == ("caught-up", "throttled", "caught-up")

"""``sync``: each sync job's cursor, lease, last run and lag; ``sync run``: invoke a scheduled function now.

A job's record is read through the layer (``SyncJob.state``) from the stack's
state backend. ``sync run`` invokes the function with its schedule's input
(template.yaml's ScheduleV2 ``Input``), as Scheduler would: a run that finds
the lease held by a scheduled one ends ``lease-held`` and changes nothing.
"""

from __future__ import annotations

import json
import time
from argparse import Namespace
from dataclasses import dataclass
from typing import Any

from local.template import ScheduleSource
from ops.errors import OpsError, Refused
from ops.output import Output, Table, timestamp
from ops.target import Target


@dataclass(frozen=True)
class Job:
    """A sync job: its name on the state backend, and the function and schedule (its event's name) that run it."""

    name: str
    function: str
    schedule: str

    @property
    def schedule_name(self) -> str:
        """The schedule as the template names it locally: ``<function>-<event>``."""
        return f"{self.function}-{self.schedule}"


# The jobs' names are chosen in their functions' modules (functions/stripe/stripe_reconcile,
# functions/hotelbeds/hotel_content_sync), which build their clients at import and so cannot be imported here;
# tests/ops runs each job and finds its record.
JOBS = (
    Job("stripe-events", "StripeReconcileFunction", "NewEvents"),
    Job("stripe-undelivered", "StripeReconcileFunction", "UndeliveredEvents"),
    Job("hotelbeds-content", "HotelContentSyncFunction", "Schedule"),
)
COLUMNS = ("job", "schedule", "cursor", "lease", "last_run_at", "last_outcome", "lag_seconds")
# Cursors are opaque and may be long (a "scan:" prefix and an id); the table shows their start.
_CURSOR_SHOWN = 32


def _row(target: Target, job: Job, schedule: ScheduleSource) -> dict[str, Any]:
    state = target.state.sync_job(job.name).state()
    now = time.time()
    held = state.lease_until is not None and state.lease_until > now
    return {
        "job": job.name,
        "function": job.function,
        "schedule": schedule.expression,
        "cursor": state.position.cursor,
        "lease": f"held until {timestamp(state.lease_until)}" if held else "free",
        "holder": state.holder if held else None,
        "last_run_at": timestamp(state.last_run_at),
        "last_outcome": state.last_outcome,
        "lag_seconds": None if state.position.at is None else round(max(0.0, now - state.position.at), 1),
    }


def list_jobs(target: Target, args: Namespace) -> Output:
    """``sync``: every job of the stack (whose function it has)."""
    schedules = target.schedules()
    rows = [_row(target, job, schedules[job.schedule_name]) for job in JOBS if job.schedule_name in schedules]
    shown = [
        {**row, "cursor": row["cursor"][:_CURSOR_SHOWN] if row["cursor"] else None}
        for row in rows  # the whole cursor is in --json
    ]
    return Output(rows, [Table(COLUMNS, shown)])


def _chosen(target: Target, name: str) -> ScheduleSource:
    """The schedule ``name`` stands for: a job's, or a scheduled function's first."""
    schedules = target.schedules()
    job = next((job for job in JOBS if job.name == name), None)
    if job is not None and job.schedule_name in schedules:
        return schedules[job.schedule_name]
    of_function = [schedule for key, schedule in schedules.items() if key.startswith(f"{name}-")]
    if of_function:
        return of_function[0]
    choices = sorted({*(job.name for job in JOBS), *(key.rsplit("-", 1)[0] for key in schedules)})
    raise OpsError(f"{name!r} is neither a sync job nor a scheduled function; there are: {', '.join(choices)}")


def run(target: Target, args: Namespace) -> Output:
    """``sync run JOB|FUNCTION``: one invocation with the schedule's input (``--yes``; without it, the plan)."""
    schedule = _chosen(target, args.job)
    function = schedule.name.rsplit("-", 1)[0]
    event = json.loads(schedule.input)
    plan = {"function": function, "schedule": schedule.name, "input": event}
    if not args.yes:
        raise Refused(f"would invoke {function} now with {schedule.input} (the input of {schedule.name})", plan)
    invoked = target.invoke(function, event)
    if invoked.error is not None:
        raise OpsError(f"{function} failed: {invoked.error.get('errorType')}: {invoked.error.get('errorMessage')}")
    answer = invoked.payload
    shown: Table | str = (
        Table(("field", "value"), [{"field": key, "value": value} for key, value in answer.items()])
        if isinstance(answer, dict)
        else json.dumps(answer)
    )
    return Output({**plan, "answer": answer}, [f"{function} ran with {schedule.input}:", shown])

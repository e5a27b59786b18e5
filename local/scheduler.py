"""EventBridge Scheduler, locally: the template's ScheduleV2 events invoke their functions on time.

``rate(...)`` and ``cron(...)`` expressions come from the template, parameters
resolved. Time can run faster (``--schedule-speedup N`` or
LOCAL_SCHEDULE_SPEEDUP: a 15-minute rate fires every 15 s at 60); the first
firing is one interval after start, as a new schedule's. As Scheduler does,
each firing invokes the function with the schedule's ``Input``, may overlap a
firing still running, retries a failed invocation up to
``MaximumRetryAttempts`` times and then sends a description to the schedule's
dead-letter queue. Disabled schedules are listed, never fired.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from dataclasses import dataclass

from croniter import croniter

from local.aws import aws_client
from local.runtime import FunctionError, LocalFunction
from local.stack import LocalStack
from local.template import ScheduleSource

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400}


def _cron(expression: str) -> str:
    """EventBridge's six cron fields as croniter's five: no year, ``?`` as ``*``, days of the week 1-7 as 0-6."""
    minute, hour, day, month, weekday, _year = expression.split()
    weekday = re.sub(r"\d", lambda digit: str(int(digit.group()) - 1), weekday)
    return " ".join(field.replace("?", "*") for field in (minute, hour, day, month, weekday))


def next_firing(expression: str, after: dt.datetime) -> dt.datetime:
    """The first firing of a ``rate(...)`` or ``cron(...)`` expression after ``after`` (UTC)."""
    rate = _RATE.match(expression)
    if rate:
        return after + dt.timedelta(seconds=int(rate.group(1)) * _UNIT_SECONDS[rate.group(2).rstrip("s")])
    if expression.startswith("cron(") and expression.endswith(")"):
        following: dt.datetime = croniter(_cron(expression[5:-1]), after).get_next(dt.datetime)
        return following
    raise ValueError(f"not a schedule expression: {expression}")


@dataclass
class LocalSchedule:
    """One schedule of one function, on the local clock."""

    function: LocalFunction
    source: ScheduleSource
    dead_letter_url: str | None


class Scheduler:
    """Fires every enabled schedule of the stack; ``speedup`` makes local time run faster."""

    def __init__(self, stack: LocalStack, speedup: float = 1.0) -> None:
        self.speedup = speedup
        self.stack = stack
        self.schedules = [
            LocalSchedule(
                stack.function(spec.name),
                source,
                stack.template.physical[source.dead_letter]["QueueUrl"] if source.dead_letter else None,
            )
            for spec in stack.template.functions()
            for source in spec.schedules
        ]
        self.fired: list[tuple[str, float]] = []
        self._started = time.time()

    def now(self) -> dt.datetime:
        """The local schedule clock: real time since start, times the speedup."""
        elapsed = (time.time() - self._started) * self.speedup
        return dt.datetime.fromtimestamp(self._started + elapsed, dt.UTC)

    def describe(self) -> list[str]:
        """A line per schedule, for ``make run``'s summary."""
        lines = []
        for schedule in self.schedules:
            source = schedule.source
            state = "" if source.enabled else " (disabled: not fired)"
            target = schedule.function.config.name
            lines.append(f"  Schedule {source.name}: {source.expression} -> {target} {source.input}{state}")
        return lines

    def _fire(self, schedule: LocalSchedule) -> None:
        event = json.loads(schedule.source.input)
        self.fired.append((schedule.source.name, time.time()))
        for _attempt in range(schedule.source.max_retries + 1):
            try:
                schedule.function.invoke(event)
            except FunctionError:
                continue
            return
        if schedule.dead_letter_url is not None:
            description = {"schedule": schedule.source.name, "input": event, "error": "the invocation failed"}
            sqs = aws_client("sqs", self.stack.aws_endpoint)
            sqs.send_message(QueueUrl=schedule.dead_letter_url, MessageBody=json.dumps(description))

    def _run(self, schedule: LocalSchedule, stop: threading.Event) -> None:
        due = next_firing(schedule.source.expression, self.now())
        while not stop.is_set():
            wait = (due - self.now()).total_seconds() / self.speedup
            if wait > 0:
                stop.wait(min(wait, 1.0))
                continue
            threading.Thread(target=self._fire, args=(schedule,), daemon=True).start()
            due = next_firing(schedule.source.expression, due)

    def start(self, stop: threading.Event) -> None:
        """A thread per enabled schedule, until ``stop`` is set."""
        for schedule in self.schedules:
            if schedule.source.enabled:
                threading.Thread(target=self._run, args=(schedule, stop), daemon=True).start()

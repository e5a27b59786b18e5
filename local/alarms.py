"""The template's CloudWatch alarms, evaluated against local metrics: `GET /_local/alarms` on the gateway.

Each ``AWS::CloudWatch::Alarm`` of the template is read as CloudFormation
would create it (its intrinsics resolved: ``!Ref BreakerOpenAlarmMinutes`` is
the parameter's local value) and evaluated as CloudWatch evaluates it: the
alarm's statistic per period, periods aligned on the epoch as the dashboard's,
over the last ``EvaluationPeriods`` periods; ``DatapointsToAlarm`` of them
(all, by default) beyond the threshold is ALARM, and ``TreatMissingData``
says what a period without datapoints counts as. The data comes from
:func:`~local.metrics.widget_data`, the query a dashboard widget makes: a
simple alarm is a widget with its one metric; a metric-math alarm's
``Metrics`` are a widget's metrics and expressions, the one with
``ReturnData`` its line. AWS/SQS metrics are the queues' depths sampled from
moto, which the caller samples first (as the dashboard does).

An alarm has no memory here: each evaluation is of the datapoints alone.
There is no state history, no action (nothing reaches the alarm topic), and
``TreatMissingData: ignore`` cannot keep a previous state: it reads as ``missing``.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local.metrics import MetricStore, widget_data
from local.template import Template

ALARM, INSUFFICIENT_DATA, OK = "ALARM", "INSUFFICIENT_DATA", "OK"
# The order the page and the JSON list alarms in: those that need someone first.
STATES = (ALARM, INSUFFICIENT_DATA, OK)
_COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}
# What a period without datapoints counts as: breaching, not, or nothing (None: left out of the count).
_MISSING: dict[str, bool | None] = {"breaching": True, "notBreaching": False, "missing": None, "ignore": None}


@dataclass(frozen=True)
class AlarmState:
    """One alarm as evaluated now: its state, the latest value, the threshold, and why (CloudWatch's reason)."""

    name: str
    state: str
    value: float | None
    threshold: float | None
    reason: str
    description: str = ""
    period: int | None = None
    # The periods evaluated, oldest first, the current (incomplete) one last: start, value (None: no datapoint).
    periods: tuple[tuple[float, float | None], ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The alarm for scripts and tests."""
        return {
            "name": self.name,
            "state": self.state,
            "value": self.value,
            "threshold": self.threshold,
            "reason": self.reason,
            "description": self.description,
            "period": self.period,
            "periods": [list(period) for period in self.periods],
        }


@dataclass(frozen=True)
class _Rule:
    """When an alarm fires: ``datapoints`` of ``evaluation_periods`` periods compared with ``threshold``."""

    period: int
    evaluation_periods: int
    datapoints: int
    threshold: float
    comparison: str
    missing: str

    @classmethod
    def of(cls, properties: dict[str, Any], period: int) -> _Rule:
        comparison = str(properties["ComparisonOperator"])
        if comparison not in _COMPARISONS:
            raise ValueError(f"ComparisonOperator {comparison} (anomaly detection) is not evaluated locally")
        missing = str(properties.get("TreatMissingData", "missing"))
        if missing not in _MISSING:
            raise ValueError(f"TreatMissingData {missing} is not one of CloudWatch's")
        evaluation_periods = int(properties["EvaluationPeriods"])
        return cls(
            period=period,
            evaluation_periods=evaluation_periods,
            datapoints=int(properties.get("DatapointsToAlarm", evaluation_periods)),
            threshold=float(properties["Threshold"]),
            comparison=comparison,
            missing=missing,
        )

    def breaching(self, value: float | None) -> bool | None:
        """Whether a period's value is beyond the threshold; for a missing one, what TreatMissingData says."""
        if value is None:
            return _MISSING[self.missing]
        return _COMPARISONS[self.comparison][0](value, self.threshold)


def evaluate_alarms(template: Template, store: MetricStore, now: float) -> list[AlarmState]:
    """Every alarm of the template evaluated at ``now``: ALARM first, then INSUFFICIENT_DATA, then OK; by name."""
    found = []
    for logical, resource in template.of_type("AWS::CloudWatch::Alarm").items():
        properties = template.resolve(resource.get("Properties", {}))
        # Locally a resource's name is its logical id (as the functions'), unless the template names it.
        found.append(evaluate_alarm(str(properties.get("AlarmName", logical)), properties, store, now))
    return sorted(found, key=lambda alarm: (STATES.index(alarm.state), alarm.name))


def evaluate_alarm(name: str, properties: dict[str, Any], store: MetricStore, now: float) -> AlarmState:
    """One alarm (its properties resolved) at ``now``; one that cannot be evaluated locally is INSUFFICIENT_DATA.

    CloudWatch evaluates the last EvaluationPeriods *complete* periods. Locally
    the current, incomplete period counts too, so the page reacts at once (and
    a test never waits for a period to end): the alarm is in ALARM when either
    the last complete periods (as CloudWatch sees them now), or the current
    period and the ones before it (as CloudWatch will see them once it ends, if
    nothing else arrives), have DatapointsToAlarm periods breaching. A 60-s
    alarm with EvaluationPeriods 1 thus needs a datapoint beyond the threshold
    in the current or the last complete minute.
    """
    description = str(properties.get("AlarmDescription", ""))
    try:
        query, period = _query(properties)
        rule = _Rule.of(properties, period)
    except (KeyError, ValueError, TypeError) as error:
        why = f"{error.args[0]} is missing" if isinstance(error, KeyError) else str(error)
        return AlarmState(name, INSUFFICIENT_DATA, None, None, f"Not evaluated locally: {why}", description)
    current = now - now % period
    starts = [current - period * back for back in range(rule.evaluation_periods, -1, -1)]
    data = widget_data(query, store, starts[0], now)
    if data.notes or len(data.lines) != 1:
        why = "; ".join(data.notes) or "exactly one of its Metrics must have ReturnData true"
        return AlarmState(name, INSUFFICIENT_DATA, None, rule.threshold, f"Not evaluated locally: {why}", description)
    values = [data.lines[0].values.get(start) for start in starts]
    periods = tuple(zip(starts, values, strict=True))
    latest = next((value for value in reversed(values) if value is not None), None)
    state, reason = _verdict(rule, periods)
    return AlarmState(name, state, latest, rule.threshold, reason, description, period, periods)


def _query(properties: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The alarm as a metric widget's properties (what :func:`widget_data` reads), and its period."""
    if "Metrics" not in properties:
        stat = properties.get("Statistic", properties.get("ExtendedStatistic"))
        if stat is None:
            raise ValueError("neither Statistic nor ExtendedStatistic is set")
        period = int(properties["Period"])
        return {"period": period, "metrics": [[*_fields(properties), {"stat": str(stat), "period": period}]]}, period
    metrics: list[list[Any]] = []
    periods: set[int] = set()
    for query in properties["Metrics"]:
        options: dict[str, Any] = {
            "id": str(query["Id"]),
            "visible": str(query.get("ReturnData", True)).lower() == "true",
        }
        if "Expression" in query:
            metrics.append([{**options, "expression": str(query["Expression"])}])
            continue
        stat = query["MetricStat"]
        periods.add(int(stat["Period"]))
        metrics.append(
            [*_fields(stat["Metric"]), {**options, "stat": str(stat["Stat"]), "period": int(stat["Period"])}]
        )
    if len(periods) != 1:
        raise ValueError(f"its MetricStats must share one period, not {sorted(periods)}")
    period = periods.pop()
    return {"period": period, "metrics": metrics}, period


def _fields(metric: dict[str, Any]) -> list[str]:
    """``[Namespace, MetricName, dimension name, value, ...]``: a widget's metric, from an alarm's."""
    pairs = [
        str(part) for dimension in metric.get("Dimensions", []) for part in (dimension["Name"], dimension["Value"])
    ]
    return [str(metric["Namespace"]), str(metric["MetricName"]), *pairs]


def _verdict(rule: _Rule, periods: tuple[tuple[float, float | None], ...]) -> tuple[str, str]:
    """The state, and CloudWatch's reason for it, from the periods (the current one last)."""
    if all(value is None for _, value in periods) and _MISSING[rule.missing] is None:
        return INSUFFICIENT_DATA, (
            f"Insufficient Data: no datapoints in the last {rule.evaluation_periods} periods of {rule.period} s,"
            f" nor in the current one (TreatMissingData: {rule.missing})."
        )
    # The current period with those before it, and the last complete periods: the one with more breaching
    # decides (the first on a tie, to show the current period).
    windows = [periods[1:], periods[:-1]]
    window = max(windows, key=lambda window: sum(rule.breaching(value) is True for _, value in window))
    breaching = sum(rule.breaching(value) is True for _, value in window)
    state = ALARM if breaching >= rule.datapoints else OK
    current = periods[-1][0]
    shown = ", ".join(
        f"{value:g} ({_moment(start)}{', current' if start == current else ''})"
        for start, value in window
        if value is not None
    )
    missing = sum(value is None for _, value in window)
    treated = f"; {missing} missing, treated as {rule.missing}" if missing else ""
    verb = _COMPARISONS[rule.comparison][1]
    headline = "Threshold Crossed" if state == ALARM else "Threshold Not Crossed"
    return state, (
        f"{headline}: {breaching} out of the last {rule.evaluation_periods} datapoints"
        f" {'was' if breaching == 1 else 'were'} {verb} the threshold ({rule.threshold:g}): [{shown}]{treated}."
        f" Minimum {rule.datapoints} for ALARM; locally the current period counts."
    )


def _moment(start: float) -> str:
    """A period's start as CloudWatch's reasons give it (UTC)."""
    return dt.datetime.fromtimestamp(start, dt.UTC).strftime("%d/%m/%y %H:%M:%S")

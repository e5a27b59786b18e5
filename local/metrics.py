"""CloudWatch metrics, kept in memory for the local dashboard: what the functions print, what the runtime sees.

A :class:`MetricStore` holds datapoints as CloudWatch would: each under one
metric (namespace, name, dimensions). The runtime feeds it every line a
container prints that is in Embedded Metric Format (:func:`parse_emf`, as
Powertools and ``seawall.observability.emit`` print them), and, per invocation,
what the AWS/Lambda namespace would hold (:meth:`MetricStore.record_invocation`).
Queries are CloudWatch's too: a statistic per period (:func:`aggregate`) of one
metric, or of every metric a ``SEARCH(...)`` expression finds (:func:`parse_search`),
and metric math over such series (:func:`evaluate`); :func:`widget_data` answers a
list of them as a dashboard widget (or an alarm's ``Metrics``) asks for it.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

# Per metric: a long `make run` session must not grow without bound; the dashboard shows hours, not days.
MAX_DATAPOINTS_PER_METRIC = 20_000
_LAMBDA_UNITS = {"Duration": "Milliseconds"}
_SQS_UNITS = {"ApproximateAgeOfOldestMessage": "Seconds"}
_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric: a namespace, a name and its dimensions (sorted by name)."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, namespace: str, name: str, dimensions: dict[str, str]) -> Metric:
        """The metric with these dimensions, in any order."""
        return cls(namespace, name, tuple(sorted(dimensions.items())))


@dataclass(frozen=True)
class Datapoint:
    """One value of one metric at one time (seconds since the epoch)."""

    metric: Metric
    timestamp: float
    value: float
    unit: str = "None"


@dataclass(frozen=True)
class Series:
    """A metric and its datapoints, oldest first: (timestamp, value)."""

    metric: Metric
    unit: str
    points: list[tuple[float, float]]


def parse_emf(line: str) -> list[Datapoint]:
    """The datapoints of one log line in Embedded Metric Format; none for any other line.

    Every dimension set of every metric directive is a metric of its own, with
    the values of the top-level keys it names; a value may be a number or a
    list of numbers (one datapoint each). A document CloudWatch would reject
    (a dimension or value missing, or not of its type) yields nothing, as there.
    """
    if '"_aws"' not in line:  # most lines are plain logs: no JSON parsing for them
        return []
    try:
        document = json.loads(line)
        metadata = document["_aws"]
        timestamp = float(metadata["Timestamp"]) / 1000
        return [
            point
            for directive in metadata["CloudWatchMetrics"]
            for point in _directive_points(document, directive, timestamp)
        ]
    except (ValueError, KeyError, TypeError):
        return []


def _directive_points(document: dict[str, Any], directive: dict[str, Any], timestamp: float) -> list[Datapoint]:
    namespace = _text(directive["Namespace"])
    # An empty list of dimension sets is one metric without dimensions.
    dimension_sets = directive.get("Dimensions") or [[]]
    points = []
    for definition in directive["Metrics"]:
        name = _text(definition["Name"])
        unit = _text(definition.get("Unit", "None"))
        raw = document[name]
        values = [_number(value) for value in (raw if isinstance(raw, list) else [raw])]
        for keys in dimension_sets:
            metric = Metric.of(namespace, name, {_text(key): _text(document[key]) for key in keys})
            points += [Datapoint(metric, timestamp, value, unit) for value in values]
    return points


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a string")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TypeError(f"{value!r} is not a metric value")
    return float(value)


class MetricStore:
    """Datapoints by metric, in memory, safe to feed and read from many threads."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.started = clock()
        self._lock = threading.Lock()
        self._units: dict[Metric, str] = {}
        self._points: dict[Metric, deque[tuple[float, float]]] = {}

    def record(self, points: Iterable[Datapoint]) -> None:
        """Keep ``points`` (the oldest of a metric are dropped past MAX_DATAPOINTS_PER_METRIC)."""
        with self._lock:
            for point in points:
                if point.metric not in self._points:
                    self._points[point.metric] = deque(maxlen=MAX_DATAPOINTS_PER_METRIC)
                self._points[point.metric].append((point.timestamp, point.value))
                self._units[point.metric] = point.unit

    def record_emf(self, line: str) -> None:
        """Keep the datapoints of a log line, if it is in Embedded Metric Format."""
        self.record(parse_emf(line))

    def record_invocation(self, function: str, *, failed: bool, duration_ms: float | None) -> None:
        """One invocation as the AWS/Lambda namespace counts it (``duration_ms``: ``None`` if the handler never ran).

        Each metric twice, as Lambda publishes them: for the function (FunctionName), and for the
        account and region (no dimensions). Throttles are always 0: locally an event that finds every
        container busy waits for one, it is never refused.
        """
        now = self.clock()
        values = {"Invocations": 1.0, "Errors": float(failed), "Throttles": 0.0}
        if duration_ms is not None:
            values["Duration"] = duration_ms
        self.record(
            Datapoint(Metric.of("AWS/Lambda", name, dimensions), now, value, _LAMBDA_UNITS.get(name, "Count"))
            for dimensions in ({"FunctionName": function}, {})
            for name, value in values.items()
        )

    def record_queues(self, queues: dict[str, dict[str, float]]) -> None:
        """A sample of each queue's AWS/SQS metrics (by metric name), by physical queue name, taken now."""
        now = self.clock()
        self.record(
            Datapoint(Metric.of("AWS/SQS", name, {"QueueName": queue}), now, value, _SQS_UNITS.get(name, "Count"))
            for queue, values in queues.items()
            for name, value in values.items()
        )

    def find(self, matches: Callable[[Metric], bool]) -> list[Series]:
        """Every metric ``matches`` accepts, with its datapoints, in a stable order."""
        with self._lock:
            found = [
                Series(metric, self._units[metric], sorted(points))
                for metric, points in self._points.items()
                if matches(metric)
            ]
        return sorted(found, key=lambda series: (series.metric.namespace, series.metric.name, series.metric.dimensions))

    def record_json(self, document: dict[str, Any]) -> None:
        """Keep every datapoint of another store's :meth:`as_json` (a run in a process of its own); all or none."""
        points = [
            Datapoint(
                Metric.of(series["namespace"], series["name"], series["dimensions"]),
                float(timestamp),
                float(value),
                series["unit"],
            )
            for series in document["metrics"]
            for timestamp, value in series["datapoints"]
        ]
        self.record(points)

    def as_json(self) -> dict[str, Any]:
        """Everything held, for scripts: each metric with its unit and [timestamp, value] pairs."""
        return {
            "started": self.started,
            "metrics": [
                {
                    "namespace": series.metric.namespace,
                    "name": series.metric.name,
                    "dimensions": dict(series.metric.dimensions),
                    "unit": series.unit,
                    "datapoints": [list(point) for point in series.points],
                }
                for series in self.find(lambda metric: True)
            ],
        }


def statistic(values: list[float], stat: str) -> float:
    """One of CloudWatch's statistics over ``values`` (not empty): Sum, SampleCount, Average, Maximum, Minimum, pNN."""
    if stat == "Sum":
        return sum(values)
    if stat == "SampleCount":
        return float(len(values))
    if stat == "Average":
        return sum(values) / len(values)
    if stat == "Maximum":
        return max(values)
    if stat == "Minimum":
        return min(values)
    percentile = _PERCENTILE.match(stat)
    if percentile is None:
        raise ValueError(f"the statistic {stat!r} is not supported locally")
    # Nearest rank: the smallest value with at least that share of the values at or below it.
    ordered = sorted(values)
    rank = math.ceil(float(percentile.group(1)) / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


def aggregate(points: list[tuple[float, float]], stat: str, period: int, start: float) -> dict[float, float]:
    """The statistic per period (periods aligned on the epoch, as CloudWatch's), from ``start``; empty ones left out."""
    buckets: dict[float, list[float]] = {}
    for timestamp, value in points:
        if timestamp >= start:
            buckets.setdefault(timestamp - timestamp % period, []).append(value)
    return {bucket: statistic(values, stat) for bucket, values in sorted(buckets.items())}


@dataclass(frozen=True)
class Term:
    """One term of a search: ``field=value``, or a bare ``value`` that any field may match.

    Quoted, the value must equal the field's; unquoted, it matches part of it, as
    CloudWatch's partial matches do: its words (split at punctuation and camel
    case, any case) appear in a row among the field's.
    """

    field: str | None  # MetricName, Namespace or a dimension's name; None: any of those, or a dimension's name
    value: str
    exact: bool

    def holds(self, metric: Metric) -> bool:
        """Whether ``metric`` satisfies this term."""
        fields = {**dict(metric.dimensions), "MetricName": metric.name, "Namespace": metric.namespace}
        if self.field is not None:
            candidates = [fields[self.field]] if self.field in fields else []
        else:
            candidates = [*fields.values(), *(name for name, _ in metric.dimensions)]
        if self.exact:
            return self.value in candidates
        wanted = _words(self.value)
        return any(_in_a_row(wanted, _words(candidate)) for candidate in candidates)


_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def _words(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]


def _in_a_row(wanted: list[str], words: list[str]) -> bool:
    return any(words[at : at + len(wanted)] == wanted for at in range(len(words) - len(wanted) + 1))


@dataclass(frozen=True)
class Search:
    """A ``SEARCH(...)`` expression: which metrics it finds, and the statistic and period it shows."""

    namespace: str | None
    # The schema's dimension names: a metric must have exactly these; ``None`` when there is no schema.
    keys: frozenset[str] | None
    terms: tuple[Term, ...]
    stat: str
    period: int | None

    def matches(self, metric: Metric) -> bool:
        """Whether ``metric`` is one this search returns."""
        if self.namespace is not None and metric.namespace != self.namespace:
            return False
        if self.keys is not None and frozenset(name for name, _ in metric.dimensions) != self.keys:
            return False
        return all(term.holds(metric) for term in self.terms)


_SEARCH = re.compile(r"^\s*SEARCH\(\s*'((?:[^'\\]|\\.)*)'\s*,\s*'([^']+)'\s*(?:,\s*(\d+)\s*)?\)\s*$")
_SCHEMA = re.compile(r"^\s*\{([^}]*)\}")
_TERM = re.compile(r'\s*(?:AND\s+)?(?:("[^"]+"|[^\s="()]+)\s*=\s*)?("(?:[^"\\]|\\.)*"|[^\s="()]+)')


def parse_search(expression: str) -> Search:
    """Read ``SEARCH('{Namespace,dim1,dim2} MetricName="Name" words', 'p99', 60)``; raises ValueError otherwise.

    The schema (``{...}``) limits results to its namespace and exactly its
    dimension names, any values; every term must hold (see :class:`Term`).
    OR, NOT and parentheses are not supported locally.
    """
    found = _SEARCH.match(expression)
    if found is None:
        raise ValueError(f"not a SEARCH expression supported locally: {expression}")
    query, stat, period = found.group(1).replace("\\'", "'"), found.group(2), found.group(3)
    statistic([0.0], stat)  # an unsupported statistic fails here, with its name
    namespace, keys = None, None
    schema = _SCHEMA.match(query)
    if schema is not None:
        namespace, *names = [_unquoted(part.strip())[0] for part in schema.group(1).split(",")]
        keys = frozenset(names)
        query = query[schema.end() :]
    terms = []
    while query.strip():
        term = _TERM.match(query)
        if term is None or term.group(2) in ("OR", "NOT"):
            raise ValueError(f"only terms joined by AND are supported locally, not: {query.strip()}")
        value, exact = _unquoted(term.group(2))
        terms.append(Term(_unquoted(term.group(1))[0] if term.group(1) else None, value, exact))
        query = query[term.end() :]
    return Search(namespace, keys, tuple(terms), stat, int(period) if period else None)


def _unquoted(text: str) -> tuple[str, bool]:
    """The text without its double quotes, and whether it had them."""
    quoted = len(text) > 1 and text.startswith('"') and text.endswith('"')
    return (text[1:-1].replace('\\"', '"'), True) if quoted else (text, False)


# A metric math expression's value: a time series (period start -> value), or a number.
Values = dict[float, float] | float
_MATH_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_]\w*)|(>=|<=|==|!=|.))")
_COMPARISONS = {
    ">": lambda left, right: left > right,
    ">=": lambda left, right: left >= right,
    "<": lambda left, right: left < right,
    "<=": lambda left, right: left <= right,
    "==": lambda left, right: left == right,
    "!=": lambda left, right: left != right,
}


def evaluate(expression: str, series: dict[str, dict[float, float]], periods: list[float]) -> Values:
    """A metric math expression over the widget's series (by id): arithmetic, comparisons, FILL and IF.

    That is + - * /, > >= < <= == !=, parentheses, numbers, FILL(x, n) and
    IF(condition, a, b), as CloudWatch's: arithmetic on two series keeps the
    periods both have (FILL gives a series a value in each of ``periods``); a
    division by zero leaves its period out; a comparison is 1 or 0; IF takes
    ``a`` where the condition is not 0, ``b`` elsewhere (without ``b``, no
    value there). Raises ValueError for anything else (other functions,
    unknown ids).
    """
    tokens = [
        (number, name, symbol)
        for number, name, symbol in _MATH_TOKEN.findall(expression)
        if number or name or symbol.strip()
    ]
    parser = _MathParser(tokens, series, periods)
    value = parser.comparison()
    if parser.at < len(tokens):
        raise ValueError(f"unexpected {''.join(tokens[parser.at])!r} in {expression}")
    return value


class _MathParser:
    """Recursive descent: comparison := sum (op sum)?; sum := product (+|- product)*; product := factor (*|/ ...)*."""

    def __init__(
        self, tokens: list[tuple[str, str, str]], series: dict[str, dict[float, float]], periods: list[float]
    ) -> None:
        self.tokens = tokens
        self.series = series
        self.periods = periods
        self.at = 0

    def _peek(self) -> str:
        return "".join(self.tokens[self.at]) if self.at < len(self.tokens) else ""

    def _take(self, expected: str | None = None) -> tuple[str, str, str]:
        if self.at >= len(self.tokens) or (expected is not None and self._peek() != expected):
            raise ValueError(f"expected {expected or 'more'} at {self._peek() or 'the end'}")
        self.at += 1
        return self.tokens[self.at - 1]

    def comparison(self) -> Values:
        value = self.sum()
        if self._peek() in _COMPARISONS:
            operator = self._take()[2]
            value = _combine(value, self.sum(), operator)
        return value

    def sum(self) -> Values:
        value = self.product()
        while self._peek() in ("+", "-"):
            operator = self._take()[2]
            value = _combine(value, self.product(), operator)
        return value

    def product(self) -> Values:
        value = self.factor()
        while self._peek() in ("*", "/"):
            operator = self._take()[2]
            value = _combine(value, self.factor(), operator)
        return value

    def factor(self) -> Values:
        number, name, symbol = self._take()
        if number:
            return float(number)
        if symbol == "-":
            return _combine(-1.0, self.factor(), "*")
        if symbol == "(":
            value = self.comparison()
            self._take(")")
            return value
        if name == "FILL" and self._peek() == "(":
            self._take("(")
            filled = self.sum()
            self._take(",")
            default = self.sum()
            self._take(")")
            if not isinstance(filled, dict) or isinstance(default, dict):
                raise ValueError("FILL takes a series and a number")
            return {period: filled.get(period, default) for period in sorted({*self.periods, *filled})}
        if name == "IF" and self._peek() == "(":
            return self._if()
        if name in self.series and self._peek() != "(":
            return self.series[name]
        raise ValueError(f"{name or symbol!r} is not supported in a metric math expression locally")

    def _if(self) -> Values:
        """IF(condition, a[, b]), its name read: an empty series stands for a missing ``b`` ("no value")."""
        self._take("(")
        condition = self.comparison()
        self._take(",")
        when_true = self.comparison()
        when_false: Values = {}
        if self._peek() == ",":
            self._take(",")
            when_false = self.comparison()
        self._take(")")
        if not isinstance(condition, dict):
            return when_true if condition else when_false
        picked = {}
        for period, holds in condition.items():
            branch = when_true if holds else when_false
            if not isinstance(branch, dict) or period in branch:
                picked[period] = _at(branch, period)
        return picked


def _combine(left: Values, right: Values, operator: str) -> Values:
    if isinstance(left, dict) or isinstance(right, dict):
        # A number applies in every period; two series meet in the periods both have.
        shared = [set(side) for side in (left, right) if isinstance(side, dict)]
        combined = {}
        for period in sorted(set.intersection(*shared)):
            value = _arithmetic(_at(left, period), _at(right, period), operator)
            if value is not None:
                combined[period] = value
        return combined
    result = _arithmetic(left, right, operator)
    if result is None:
        raise ValueError("division by zero")
    return result


def _at(values: Values, period: float) -> float:
    return values[period] if isinstance(values, dict) else values


def _arithmetic(left: float, right: float, operator: str) -> float | None:
    if operator == "+":
        return left + right
    if operator == "-":
        return left - right
    if operator == "*":
        return left * right
    if operator in _COMPARISONS:
        return float(_COMPARISONS[operator](left, right))
    return left / right if right else None


@dataclass
class Line:
    """One line of a metric widget: its label and a value per period (period start -> value)."""

    label: str
    values: dict[float, float]

    @property
    def latest(self) -> float | None:
        """The value of the most recent period with one (what a singleValue widget and a legend show)."""
        return self.values[max(self.values)] if self.values else None


@dataclass
class WidgetData:
    """What a metric widget shows, and what of it cannot be shown locally."""

    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def widget_data(properties: dict[str, Any], store: MetricStore, start: float, now: float) -> WidgetData:
    """The lines of a metric widget over [start, now]: its metrics, SEARCH results and math expressions.

    A metric or expression with ``"visible": false`` is computed (a math
    expression may use it by its ``id``) but not shown; what cannot be computed
    locally is a note, not an error, so the rest of the widget still shows.
    """
    stat = str(properties.get("stat", "Average"))
    period = int(properties.get("period", 300))
    # The periods of the range: where FILL gives a series the values it lacks.
    periods = [float(moment) for moment in range(int(start - start % period), int(now) + 1, period)]
    data = WidgetData()
    by_id: dict[str, dict[float, float]] = {}
    for entry in properties.get("metrics", []):
        with_options = bool(entry) and isinstance(entry[-1], dict)
        options: dict[str, Any] = entry[-1] if with_options else {}
        expression = options.get("expression")
        label = options.get("label")
        try:
            if isinstance(expression, str) and expression.lstrip().startswith("SEARCH("):
                lines = _search_lines(expression, label, store, period, start)
            else:
                if isinstance(expression, str):
                    value = evaluate(expression, by_id, periods)
                    line = Line(
                        label or expression, value if isinstance(value, dict) else dict.fromkeys(periods, value)
                    )
                else:
                    fields = entry[:-1] if with_options else entry
                    line = _metric_line(fields, options, store, stat=stat, period=period, start=start)
                if "id" in options:
                    by_id[str(options["id"])] = line.values
                lines = [line]
        except (ValueError, TypeError) as error:
            data.notes.append(str(error))
            continue
        if options.get("visible", True):
            data.lines += lines
    return data


def _search_lines(expression: str, label: str | None, store: MetricStore, period: int, start: float) -> list[Line]:
    """One line per metric the search finds, labelled as CloudWatch does: the label, then the dimension values."""
    search = parse_search(expression)
    return [
        Line(
            " ".join([label or series.metric.name, *(value for _, value in series.metric.dimensions)]),
            aggregate(series.points, search.stat, search.period or period, start),
        )
        for series in store.find(search.matches)
    ]


def _metric_line(
    fields: list[Any], options: dict[str, Any], store: MetricStore, *, stat: str, period: int, start: float
) -> Line:
    """``[Namespace, MetricName, dimension name, value, ...]`` with its own stat and period, or the widget's."""
    namespace, name, *pairs = fields
    wanted = Metric.of(str(namespace), str(name), dict(zip(pairs[::2], pairs[1::2], strict=True)))
    found = store.find(lambda metric: metric == wanted)
    stat, period = str(options.get("stat", stat)), int(options.get("period", period))
    return Line(str(options.get("label", name)), aggregate(found[0].points, stat, period, start) if found else {})

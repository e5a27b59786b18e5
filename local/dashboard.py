"""The template's CloudWatch dashboards and alarms, from local metrics: `GET /_local/dashboard` on the gateway.

Each ``AWS::CloudWatch::Dashboard`` of the template is read as CloudFormation
would create it (its ``DashboardBody`` resolved against the local stack's
physical names) and drawn server-side: metric widgets as inline SVG line
charts (``timeSeries``) or numbers (``singleValue``), text widgets as plain
text, on CloudWatch's 24-column grid. The data is the stack's
:class:`~local.metrics.MetricStore` (what the functions print as EMF, and
each invocation), plus the queues' AWS/SQS metrics, sampled from moto at each
rendering. Above them, the template's alarms as evaluated now
(:mod:`local.alarms`), those in ALARM first. The page redraws itself every
5 s. ``GET /_local/metrics`` gives the store as JSON, ``GET /_local/alarms``
the alarms, for scripts. All are public: a dev tool, not an API route.
"""

from __future__ import annotations

import datetime as dt
import json
from html import escape
from typing import Any

import httpx

from local.alarms import ALARM, AlarmState, evaluate_alarms
from local.httpserver import Answer, problem
from local.metrics import Line, MetricStore, widget_data
from local.stack import LocalStack
from local.template import Template

# CloudWatch's default time range; locally it starts no earlier than the stack.
RANGE_SECONDS = 3 * 3600
REFRESH_SECONDS = 5
# CloudWatch's default colours, in its order.
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
_CHART_WIDTH, _CHART_HEIGHT, _MARGIN_LEFT, _MARGIN_TOP, _MARGIN_BOTTOM = 400, 150, 44, 8, 16


class LocalDashboards:
    """Serves ``/_local/dashboard``, ``/_local/metrics`` and ``/_local/alarms`` for a local stack."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack

    def answer(self, method: str, path: str, body: bytes = b"") -> Answer:
        """The answer to a request for a ``/_local/`` path.

        ``POST /_local/metrics`` takes another store's JSON (``make invoke`` and ``ops sync run`` run a
        function in a process of their own, as ``sam local invoke`` does): its points join this stack's,
        as CloudWatch has every invocation's, however it was made.
        """
        pages = {"/_local/dashboard": self.page, "/_local/metrics": self.metrics, "/_local/alarms": self.alarms}
        if path not in pages:
            return problem(404, f"no local page {path}; there are: {', '.join(pages)}")
        if method == "POST" and path == "/_local/metrics":
            try:
                self.stack.metrics.record_json(json.loads(body))
            except (KeyError, TypeError, ValueError) as error:
                return problem(400, f"not a metric store's JSON: {error!r}")
            return 204, {}, b""
        if method not in ("GET", "HEAD"):
            return problem(405, f"{path} answers GET" + (" and POST" if path == "/_local/metrics" else ""))
        return pages[path]()

    def sample_queues(self) -> None:
        """Record each queue's AWS/SQS metrics now, as moto holds them."""
        queues = httpx.get(f"{self.stack.aws_endpoint}/_local/queues", timeout=10).raise_for_status().json()
        self.stack.metrics.record_queues(queues)

    def metrics(self) -> Answer:
        """The store as JSON (queues sampled first)."""
        self.sample_queues()
        body = json.dumps(self.stack.metrics.as_json()).encode()
        return 200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, body

    def alarms(self) -> Answer:
        """Every alarm of the template as JSON, evaluated now (queues sampled first)."""
        self.sample_queues()
        now = self.stack.metrics.clock()
        alarms = evaluate_alarms(self.stack.template, self.stack.metrics, now)
        body = json.dumps({"evaluated_at": now, "alarms": [alarm.as_json() for alarm in alarms]}).encode()
        return 200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, body

    def page(self) -> Answer:
        """Every alarm of the template, then every dashboard, drawn now (queues sampled first)."""
        self.sample_queues()
        store = self.stack.metrics
        now = store.clock()
        start = max(store.started, now - RANGE_SECONDS)
        alarms = _alarms(evaluate_alarms(self.stack.template, store, now), self.stack.template)
        sections = [_dashboard(name, body, store, start, now) for name, body in dashboards(self.stack.template)]
        if not sections:
            sections = [f"<p>{escape(self.stack.template.path.name)} declares no AWS::CloudWatch::Dashboard.</p>"]
        html = _PAGE.format(
            refresh_ms=REFRESH_SECONDS * 1000,
            start=_clock(start),
            now=_clock(now),
            template=escape(str(self.stack.template.path.name)),
            alarms=alarms,
            sections="\n".join(sections),
        )
        return 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}, html.encode()


def dashboards(template: Template) -> list[tuple[str, dict[str, Any] | str]]:
    """Each dashboard of the template (its intrinsics resolved): its name and its body, or why it cannot be read."""
    found: list[tuple[str, dict[str, Any] | str]] = []
    for logical, resource in template.of_type("AWS::CloudWatch::Dashboard").items():
        properties = resource.get("Properties", {})
        name = str(template.resolve(properties.get("DashboardName", logical)))
        try:
            body = json.loads(template.resolve(properties["DashboardBody"]))
        except (KeyError, ValueError) as error:
            found.append((name, f"{logical}'s DashboardBody is not readable: {error}"))
            continue
        found.append((name, body))
    return found


def _alarms(alarms: list[AlarmState], template: Template) -> str:
    """The alarms as a table, in the order given (ALARM first), each row marked with its state."""
    if not alarms:
        declared = f"{escape(template.path.name)} declares no AWS::CloudWatch::Alarm."
        return f'<div class="alarms"><h2>Alarms</h2><p>{declared}</p></div>'
    rows = "".join(
        f'<tr data-state="{alarm.state}"><td class="state">{alarm.state}</td>'
        f'<td class="name" title="{escape(alarm.description)}">{escape(alarm.name)}</td>'
        f'<td class="value">{"—" if alarm.value is None else _number(alarm.value)}</td>'
        f'<td class="threshold">{"—" if alarm.threshold is None else _number(alarm.threshold)}</td>'
        f'<td class="reason">{escape(alarm.reason)}</td></tr>'
        for alarm in alarms
    )
    firing = sum(alarm.state == ALARM for alarm in alarms)
    head = "<tr><th>State</th><th>Alarm</th><th>Latest</th><th>Threshold</th><th>Reason</th></tr>"
    return (
        f'<div class="alarms"><h2>Alarms: {firing} of {len(alarms)} in ALARM</h2>'
        f"<table><thead>{head}</thead><tbody>{rows}</tbody></table></div>"
    )


def _dashboard(name: str, body: dict[str, Any] | str, store: MetricStore, start: float, now: float) -> str:
    if isinstance(body, str):
        return f'<section><h2>{escape(name)}</h2><p class="note">{escape(body)}</p></section>'
    widgets = "\n".join(_widget(widget, store, start, now) for widget in body.get("widgets", []))
    return f'<section><h2>{escape(name)}</h2><div class="grid">{widgets}</div></section>'


def _widget(widget: dict[str, Any], store: MetricStore, start: float, now: float) -> str:
    kind = widget.get("type")
    properties = widget.get("properties", {})
    place = f"grid-column: {_grid(widget, 'x', 'width')}; grid-row: {_grid(widget, 'y', 'height')}"
    if kind == "text":
        return f'<div class="widget text" style="{place}">{escape(str(properties.get("markdown", "")))}</div>'
    title = f"<h3>{escape(str(properties.get('title', '')))}</h3>"
    if kind != "metric":
        note = f"{kind} widgets are not drawn locally"
        return f'<div class="widget" style="{place}">{title}<p class="note">{escape(note)}</p></div>'
    data = widget_data(properties, store, start, now)
    view = properties.get("view", "timeSeries")
    drawing = _numbers(data.lines) if view == "singleValue" else _chart(data.lines, start, now)
    notes = "".join(f'<p class="note">not shown locally: {escape(note)}</p>' for note in data.notes)
    return f'<div class="widget metric" data-view="{escape(str(view))}" style="{place}">{title}{drawing}{notes}</div>'


def _grid(widget: dict[str, Any], position: str, size: str) -> str:
    """Where the widget sits along one axis of the grid; without a position, the next free place (as CloudWatch)."""
    span = f"span {int(widget.get(size, 6))}"
    return f"{int(widget[position]) + 1} / {span}" if position in widget else span


def _numbers(lines: list[Line]) -> str:
    """A singleValue widget: each line's latest value, as CloudWatch shows it."""
    if not lines:
        return '<p class="empty">No data</p>'
    cells = []
    for line in lines:
        shown = _number(line.latest) if line.latest is not None else "—"
        cells.append(f'<div class="value"><span class="number">{shown}</span><span>{escape(line.label)}</span></div>')
    return f'<div class="values">{"".join(cells)}</div>'


def _chart(lines: list[Line], start: float, now: float) -> str:
    """A timeSeries widget: one polyline per line (a dot per period) over [start, now], then the legend."""
    drawn = [line for line in lines if line.values]
    if not drawn:
        return '<p class="empty">No data in this range</p>'
    first = min(start, *(min(line.values) for line in drawn))
    values = [value for line in drawn for value in line.values.values()]
    low, high = min(0.0, *values), max(values)
    if high == low:
        high = low + 1
    width, height = _CHART_WIDTH - _MARGIN_LEFT, _CHART_HEIGHT - _MARGIN_TOP - _MARGIN_BOTTOM

    def x(moment: float) -> float:
        return _MARGIN_LEFT + (moment - first) / max(now - first, 1) * width

    def y(value: float) -> float:
        return _MARGIN_TOP + height - (value - low) / (high - low) * height

    shapes = [
        f'<line class="axis" x1="{_MARGIN_LEFT}" y1="{y(low)}" x2="{_CHART_WIDTH}" y2="{y(low)}"/>',
        f'<text x="{_MARGIN_LEFT - 4}" y="{y(high) + 3}" text-anchor="end">{_number(high)}</text>',
        f'<text x="{_MARGIN_LEFT - 4}" y="{y(low) + 3}" text-anchor="end">{_number(low)}</text>',
        f'<text x="{_MARGIN_LEFT}" y="{_CHART_HEIGHT - 2}">{_clock(first)}</text>',
        f'<text x="{_CHART_WIDTH}" y="{_CHART_HEIGHT - 2}" text-anchor="end">{_clock(now)}</text>',
    ]
    legend = []
    for index, line in enumerate(drawn):
        colour = COLOURS[index % len(COLOURS)]
        points = [(x(moment), y(value)) for moment, value in sorted(line.values.items())]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        shapes.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{path}"/>')
        shapes += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2" fill="{colour}"/>' for px, py in points]
        legend.append(
            f'<li><span class="swatch" style="background:{colour}"></span>{escape(line.label)}'
            f' <span class="latest">{_number(line.latest or 0.0)}</span></li>'
        )
    svg = f'<svg viewBox="0 0 {_CHART_WIDTH} {_CHART_HEIGHT}" role="img" aria-label="chart">{"".join(shapes)}</svg>'
    return f'{svg}<ul class="legend">{"".join(legend)}</ul>'


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def _clock(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%H:%M:%S")


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Local dashboards</title>
<link rel="icon" href="data:,">
<style>
body {{ font: 14px system-ui, sans-serif; margin: 16px; background: #f2f3f3; color: #16191f; }}
header p {{ color: #545b64; }}
.grid {{ display: grid; grid-template-columns: repeat(24, 1fr); grid-auto-rows: 40px; gap: 8px; }}
.widget {{ background: #fff; border: 1px solid #d5dbdb; padding: 6px 8px; overflow: auto; display: flex;
  flex-direction: column; min-width: 0; }}
.widget h3 {{ margin: 0 0 4px; font-size: 13px; }}
.widget svg {{ flex: 1; min-height: 0; width: 100%; }}
.widget svg text {{ font-size: 9px; fill: #545b64; }}
.widget .axis {{ stroke: #aab7b8; }}
.text {{ white-space: pre-wrap; font-weight: 600; }}
.values {{ display: flex; flex-wrap: wrap; gap: 16px; }}
.value {{ display: flex; flex-direction: column; }}
.value .number {{ font-size: 28px; }}
.legend {{ list-style: none; margin: 0; padding: 0; font-size: 11px; }}
.swatch {{ display: inline-block; width: 10px; height: 3px; margin-right: 4px; vertical-align: middle; }}
.latest {{ color: #545b64; }}
.note, .empty {{ color: #545b64; font-size: 12px; margin: 2px 0; }}
.alarms {{ background: #fff; border: 1px solid #d5dbdb; padding: 6px 8px; margin-bottom: 16px; }}
.alarms h2 {{ margin: 0 0 6px; font-size: 16px; }}
.alarms table {{ border-collapse: collapse; width: 100%; font-size: 12px; }}
.alarms th, .alarms td {{ text-align: left; padding: 3px 6px; border-bottom: 1px solid #eaeded; vertical-align: top; }}
.alarms .state {{ font-weight: 600; white-space: nowrap; }}
.alarms tr[data-state="ALARM"] {{ background: #fde8e8; }}
.alarms tr[data-state="ALARM"] .state {{ color: #d13212; }}
.alarms tr[data-state="INSUFFICIENT_DATA"] .state {{ color: #545b64; }}
.alarms tr[data-state="OK"] .state {{ color: #1d8102; }}
.alarms .reason {{ color: #545b64; }}
</style>
<script>
// Redraw in place every few seconds (no reload: the scroll position stays); a stopped stack leaves the last page.
setInterval(() => {{
  fetch(location.href)
    .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
    .then((text) => document.body.replaceWith(new DOMParser().parseFromString(text, "text/html").body))
    .catch(() => {{}});
}}, {refresh_ms});
</script>
</head>
<body>
<header>
<h1>Alarms and dashboards of {template}, from local metrics</h1>
<p>From {start} to {now} UTC (since the stack started, at most 3 hours). As JSON: the metrics,
<a href="/_local/metrics">/_local/metrics</a>; the alarms, <a href="/_local/alarms">/_local/alarms</a>.</p>
</header>
{alarms}
{sections}
</body>
</html>
"""

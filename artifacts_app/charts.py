"""Trend of a number across the versions of a key, as data for a server-rendered SVG chart.

A series is named by a short spec, so it fits a query string:
- `progress`                  the value of progress artifacts;
- `meta:<name>`               a metadata value that parses as a number;
- `cell:<column>:<row>`       one table cell (row counted from 1);
- `<agg>:<column>`            a table column aggregate, agg in sum, mean, min, max, last, count.

Nothing here builds markup: the template draws the SVG from the coordinates computed here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.urls import reverse

from . import models, rendering

MAX_VERSIONS = 200  # the newest versions charted
MAX_TABLE_VERSIONS = 60  # tables are parsed per version, so fewer of them
TABLE_CELL_BUDGET = 10_000_000  # ~characters of table JSON parsed for one chart (~1 s)
AGGREGATES = ("sum", "mean", "min", "max", "last", "count")
COUNTER_NAMES = {"version", "run", "id", "step", "epoch", "iteration", "index", "attempt"}
WIDTH, HEIGHT = 640, 240
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 64, 24, 16, 40


def number(value) -> float | None:
    """A finite float from a number or numeric string; None otherwise (bools are not numbers)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        value = value.strip().replace(",", "") if value.strip() else None
        if value is None:
            return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


@dataclass(frozen=True)
class Series:
    spec: str
    label: str


def recent_versions(key: str) -> list:
    """The newest versions of a key without their data (one query): enough to number versions,
    chart metadata and find which series exist."""
    return list(
        models.Artifact.objects.for_key(key).only("id", "created", "type", "metadata")[
            :MAX_VERSIONS
        ]
    )


def is_counter_name(name: str) -> bool:
    """Names of counters and ids: "version", "epoch", "step", "run_id", "Index"."""
    lowered = name.strip().lower()
    return lowered in COUNTER_NAMES or lowered.endswith(("_id", " id", "_index", "_number"))


def counts_up(values: list[float | None]) -> bool:
    """Whether `values` (oldest first) are whole numbers going up by exactly one each time:
    a column 0, 1, 2, ... or a metadata value that counts versions. Charting them (or their
    sum) shows a straight line that says nothing about the data."""
    present = [v for v in values if v is not None]
    if len(present) < 3 or any(v != int(v) for v in present):  # 1, 2 may be anything
        return False
    return all(b - a == 1 for a, b in zip(present, present[1:], strict=False))


def available_series(recent, latest=None) -> list[Series]:
    """Series worth charting: a number in `recent` (newest first, data not needed) or in the
    columns of `latest`, when it is a table (parsed through the renderer's cache). Counters are
    left out (metadata "version", a metadata value going 1, 2, 3 with the versions, columns such
    as epoch, step or id, or 0, 1, 2, ...): they can still be charted by their spec in the URL."""
    found: dict[str, str] = {}
    metadata: dict[str, list[float | None]] = {}
    for artifact in reversed(recent):  # oldest first
        if artifact.type == models.PROGRESS:
            found.setdefault("progress", "Progress (%)")
        for name, value in (artifact.metadata or {}).items():
            metadata.setdefault(name, []).append(number(value))
    for name, values in metadata.items():
        if all(v is None for v in values) or is_counter_name(name) or counts_up(values):
            continue
        found.setdefault(f"meta:{name}", f"Metadata “{name}”")
    if latest is not None and latest.type == models.TABLE:
        try:
            columns, rows = rendering.normalised_table(latest)
        except ValidationError:
            columns, rows = [], []
        for index, column in enumerate(columns):
            values = [number(row[index]) for row in rows[:200]]
            if all(v is None for v in values) or is_counter_name(column) or counts_up(values):
                continue
            for agg in ("mean", "sum", "max", "min", "last"):
                found.setdefault(f"{agg}:{column}", f"{agg.capitalize()} of column “{column}”")
        if columns:
            found.setdefault("count:rows", "Number of rows")
    return [Series(spec, label) for spec, label in found.items()]


def parse_spec(spec: str) -> tuple[str, str, int | None]:
    """(kind, name, row) from a spec; raises ValueError for an unknown one."""
    if spec == "progress":
        return "progress", "", None
    kind, _, rest = spec.partition(":")
    if kind == "meta" and rest:
        return "meta", rest, None
    if kind == "cell":
        column, _, row = rest.rpartition(":")
        if column and row.isdigit() and int(row) >= 1:
            return "cell", column, int(row)
    if kind in AGGREGATES and rest:
        return kind, rest, None
    raise ValueError(f"Unknown series {spec!r}.")


def series_label(spec: str) -> str:
    kind, name, row = parse_spec(spec)
    if kind == "progress":
        return "Progress (%)"
    if kind == "meta":
        return f"Metadata “{name}”"
    if kind == "cell":
        return f"Cell “{name}”, row {row}"
    if kind == "count":
        return "Number of rows"
    return f"{kind.capitalize()} of column “{name}”"


def value_of(artifact, spec: str) -> float | None:
    kind, name, row = parse_spec(spec)
    if kind == "progress":
        return artifact.progress_value
    if kind == "meta":
        return number((artifact.metadata or {}).get(name))
    if artifact.type != models.TABLE:
        return None
    try:
        columns, rows = rendering.table_columns_rows(artifact.data)
    except ValidationError:
        return None
    if kind == "count":
        return float(len(rows))
    if name not in columns:
        return None
    index = columns.index(name)
    if kind == "cell":
        return number(rows[row - 1][index]) if row <= len(rows) else None
    values = [v for v in (number(r[index]) for r in rows) if v is not None]
    if not values:
        return None
    if kind == "sum":
        return math.fsum(values)
    if kind == "mean":
        return math.fsum(values) / len(values)
    if kind == "min":
        return min(values)
    if kind == "max":
        return max(values)
    return values[-1]  # last


@dataclass
class Point:
    x: float
    y: float
    value: float
    label: str  # "v3 · 2026-11-25 07:50 · 0.44"
    url: str
    version: int
    when: str = ""

    @property
    def display(self) -> str:
        return human(self.value)


@dataclass
class Tick:
    y: float
    label: str


@dataclass
class XTick:
    x: float
    label: str  # "v12"
    anchor: str = "middle"  # SVG text-anchor: the first and last stay inside the plot


@dataclass
class Chart:
    key: str
    spec: str
    label: str
    points: list[Point]
    ticks: list[Tick]
    polyline: str
    versions_seen: int
    missing: int  # versions without a value for this series
    x_ticks: list[XTick] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = PAD_LEFT
    plot_right: int = WIDTH - PAD_RIGHT
    plot_top: int = PAD_TOP
    plot_bottom: int = HEIGHT - PAD_BOTTOM

    @property
    def title(self) -> str:
        return f"{self.label} across versions of {self.key}"

    @property
    def description(self) -> str:
        if not self.points:
            return "No version has a value for this series."
        first, last = self.points[0], self.points[-1]
        low = min(p.value for p in self.points)
        high = max(p.value for p in self.points)
        return (
            f"{len(self.points)} versions, from {human(first.value)} (version {first.version}) "
            f"to {human(last.value)} (version {last.version}); lowest {human(low)}, "
            f"highest {human(high)}."
        )


def human(value: float) -> str:
    """A number as people read it: 21,080 · 21,080.5 · 0.42 · 3.142 · 1.2M; never 2.108e+04."""
    size = abs(value)
    if value == int(value) and size < 1e15:
        return f"{int(value):,}"
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if size >= limit:
            scaled = value / limit
            return f"{scaled:,.3g}{suffix}" if abs(scaled) < 1000 else f"{scaled:,.0f}{suffix}"
    if size >= 1000:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if size >= 1:
        return f"{value:,.4g}"
    return format(Decimal(f"{value:.3g}"), "f")  # 0.000012, not 1.2e-05


def compact(value: float) -> str:
    """Axis labels: short (22.5k, 1.2M); human() below ten thousand."""
    if 1e4 <= abs(value) < 1e6:
        return f"{value / 1e3:,.3g}k"
    if abs(value) >= 1e6:
        for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
            if abs(value) >= limit:
                scaled = value / limit
                return f"{scaled:,.3g}{suffix}" if abs(scaled) < 1000 else f"{scaled:,.0f}{suffix}"
    return human(value)


MAX_X_TICKS = 6


def _x_ticks(points: list[Point]) -> list[XTick]:
    """Up to MAX_X_TICKS version labels, evenly spread over the points, first and last included."""
    if not points:
        return []
    if len(points) == 1:
        return [XTick(points[0].x, f"v{points[0].version}")]
    count = min(MAX_X_TICKS, len(points))
    indexes = sorted({round(i * (len(points) - 1) / (count - 1)) for i in range(count)})
    ticks = [XTick(points[i].x, f"v{points[i].version}") for i in indexes]
    ticks[0].anchor, ticks[-1].anchor = "start", "end"
    return ticks


def _nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    if low == high:
        low, high = low - 1, high + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 0.5 and len(ticks) < 12:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


def _size(data) -> int:
    """Roughly how many characters of JSON a table is, without serialising it."""
    if isinstance(data, str):
        return len(data)
    if isinstance(data, list):
        return len(data) * 60
    if isinstance(data, dict):
        return sum(len(v) for v in data.values() if isinstance(v, list)) * 12
    return 0


def trend_chart(key: str, spec: str, *, recent=None, total: int | None = None) -> Chart:
    """The chart of `spec` over the newest versions of `key`, oldest on the left.
    `recent` (from recent_versions) and `total` (the number of versions) save queries when the
    caller has them. Raises ValueError for an unknown spec."""
    kind, _, _ = parse_spec(spec)
    recent = recent_versions(key) if recent is None else recent
    if total is None:
        total = len(recent)
        if total >= MAX_VERSIONS:
            total = models.Artifact.objects.filter(key=key).count()
    numbers = {artifact.pk: total - index for index, artifact in enumerate(recent)}
    if kind == "meta" or not recent:
        versions = recent[::-1]
    else:  # the data of the versions in the window, only of the type the series reads
        type_ = models.PROGRESS if kind == "progress" else models.TABLE
        limit = MAX_VERSIONS if kind == "progress" else MAX_TABLE_VERSIONS
        queryset = models.Artifact.objects.for_key(key).filter(
            type=type_, created__gte=recent[-1].created
        )
        versions = []
        budget = TABLE_CELL_BUDGET
        rows = queryset.only("id", "created", "type", "data")[:limit]
        for artifact in rows.iterator(chunk_size=8):  # newest first; stop when over budget
            versions.append(artifact)
            if kind != "progress":
                budget -= _size(artifact.data)
                if budget < 0:
                    break
        versions.reverse()
    raw: list[tuple[int, object, float]] = []
    for artifact in versions:
        value = value_of(artifact, spec)
        if value is not None and artifact.pk in numbers:
            raw.append((numbers[artifact.pk], artifact, value))
    chart = Chart(
        key=key,
        spec=spec,
        label=series_label(spec),
        points=[],
        ticks=[],
        polyline="",
        versions_seen=len(recent),
        missing=len(recent) - len(raw) if kind == "meta" else len(versions) - len(raw),
    )
    if not raw:
        return chart
    values = [v for _, _, v in raw]
    ticks = _nice_ticks(min(values), max(values))
    low, high = ticks[0], ticks[-1]
    span_x = chart.plot_right - chart.plot_left
    span_y = chart.plot_bottom - chart.plot_top

    def y_of(v: float) -> float:
        return round(chart.plot_bottom - (v - low) / (high - low) * span_y, 2)

    for index, (number_, artifact, value) in enumerate(raw):
        x = chart.plot_left + (span_x * index / (len(raw) - 1) if len(raw) > 1 else span_x / 2)
        when = artifact.created.strftime("%Y-%m-%d %H:%M")
        chart.points.append(
            Point(
                x=round(x, 2),
                y=y_of(value),
                value=value,
                label=f"Version {number_} · {when} · {human(value)}",
                url=reverse("artifacts:detail", args=[artifact.pk]),
                version=number_,
                when=when,
            )
        )
    chart.ticks = [Tick(y=y_of(t), label=compact(t)) for t in ticks]
    chart.x_ticks = _x_ticks(chart.points)
    chart.polyline = " ".join(f"{p.x},{p.y}" for p in chart.points)
    return chart


DEFAULT_TABLE_CHART_ROWS = 10_000  # larger tables are charted only when asked for


def trend_context(key: str, spec: str | None, *, recent=None, latest=None, total=None) -> dict:
    """Context of the trend partial: the chart of `spec` (or of the first series available)."""
    recent = recent_versions(key) if recent is None else recent
    if latest is None and recent and recent[0].type == models.TABLE:
        latest = type(recent[0]).objects.get(pk=recent[0].pk)
    available = available_series(recent, latest)
    chart = error = None
    if spec:
        try:
            chart = trend_chart(key, spec, recent=recent, total=total)
        except ValueError as exc:
            error = str(exc)
        else:
            if spec not in {s.spec for s in available}:
                available.append(Series(spec, chart.label))
    elif available:
        default = available[0].spec
        big_table = (
            latest is not None
            and latest.type == models.TABLE
            and not default.startswith(("progress", "meta:"))
        )
        if big_table:
            big_table = len(rendering.normalised_table(latest)[1]) > DEFAULT_TABLE_CHART_ROWS
        if not big_table:
            chart = trend_chart(key, default, recent=recent, total=total)
    return {"key": key, "chart": chart, "series": available, "error": error}

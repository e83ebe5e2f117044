"""Template helpers for the diff, trend chart, permalinks and sandboxed HTML artifacts.

On the key page: `{% key_versions key as recent %}` reads the newest versions once (without
their data); the trend chart and the compare form both take it, so they add one query."""

from django import template

from artifacts_app import charts, sandbox
from artifacts_app.models import TABLE

register = template.Library()

COMPARE_CHOICES = 100
DEFAULT_TABLE_CHART_ROWS = 10_000  # larger tables are charted only when asked for


@register.simple_tag
def html_sandbox():
    return sandbox.SANDBOX


@register.simple_tag
def key_versions(key):
    return charts.recent_versions(key)


def trend_context(key: str, spec: str | None, *, recent=None, latest=None, total=None) -> dict:
    """Context of the trend partial: the chart of `spec` (or of the first series available)."""
    recent = charts.recent_versions(key) if recent is None else recent
    if latest is None and recent and recent[0].type == TABLE:
        latest = type(recent[0]).objects.get(pk=recent[0].pk)
    available = charts.available_series(recent, latest)
    chart = error = None
    if spec:
        try:
            chart = charts.trend_chart(key, spec, recent=recent, total=total)
        except ValueError as exc:
            error = str(exc)
        else:
            if spec not in {s.spec for s in available}:
                available.append(charts.Series(spec, chart.label))
    elif available:
        default = available[0].spec
        big_table = (
            latest is not None
            and latest.type == TABLE
            and not default.startswith(("progress", "meta:"))
        )
        if big_table:
            from artifacts_app import rendering

            big_table = len(rendering.normalised_table(latest)[1]) > DEFAULT_TABLE_CHART_ROWS
        if not big_table:
            chart = charts.trend_chart(key, default, recent=recent, total=total)
    return {"key": key, "chart": chart, "series": available, "error": error}


@register.inclusion_tag("artifacts/partials/trend.html", takes_context=True)
def trend_chart(context, key, recent=None, latest=None, total=None, spec=None):
    """The trend chart of a key: `spec`, else the page's ?series=, else the first available."""
    request = context.get("request")
    spec = spec or (request.GET.get("series", "")[:300] if request else None)
    return trend_context(key, spec, recent=recent, latest=latest, total=total)


@register.inclusion_tag("artifacts/partials/compare_form.html")
def compare_form(key, recent=None, total=None, a=None, b=None):
    """Two version pickers (the newest 100 versions) and a Compare button: a plain GET form."""
    recent = charts.recent_versions(key) if recent is None else recent
    total = len(recent) if total is None else total
    choices = [(total - i, v) for i, v in enumerate(recent[:COMPARE_CHOICES])]
    return {
        "key": key,
        "choices": choices,
        "a": str(a or (choices[1][1].pk if len(choices) > 1 else "")),
        "b": str(b or (choices[0][1].pk if choices else "")),
        "enough": total > 1,
    }


@register.filter
def zip_status(columns, statuses):
    """Pairs (column, status) for the diff table header."""
    return list(zip(columns, statuses, strict=False))

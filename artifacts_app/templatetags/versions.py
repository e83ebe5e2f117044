"""Template helpers for the versions of a key: the trend chart and the compare form.

On the key page: `{% key_versions key as recent %}` reads the newest versions once (without
their data); the trend chart and the compare form both take it, so they add one query."""

from django import template

from artifacts_app import charts

register = template.Library()

COMPARE_CHOICES = 100


@register.simple_tag
def key_versions(key):
    return charts.recent_versions(key)


@register.inclusion_tag("artifacts/partials/trend.html", takes_context=True)
def trend_chart(context, key, recent=None, latest=None, total=None, spec=None):
    """The trend chart of a key: `spec`, else the page's ?series=, else the first available."""
    request = context.get("request")
    spec = spec or (request.GET.get("series", "")[:300] if request else None)
    return charts.trend_context(key, spec, recent=recent, latest=latest, total=total)


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

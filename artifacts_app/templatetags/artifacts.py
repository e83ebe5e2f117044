"""Template helpers: render an artifact by kind, the HTML sandbox, markdown through the sanitiser, query strings."""

from django import template
from django.http import QueryDict
from django.utils.safestring import mark_safe

from artifacts_app import rendering, sandbox
from artifacts_app.web import tables

register = template.Library()


@register.filter
def markdown(text):
    """User markdown -> sanitised HTML (rendering.markdown_to_html is the only sanitiser)."""
    return mark_safe(rendering.markdown_to_html(text))  # noqa: S308 - bleach-sanitised above


@register.simple_tag
def html_sandbox():
    """The sandbox attribute of HTML artifacts' iframes (artifacts_app.sandbox)."""
    return sandbox.SANDBOX


@register.filter
def kind(artifact):
    return rendering.artifact_kind(artifact)


@register.filter
def preview(artifact):
    return rendering.preview_text(artifact)


@register.filter
def plain(text, limit=160):
    """Markdown (a description) as a short line of plain text."""
    return rendering.markdown_excerpt(text, int(limit)) if text else ""


@register.filter
def image_url(artifact):
    """An image artifact's URL when it may be shown (http/https only), else ""."""
    return rendering.image_url(artifact)


@register.filter
def pretty_json(data):
    limit = 200_000
    if isinstance(data, str) and len(data) > limit:
        data = data[:limit]  # same first `limit` characters, without encoding megabytes
    text = rendering.pretty_json(data)
    return text if len(text) <= limit else text[:limit] + "\n… (truncated; download the full data)"


@register.inclusion_tag("artifacts/partials/render.html", takes_context=True)
def render_artifact(context, artifact, preview=False, shown=None):
    """One artifact, rendered by the partial for its kind."""
    kind_ = rendering.artifact_kind(artifact)
    extra = {}
    request = context.get("request")
    if kind_ == "table" and preview:
        extra["table"] = rendering.table_page(artifact, page_size=10)
    elif kind_ == "table":  # sort, filter and page from the page's own URL (web/tables.py)
        query = request.GET if request is not None else QueryDict()
        state = tables.TableState.from_query(query)
        extra["table"] = tables.page_rows(artifact, state)
        path = request.path if request is not None else ""
        extra["links"] = tables.table_links(artifact, extra["table"], state, path, query)
    elif kind_ == "link":
        extra["link"] = rendering.parse_link(artifact.data)
    elif kind_ == "markdown":
        extra["html"] = mark_safe(rendering.markdown_to_html(artifact.data))  # noqa: S308
    elif kind_ == "image":
        extra["image_ok"] = rendering.is_safe_url(artifact.data)
    elif kind_ == "progress":
        value = artifact.progress_value
        extra["value"] = max(value, shown) if shown is not None else value
        extra["stored"] = artifact.progress_stored
    return {
        "artifact": artifact,
        "kind": kind_,
        "note": rendering.misfit_note(artifact, kind_),
        "preview": preview,
        "request": request,
        "user": context.get("user"),
        **extra,
    }


@register.simple_tag(takes_context=True)
def query(context, **changes):
    """The current query string with some parameters changed (None removes one)."""
    params = context["request"].GET.copy()
    for name, value in changes.items():
        if value is None or value == "":
            params.pop(name, None)
        else:
            params[name] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"

"""Pages across the versions of a key: the diff of two versions and the trend chart partial."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from artifacts_app import diff
from artifacts_app.charts import trend_context
from artifacts_app.models import Artifact, ArtifactCollection

from .fragments import wants_fragment
from .views import read_access

MAX_TEXT_LINES_SHOWN = 3000


def _version(key: str, name: str, raw: str) -> tuple[Artifact | None, str | None, int]:
    """The version named by ?a= or ?b=, or (None, message, status)."""
    try:
        pk = uuid.UUID(raw.strip())
    except ValueError:
        return None, f"{name} must be a version id (a UUID), not {raw[:60]!r}.", 400
    artifact = Artifact.objects.filter(pk=pk).first()
    if artifact is None:
        return None, f"No artifact with id {pk} ({name}).", 404
    if artifact.key != key:
        return None, f"Artifact {pk} ({name}) is not a version of {key}.", 400
    return artifact, None, 200


def _default_sides(key: str, a: str, b: str) -> tuple[str, str] | None:
    """The sides a diff URL leaves out: b the newest version, a the one before b (or b itself
    when b is the oldest). None when the key has only one version."""
    newest = list(Artifact.objects.for_key(key).values_list("pk", flat=True)[:2])
    if len(newest) < 2:
        return None
    if not b:
        b = str(newest[0])
    if not a:
        try:
            right = Artifact.objects.filter(key=key, pk=uuid.UUID(b.strip())).first()
        except ValueError:
            right = None  # the bad id is reported by the diff page itself
        if right is None:
            return str(newest[1]), b
        before = (
            Artifact.objects.filter(key=key)
            .filter(Q(created__lt=right.created) | Q(created=right.created, id__lt=right.id))
            .order_by("-created", "-id")
            .values_list("pk", flat=True)
            .first()
        )
        a = str(before or right.pk)
    return a, b


def _number(artifact) -> int:
    """Version number of `artifact` within its key, counting from the oldest as v1."""
    return (
        Artifact.objects.filter(key=artifact.key)
        .filter(Q(created__lt=artifact.created) | Q(created=artifact.created, id__lte=artifact.id))
        .count()
    )


@require_GET
@read_access
def key_diff(request, key):
    """What changed between versions ?a= (left, older) and ?b= (right, newer) of a key. Without
    them, a redirect to the newest version against the one before it (a link that keeps showing
    the same two versions when more arrive)."""
    collection = get_object_or_404(ArtifactCollection, key=key, latest__isnull=False)
    context = {"collection": collection, "key": key, "a": request.GET.get("a", "")[:100]}
    context["b"] = request.GET.get("b", "")[:100]
    if not context["a"] or not context["b"]:
        defaults = _default_sides(key, context["a"], context["b"])
        if defaults is None:
            context["only_one"] = collection.latest
            return render(request, "artifacts/key_diff.html", context)
        query = request.GET.copy()
        query["a"], query["b"] = defaults
        return redirect(f"{request.path}?{query.urlencode()}")
    old, error, status = _version(key, "a", context["a"])
    if old is not None:
        new, error, status = _version(key, "b", context["b"])
    if error:
        context["error"] = error
        return render(request, "artifacts/key_diff.html", context, status=status)
    key_column = request.GET.get("key_column", "")[:300] or None
    result = diff.version_diff(old, new, key_column=key_column)
    if result.data.kind in ("table", "json"):
        items = result.data.rows if result.data.kind == "table" else result.data.changes
        page = Paginator(items, diff.DIFF_ROWS_PAGE).get_page(request.GET.get("page"))
        context["page"] = page
    else:
        context["text_lines"] = result.data.lines[:MAX_TEXT_LINES_SHOWN]
        context["text_truncated"] = len(result.data.lines) > MAX_TEXT_LINES_SHOWN
    context.update({"diff": result, "old": old, "new": new, "key_column": key_column or ""})
    context["old_number"], context["new_number"] = _number(old), _number(new)
    return render(request, "artifacts/key_diff.html", context)


@require_GET
@read_access
def key_trend(request, key):
    """The trend partial for htmx (series picker); without htmx, the key page at the chart."""
    get_object_or_404(ArtifactCollection, key=key, latest__isnull=False)
    spec = request.GET.get("series", "")[:300]
    if not wants_fragment(request):
        url = reverse("artifacts:key", args=[key])
        return redirect(f"{url}?{urlencode({'series': spec})}#trend" if spec else f"{url}#trend")
    context = trend_context(key, spec or None)
    return render(
        request, "artifacts/partials/trend.html", context, status=400 if context["error"] else 200
    )

"""Pages made to be framed: a key's latest version for other sites, and HTML artifacts' own
sandboxed documents."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from artifacts_app import sandbox
from artifacts_app.models import HTML, Artifact, ArtifactCollection

from .views import _uuid_or_404, read_access


def _page_policy(frame_ancestors: str) -> str:
    """The site's Content-Security-Policy (settings.CONTENT_SECURITY_POLICY) with another
    frame-ancestors: the embed keeps every other protection of the dashboard's pages."""
    config = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
    directives = {k: list(v) for k, v in (config.get("DIRECTIVES") or {}).items()}
    directives["frame-ancestors"] = frame_ancestors.split()
    return "; ".join(f"{name} {' '.join(values)}".strip() for name, values in directives.items())


@require_GET
@read_access
@xframe_options_exempt
def key_embed(request, key):
    """Just the latest version of a key, for an iframe in a wiki or notebook. Framing is allowed
    only by ARTIFACTS_EMBED_FRAME_ANCESTORS (CSP frame-ancestors; default 'self')."""
    collection = get_object_or_404(
        ArtifactCollection.objects.with_latest(), key=key, latest__isnull=False
    )
    response = render(
        request, "artifacts/key_embed.html", {"collection": collection, "latest": collection.latest}
    )
    response["Content-Security-Policy"] = _page_policy(settings.ARTIFACTS_EMBED_FRAME_ANCESTORS)
    return response


@require_GET
@read_access
@xframe_options_exempt
def html_document(request, pk):
    """An HTML artifact as its own document, for `<iframe sandbox="allow-scripts" src>` only:
    the header policy sandboxes it (opaque origin) even when it is opened directly."""
    artifact = get_object_or_404(Artifact, pk=_uuid_or_404(pk), type=HTML)
    if not isinstance(artifact.data, str):
        raise Http404("This artifact has no HTML document.")
    response = HttpResponse(
        sandbox.document(artifact.data), content_type="text/html; charset=utf-8"
    )
    response["Content-Security-Policy"] = sandbox.header_policy(
        settings.ARTIFACTS_EMBED_FRAME_ANCESTORS
    )
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, max-age=0"
    return response

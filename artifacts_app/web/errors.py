"""Error pages in the site's layout (templates/404.html and friends, on error_page.html): a way
back, a search box, the message of our own Http404s. Django's default handlers render 400, 403
and 500 from those templates; the 404 handler here adds a search suggestion from the URL."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import Resolver404
from django.views.decorators.csrf import requires_csrf_token


def _message(exception) -> str:
    """Our own Http404 messages ("No such artifact."); never Django's resolver internals."""
    if isinstance(exception, Resolver404):
        return ""
    message = exception.args[0] if getattr(exception, "args", None) else ""
    if not isinstance(message, str) or "matches the given query" in message:
        return ""  # get_object_or_404's "No ArtifactCollection matches the given query."
    return message


def _suggestion(path: str) -> str:
    """What to search for: the key in /artifacts/key/<key>/..., else the URL's last word."""
    parts = [part for part in path.split("/") if part]
    if len(parts) >= 3 and parts[:2] == ["artifacts", "key"]:
        return parts[2][:200]
    return ""


@requires_csrf_token
def not_found(request, exception):
    suggestion = _suggestion(request.path)
    message = _message(exception) or (f"There is no key “{suggestion}”." if suggestion else "")
    context = {"message": message, "suggestion": suggestion}
    return render(request, "404.html", context, status=404)

"""Our middleware: the request-size cap (a body over ARTIFACTS_MAX_BODY_BYTES is refused with 413
before it is read), U+0000 in query strings refused on the API and dropped on pages (the
database refuses it), and
django-csp's Content-Security-Policy with the site's policy built once."""

from __future__ import annotations

import io

import csp.middleware
from csp.constants import HEADER
from csp.middleware import CheckableLazyObject
from csp.utils import build_policy
from django.conf import settings
from django.http import JsonResponse, QueryDict


def _too_large(limit: int) -> JsonResponse:
    return JsonResponse(
        {
            "detail": f"Request body too large: the limit is {limit} bytes (ARTIFACTS_MAX_BODY_BYTES)."
        },
        status=413,
    )


class BodySizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.ARTIFACTS_MAX_BODY_BYTES
        length = request.META.get("CONTENT_LENGTH")
        if length:
            try:
                too_large = int(length) > limit
            except ValueError:
                return JsonResponse({"detail": "Invalid Content-Length header."}, status=400)
            if too_large:
                return _too_large(limit)
        elif request.method in ("POST", "PUT", "PATCH") and "chunked" in request.META.get(
            "HTTP_TRANSFER_ENCODING", ""
        ):
            body = request.read(limit + 1)
            if len(body) > limit:
                return _too_large(limit)
            request._body = body
            request._stream = io.BytesIO(body)
        return self.get_response(request)


NUL_MESSAGE = "contains U+0000 (a NUL character), which cannot be stored."


class NulQueryMiddleware:
    """A query parameter reaches the database as text, and PostgreSQL refuses U+0000 in text. On
    the API a query string holding one (`%00`) is a 422 naming the parameter (our error shape);
    on pages the character is dropped from the parameters (a page always answers, as search
    does with odd input). Paths need no check: keys in paths must match `^[a-z0-9-]+$` and ids
    are UUIDs (404 otherwise)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            lists = request.GET.lists()
            names = [n for n, vs in lists if "\x00" in n or any("\x00" in v for v in vs)]
            if names and request.path.startswith("/api/"):
                name = repr(names[0]) if "\x00" in names[0] else names[0]
                return JsonResponse(
                    {"detail": f"{name}: {NUL_MESSAGE}", "errors": {name: [NUL_MESSAGE]}},
                    status=422,
                )
            if names:
                cleaned = QueryDict(mutable=True)
                for name, values in request.GET.lists():
                    cleaned.setlist(
                        name.replace("\x00", ""), [v.replace("\x00", "") for v in values]
                    )
                cleaned._mutable = False
                request.GET = cleaned
        return self.get_response(request)


# What a view or decorator may set on a response to bring a policy of its own (django-csp 4).
_OWN_POLICY = (
    "_csp_exempt",
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt_ro",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
_site_policy_memo: tuple[object, str] | None = None


def _site_policy() -> str:
    """settings.CONTENT_SECURITY_POLICY as a header value, built by django-csp once per settings
    object (a test's override_settings gets its own)."""
    global _site_policy_memo
    config = getattr(settings, "CONTENT_SECURITY_POLICY", None)
    memo = _site_policy_memo
    if memo is None or memo[0] is not config:
        memo = _site_policy_memo = (config, build_policy())
    return memo[1]


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's middleware, with one shortcut: a response that brings no policy of its own,
    to a request that used no nonce, gets the site's policy, which is the same string every time,
    so it is built once instead of per response (0.37 M instructions, a tenth of an API read).
    Everything else (nonces, per-view policies, report-only, excluded prefixes, DEBUG's error
    pages) goes through django-csp unchanged."""

    def process_response(self, request, response):
        if (
            settings.DEBUG
            or getattr(request, "_csp_nonce", None) is not None
            or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            or (getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}).get(
                "EXCLUDE_URL_PREFIXES"
            )
            or any(hasattr(response, name) for name in _OWN_POLICY)
        ):
            return super().process_response(request, response)
        policy = _site_policy()
        if policy and HEADER not in response:
            response[HEADER] = policy
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response

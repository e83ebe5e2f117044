"""Pages and their htmx fragments share URLs (the list answers `/artifacts/?q=x` with the whole
page or with just `#results`). Which one a request gets, and the headers that keep a browser from
showing a cached fragment as a page on Back/Forward (issue 14, item 1):

- every HTML answer of the dashboard says `Vary: HX-Request`;
- a fragment is `Cache-Control: no-store`, so it never lands in the HTTP cache under the page's URL;
- a page is `private, no-cache`: kept per browser, revalidated before reuse (live data).

htmx restores history from the server (`historyCacheSize: 0` in base.html) with
`historyRestoreAsHxRequest: false`, and `wants_fragment` also answers such a restore with the
whole page if a client sends `HX-Request` with it anyway.
"""

from __future__ import annotations

from django.utils.cache import patch_vary_headers

FRAGMENT_CACHE_CONTROL = "no-store"
PAGE_CACHE_CONTROL = "private, no-cache"


def wants_fragment(request) -> bool:
    """An htmx request for a piece of a page (not a history restore, which needs the page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


class FragmentCacheMiddleware:
    """Vary and Cache-Control on the dashboard's HTML answers; answers that set their own
    Cache-Control (admin's never_cache, sandboxed HTML documents) keep it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        patch_vary_headers(response, ("HX-Request",))
        if not response.has_header("Cache-Control"):
            fragment = request.headers.get("HX-Request") == "true"
            response["Cache-Control"] = FRAGMENT_CACHE_CONTROL if fragment else PAGE_CACHE_CONTROL
        return response

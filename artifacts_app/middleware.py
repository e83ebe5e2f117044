"""Request-size cap: a body over ARTIFACTS_MAX_BODY_BYTES is refused with 413 before it is read."""

from __future__ import annotations

import io

from django.conf import settings
from django.http import JsonResponse


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

"""Limits and failure handling: API throttles, admin login lockout, 503 when the database is down.

Throttles count requests in fixed windows with one cache increment per request (DRF's built-in
throttles keep a list of every timestamp in the window, which is O(rate) per request and too slow
at the rates a pipeline posts). Counters live in Django's cache: per process with the default
local-memory cache, shared by every process and machine with REDIS_URL (Django's Redis cache)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from rest_framework.throttling import BaseThrottle

from artifacts_app.models import ApiToken

_PERIODS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """'600/min' -> (600, 60). None, '' or 'off' disable the limit."""
    if not rate or rate.strip().lower() in ("off", "none", "0"):
        return None
    count, _, period = rate.partition("/")
    try:
        return int(count), _PERIODS[period.strip().lower()]
    except (KeyError, ValueError):
        raise ValueError(f"Bad rate {rate!r}: use N/second, N/minute, N/hour or N/day") from None


def _hit(key: str, limit: int, period: int) -> float | None:
    """Count one request; return seconds to wait when over the limit, else None."""
    now = time.time()
    window = int(now // period)
    cache_key = f"throttle:{key}:{window}"
    try:
        count = cache.incr(cache_key)  # atomic in Redis and in the local-memory cache
    except ValueError:  # the window's first request (or its key expired)
        count = 1 if cache.add(cache_key, 1, period + 1) else cache.incr(cache_key)
    if count > limit:
        return max(1.0, (window + 1) * period - now)
    return None


class FixedWindowThrottle(BaseThrottle):
    setting = ""

    def __init__(self):
        self.wait_seconds: float | None = None

    def rate(self):
        return parse_rate(getattr(settings, self.setting, None))

    def identity(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view):
        rate = self.rate()
        ident = self.identity(request)
        if rate is None or ident is None:
            return True
        self.wait_seconds = _hit(f"{self.setting}:{ident}", *rate)
        return self.wait_seconds is None

    def wait(self):
        return self.wait_seconds


class AnonThrottle(FixedWindowThrottle):
    """Requests without credentials, per client address (ARTIFACTS_THROTTLE_ANON)."""

    setting = "ARTIFACTS_THROTTLE_ANON"

    def identity(self, request):
        if request.user and request.user.is_authenticated:
            return None
        return self.get_ident(request)


class TokenThrottle(FixedWindowThrottle):
    """Requests with a token or a session, per user (ARTIFACTS_THROTTLE_USER)."""

    setting = "ARTIFACTS_THROTTLE_USER"

    def identity(self, request):
        if not (request.user and request.user.is_authenticated):
            return None
        if isinstance(request.auth, ApiToken):
            return f"token:{request.auth.pk}"
        return f"user:{request.user.pk}"


class LoginThrottleMiddleware:
    """Brute-force protection for the admin login: after ARTIFACTS_LOGIN_MAX_FAILURES failed
    attempts for one username, or five times that from one address, further attempts get 429
    until ARTIFACTS_LOGIN_LOCKOUT_SECONDS have passed since the last failure."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "POST" or not request.path.endswith("/login/"):
            return self.get_response(request)
        limit = settings.ARTIFACTS_LOGIN_MAX_FAILURES
        lockout = settings.ARTIFACTS_LOGIN_LOCKOUT_SECONDS
        address = request.META.get("REMOTE_ADDR", "")
        username = (request.POST.get("username") or "").strip().lower()[:150]
        keys = [f"login-fail:user:{username}", f"login-fail:addr:{address}"]
        limits = [limit, limit * 5]
        if any((cache.get(key) or 0) >= cap for key, cap in zip(keys, limits, strict=True)):
            response = HttpResponse(
                "Too many failed logins. Try again later.", status=429, content_type="text/plain"
            )
            response["Retry-After"] = str(lockout)
            return response
        response = self.get_response(request)
        failed = response.status_code == 200  # the form came back: wrong credentials
        for key in keys:
            if failed:
                if not cache.add(key, 1, lockout):
                    try:
                        cache.incr(key)
                    except ValueError:
                        cache.set(key, 1, lockout)
                    cache.touch(key, lockout)
            elif response.status_code in (301, 302):
                cache.delete(key)
        return response


class DatabaseUnavailableMiddleware:
    """A database that cannot be reached answers 503 with a clear message (JSON on /api/), not a
    traceback. Connections are health-checked (CONN_HEALTH_CHECKS), so requests recover by
    themselves once the database is back."""

    MESSAGE = "The database is unavailable right now; retry shortly."

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError) and not (
            isinstance(exception, DatabaseError) and "connection" in str(exception).lower()
        ):
            return None
        from django.db import connections

        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": self.MESSAGE}, status=503)
        else:
            response = HttpResponse(
                self.MESSAGE, status=503, content_type="text/plain; charset=utf-8"
            )
        response["Retry-After"] = "5"
        return response

"""Bearer tokens (hashed) for the API, and the read/write permission rule."""

from __future__ import annotations

import datetime as dt
import hmac

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from artifacts_app.models import ApiToken, hash_token

LAST_USED_EVERY = dt.timedelta(minutes=1)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>`, as Prefect's client sends PREFECT_API_KEY.

    Only the SHA-256 of a token is stored; the lookup is by digest and the final comparison is
    constant-time. Revoked tokens and inactive users are refused, on the very next request in
    every process: the token is looked up on every request (one indexed query; nothing is
    remembered between requests, so a revocation has nothing to wait for)."""

    keyword = "bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: use 'Bearer <token>'."
            )
        try:
            raw = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return self.authenticate_token(raw)

    def authenticate_token(self, raw: str):
        digest = hash_token(raw)
        token = ApiToken.objects.active().select_related("user").filter(digest=digest).first()
        if token is None or not hmac.compare_digest(token.digest, digest):
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        now = timezone.now()
        if token.last_used is None or now - token.last_used > LAST_USED_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used=now)
            token.last_used = now
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ArtifactsPermission(permissions.BasePermission):
    """Reads are open when ARTIFACTS_PUBLIC_READ is on (else need login or token); writes need a
    token, or a staff session. Views whose POST only reads (filters, counts) set `read_only_post`."""

    message = "Authentication credentials were not provided."

    def has_permission(self, request, view):
        is_read = request.method in permissions.SAFE_METHODS or (
            request.method == "POST" and getattr(view, "read_only_post", False)
        )
        user = request.user
        if is_read:
            return settings.ARTIFACTS_PUBLIC_READ or bool(user and user.is_authenticated)
        if isinstance(request.auth, ApiToken):
            return True
        return bool(user and user.is_authenticated and user.is_staff)


try:
    from drf_spectacular.extensions import OpenApiAuthenticationExtension

    class BearerTokenScheme(OpenApiAuthenticationExtension):
        target_class = BearerTokenAuthentication
        name = "bearerAuth"

        def get_security_definition(self, auto_schema):
            return {"type": "http", "scheme": "bearer"}

except ImportError:  # pragma: no cover - drf-spectacular is a dependency
    pass

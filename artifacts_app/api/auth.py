"""Bearer tokens (hashed) for the API, and the read/write permission rule."""

from __future__ import annotations

import datetime as dt
import functools

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from artifacts_app.models import ApiToken, hash_token

LAST_USED_EVERY = dt.timedelta(minutes=1)
# What authentication, permissions and throttles read of a token's user (anything else loads on
# first use, as with `.only()`).
USER_FIELDS = ("id", "username", "is_staff", "is_superuser")


@functools.cache
def _token_sql(vendor: str) -> str:
    """One statement, run on every authenticated request: the token with that digest, not revoked,
    of an active user, and whether its last_used is older than the threshold. Written as SQL
    because building the same query through the ORM cost more than the query itself (2.1 M
    instructions a request against 0.4 M; benchmarks/README.md)."""
    qn = connection.ops.quote_name
    user = get_user_model()
    columns = ", ".join(f"u.{qn(user._meta.get_field(name).column)}" for name in USER_FIELDS)
    return (
        f"SELECT t.{qn('id')}, CASE WHEN t.{qn('last_used')} IS NULL"
        f" OR t.{qn('last_used')} < %s THEN 1 ELSE 0 END, {columns}"
        f" FROM {qn(ApiToken._meta.db_table)} t"
        f" JOIN {qn(user._meta.db_table)} u ON u.{qn(user._meta.pk.column)} = t.{qn('user_id')}"
        f" WHERE t.{qn('digest')} = %s AND t.{qn('revoked')} = %s AND u.{qn('is_active')} = %s"
    )


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>`, as Prefect's client sends PREFECT_API_KEY.

    Only the SHA-256 of a token is stored, and the lookup is by digest (an equality on a hash the
    client cannot steer, so it leaks nothing by timing). Revoked tokens and inactive users are refused, on the very next request in
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
        now = timezone.now()
        stale_before = connection.ops.adapt_datetimefield_value(now - LAST_USED_EVERY)
        with connection.cursor() as cursor:
            cursor.execute(_token_sql(connection.vendor), [stale_before, digest, False, True])
            row = cursor.fetchone()
        if row is None:  # unknown digest, revoked, or the user is inactive
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        token_id, stale, *user_values = row
        user = get_user_model().from_db(connection.alias, USER_FIELDS, user_values)
        user.is_active = True
        token = ApiToken.from_db(
            connection.alias,
            ("id", "user_id", "digest", "revoked"),
            (token_id, user.pk, digest, False),
        )
        ApiToken.user.field.set_cached_value(token, user)
        if stale:
            ApiToken.objects.filter(pk=token_id).update(last_used=now)
            token.last_used = now
        return user, token

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

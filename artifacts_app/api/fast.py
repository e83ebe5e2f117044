"""The fast lane: the five calls pipelines make all day, answered without Django's request stack.

`GET /api/artifacts/{key}/latest`, `POST /api/artifacts/filter`, `POST /api/artifacts/latest/filter`,
`POST /api/artifacts/` (create) and `PATCH /api/artifacts/{id}` (progress and data updates) are
answered here, on the event loop, with one database connection per process and a handful of
prepared statements; responses embed the stored JSON of `data` and `metadata_` as it is
(`orjson.Fragment`), never decoding it. benchmarks/README.md has the figures (Django + DRF on
a2wsgi topped out near 700-1,000 req/s on 2 cores for the cheapest call).

One rule keeps this lane from becoming a second API: it only ever answers the *ordinary* request,
and hands everything else, untouched, to Django (`_Django`): a body that does not parse or
validate, an unknown or unusual filter, a missing artifact, no or an unknown token (the first
request with a token is answered by Django, which remembers the token for this process for
ARTIFACTS_TOKEN_CACHE_SECONDS), a cookie, a throttled client, a body over 64 KiB, a database
error before anything was written. So every error message, 4xx and 5xx, is Django's, and
tests/api/test_fast_lane.py checks that both answer the same for the same requests.
Validation is the same code (`rendering`, `filters.parse_body`); only the SQL is written here.

It applies what Django's middleware would: ALLOWED_HOSTS (else Django's 400), the https
redirect (a plain-http request goes to Django when SECURE_SSL_REDIRECT is on), the security and
CSP headers, HSTS on secure requests, the throttles, the body limit. Off with
ARTIFACTS_FAST_API=0.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import sqlite3
import time
import uuid
from typing import Any

import orjson
from django.conf import settings

from artifacts_app import rendering, services
from artifacts_app.models import uuid7
from artifacts_app.security import DatabaseUnavailableMiddleware, _hit, parse_rate

from . import auth, filters, serializers

BODY_MAX = 64 * 1024
_UTC = dt.UTC
_EPSILON = dt.timedelta(microseconds=1)
# orjson reads integers beyond 64 bits as floats (Python's json, behind DRF, keeps them exact),
# and PostgreSQL cannot store U+0000 in JSON: such bodies go to Django.
_ODD_BODY = re.compile(rb"[0-9]{20,}|\\u0000")
_LATEST = re.compile(r"^/api/artifacts/([a-z0-9-]{1,2000})/latest/?$")
_DETAIL = re.compile(r"^/api/artifacts/([0-9a-fA-F-]{32,36})/?$")
_LISTS = {
    "/api/artifacts/filter": False,
    "/api/artifacts/filter/": False,
    "/api/artifacts/latest/filter": True,
    "/api/artifacts/latest/filter/": True,
}
_CREATE = {"/api/artifacts", "/api/artifacts/"}
# Written out, not read from the serializers: a field added there must go to Django until the
# lane also stores it.
_CREATE_FIELDS = {
    "key",
    "type",
    "description",
    "data",
    "metadata_",
    "flow_run_id",
    "task_run_id",
}
_UPDATE_FIELDS = {"data", "description", "metadata_"}
_ALLOW_LIST = b"POST, OPTIONS"
_ALLOW_DETAIL = b"GET, PATCH, DELETE, HEAD, OPTIONS"
_ALLOW_LATEST = b"GET, HEAD, OPTIONS"
_ALLOW_CREATE = b"GET, POST, HEAD, OPTIONS"
_UNAVAILABLE = orjson.dumps({"detail": DatabaseUnavailableMiddleware.MESSAGE})


class _Django(Exception):
    """Not an ordinary request: Django answers it."""


class _Unavailable(Exception):
    """The database failed while committing: whether the write landed is unknown, so it is not
    retried through Django; the client gets Django's 503 for an unreachable database."""


def enabled() -> bool:
    return settings.ARTIFACTS_FAST_API


_HOSTS: dict[str, bool] = {}


def _host_allowed(headers: dict) -> bool:
    """Django's ALLOWED_HOSTS check (a bad Host gets Django's 400)."""
    if settings.USE_X_FORWARDED_HOST and b"x-forwarded-host" in headers:
        return False
    host = headers.get(b"host", b"").decode("latin-1")
    allowed = _HOSTS.get(host)
    if allowed is None:
        from django.http.request import split_domain_port, validate_host

        domain, _ = split_domain_port(host)
        hosts = settings.ALLOWED_HOSTS
        if settings.DEBUG and not hosts:
            hosts = [".localhost", "127.0.0.1", "[::1]"]
        allowed = bool(domain) and validate_host(domain, hosts)
        if len(_HOSTS) < 1000:
            _HOSTS[host] = allowed
    return allowed


def _is_secure(headers: dict, scope) -> bool:
    """Django's `request.is_secure()`, including SECURE_PROXY_SSL_HEADER behind a proxy."""
    if settings.SECURE_PROXY_SSL_HEADER:
        name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        header = name.removeprefix("HTTP_").lower().replace("_", "-").encode()
        value = headers.get(header)
        if value is not None:
            return value.decode("latin-1").split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") == "https"


def _hsts() -> bytes:
    value = f"max-age={settings.SECURE_HSTS_SECONDS}"
    if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        value += "; includeSubDomains"
    if settings.SECURE_HSTS_PRELOAD:
        value += "; preload"
    return value.encode()


# ------------------------------------------------------------------------------- headers --


def _static_headers() -> list[tuple[bytes, bytes]]:
    """What Django's middleware puts on every API response (security headers, CSP)."""
    from csp.utils import build_policy

    headers = [
        (b"x-frame-options", settings.X_FRAME_OPTIONS.encode()),
        (b"content-security-policy", build_policy().encode()),
    ]
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append((b"x-content-type-options", b"nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        headers.append((b"referrer-policy", settings.SECURE_REFERRER_POLICY.encode()))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(
            (b"cross-origin-opener-policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY.encode())
        )
    return headers


_HEADERS: list[tuple[bytes, bytes]] | None = None


async def _respond(
    send, status: int, body: bytes, allow: bytes, anonymous: bool, secure: bool
) -> None:
    global _HEADERS
    if _HEADERS is None:
        _HEADERS = _static_headers()
    headers = [
        (b"vary", b"Accept, Cookie" if anonymous else b"Accept"),
        (b"allow", allow) if allow else (b"retry-after", b"5"),
        (b"content-length", str(len(body)).encode()),
        *_HEADERS,
    ]
    if secure and settings.SECURE_HSTS_SECONDS:
        headers.append((b"strict-transport-security", _hsts()))
    if status != 204:
        headers.insert(0, (b"content-type", b"application/json"))
    else:
        headers.insert(0, (b"content-type", b"text/html; charset=utf-8"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# ------------------------------------------------------------------------------ database --


class _Store:
    """One connection per process, used only from the event loop's thread."""

    def __init__(self):
        db = settings.DATABASES["default"]
        self.vendor = "sqlite" if db["ENGINE"].endswith("sqlite3") else "postgresql"
        self.db = db
        self.conn: Any = None
        sqlite = self.vendor == "sqlite"
        self.p = "?" if sqlite else "%s"
        self.json = "{}" if sqlite else "{}::text"  # PostgreSQL: jsonb as its text, no decoding
        self.pj = "?" if sqlite else "%s::jsonb"  # a JSON parameter
        self.types: dict[uuid.UUID, str | None] = {}

    def connect(self):
        if self.conn is None:
            if self.vendor == "sqlite":
                conn = sqlite3.connect(
                    self.db["NAME"], isolation_level=None, check_same_thread=False, timeout=20
                )
                conn.executescript(self.db.get("OPTIONS", {}).get("init_command", ""))
            else:
                import psycopg

                conn = psycopg.connect(
                    dbname=self.db["NAME"],
                    user=self.db.get("USER") or None,
                    password=self.db.get("PASSWORD") or None,
                    host=self.db.get("HOST") or None,
                    port=self.db.get("PORT") or None,
                    autocommit=True,
                    options="-c timezone=UTC",
                    connect_timeout=5,
                )
            self.conn = conn
        return self.conn

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                conn.close()

    def rows(self, sql: str, params) -> list[tuple]:
        try:
            return self.connect().execute(sql, params).fetchall()
        except Exception:
            self.close()
            raise _Django from None

    # -- values in and out ---------------------------------------------------------------

    def uuid_in(self, value: uuid.UUID | None):
        if value is None:
            return None
        return value.hex if self.vendor == "sqlite" else value

    def time_in(self, value: dt.datetime):
        if self.vendor == "sqlite":  # as Django stores it: naive UTC, str()
            return str(value.replace(tzinfo=None))
        return value

    def time_out(self, value) -> dt.datetime:
        if isinstance(value, str):
            return dt.datetime.fromisoformat(value).replace(tzinfo=_UTC)
        return value

    def uuid_out(self, value):
        if value is None or not isinstance(value, str):
            return value
        return uuid.UUID(value)

    def json_in(self, value):
        return None if value is None else orjson.dumps(value).decode()

    def write(self, work):
        """SQLite: run `work(conn)` in one write transaction, under the writer lock Django's
        writes take too, so the two never wait in SQLite's sleeping busy handler."""
        conn = self.connect()
        with services.sqlite_writer(self.db["NAME"]):
            return self._transaction(conn, work)

    def statement(self, sql: str, params, *, retry_safe: bool):
        """PostgreSQL: one statement, its own transaction. A failure before the database acted
        -> Django answers; a broken connection during a write that cannot be repeated safely
        -> 503 (whether it landed is unknown)."""
        import psycopg

        try:
            return self.connect().execute(sql, params)
        except (psycopg.OperationalError, psycopg.InterfaceError):
            self.close()
            if retry_safe:
                raise _Django from None
            raise _Unavailable from None
        except Exception:
            self.close()
            raise _Django from None

    def _transaction(self, conn, work):
        try:
            conn.execute("BEGIN IMMEDIATE")
        except Exception:
            self.close()
            raise _Django from None
        try:
            result = work(conn)
        except _Django:
            self._rollback(conn)
            raise
        except Exception:
            self._rollback(conn)
            self.close()
            raise _Django from None
        try:
            conn.execute("COMMIT")
        except Exception:
            self.close()
            raise _Unavailable from None
        return result

    def _rollback(self, conn) -> None:
        try:
            conn.execute("ROLLBACK")
        except Exception:  # noqa: BLE001 - the connection is closed next
            self.close()

    def artifact_type(self, artifact_id: uuid.UUID) -> tuple[bool, str | None]:
        """(exists, type) of an artifact; a type never changes, so it is remembered."""
        if artifact_id in self.types:
            return True, self.types[artifact_id]
        rows = self.rows(
            f"SELECT type FROM {_ARTIFACTS} WHERE id = {self.p}", (self.uuid_in(artifact_id),)
        )
        if not rows:
            return False, None
        if len(self.types) >= 10_000:
            self.types.clear()
        self.types[artifact_id] = rows[0][0]
        return True, rows[0][0]


_store: _Store | None = None


def _get_store() -> _Store:
    global _store
    if _store is None:
        _store = _Store()
    return _store


# -------------------------------------------------------------------------- serialising --

# The order Django's API answers in: serializers.artifact_json moves `metadata_` last.
ARTIFACT_COLUMNS = tuple(n for n in serializers.ARTIFACT_VALUES if n != "metadata") + ("metadata_",)


def _artifact_select(store: _Store) -> str:
    cols = []
    for name in ARTIFACT_COLUMNS:
        column = f'a."{name}"'
        cols.append(store.json.format(column) if name in ("data", "metadata_") else column)
    return ", ".join(cols)


def _fragment(text):
    if text is None:
        return None
    return orjson.Fragment(text)


def _artifact_out(store: _Store, row) -> dict:
    return {
        "id": store.uuid_out(row[0]),
        "created": store.time_out(row[1]),
        "updated": store.time_out(row[2]),
        "key": row[3],
        "type": row[4],
        "description": row[5],
        "data": _fragment(row[6]),
        "flow_run_id": store.uuid_out(row[7]),
        "task_run_id": store.uuid_out(row[8]),
        "metadata_": _fragment(row[9]),
    }


def _collection_out(store: _Store, row) -> dict:
    # row: c.id, c.created, c.updated, c.key, c.latest_id, c.type, then the artifact's columns
    latest = _artifact_out(store, row[6:])
    return {
        "id": store.uuid_out(row[0]),
        "created": store.time_out(row[1]),
        "updated": store.time_out(row[2]),
        "key": row[3],
        "latest_id": store.uuid_out(row[4]),
        "type": row[5],
        "description": latest["description"],
        "data": latest["data"],
        "metadata_": latest["metadata_"],
        "flow_run_id": latest["flow_run_id"],
        "task_run_id": latest["task_run_id"],
    }


# ------------------------------------------------------------------------------- reads --

_ARTIFACTS = "artifacts_app_artifact"
_COLLECTIONS = "artifacts_app_artifactcollection"
_SQL_CACHE: dict[tuple, str] = {}


def _latest(store: _Store, key: str) -> bytes:
    sql = _SQL_CACHE.get(("latest", store.vendor))
    if sql is None:
        sql = (
            f"SELECT {_artifact_select(store)} FROM {_COLLECTIONS} c "
            f"JOIN {_ARTIFACTS} a ON a.id = c.latest_id WHERE c.key = {store.p}"
        )
        _SQL_CACHE[("latest", store.vendor)] = sql
    rows = store.rows(sql, (key,))
    if not rows:
        raise _Django  # 404 from Django
    return orjson.dumps(_artifact_out(store, rows[0]))


_ORDER = {
    False: {
        "CREATED_DESC": "a.created DESC, a.id DESC",
        "UPDATED_DESC": "a.updated DESC, a.id DESC",
        "ID_DESC": "a.id DESC",
        "KEY_DESC": "a.key DESC, a.created DESC, a.id DESC",
        "KEY_ASC": "a.key ASC, a.created DESC, a.id DESC",
    },
    True: {
        "CREATED_DESC": "c.created DESC, c.id DESC",
        "UPDATED_DESC": "c.updated DESC, c.id DESC",
        "ID_DESC": "c.id DESC",
        "KEY_DESC": "c.key DESC",
        "KEY_ASC": "c.key ASC",
    },
}


def _in(store: _Store, column: str, values: list, params: list, *, uuids: bool = False) -> str:
    if not values:
        return "1 = 0"
    if uuids:
        values = [store.uuid_in(uuid.UUID(v)) for v in values]
    params.extend(values)
    return f"{column} IN ({', '.join([store.p] * len(values))})"


def _where(store: _Store, body: dict, collection: bool, params: list) -> list[str]:
    """SQL conditions for the filter fields the lane handles; anything else -> Django.
    `filters.parse_body` has already validated the body."""
    for runs in ("flow_runs", "task_runs", "deployments", "flows"):
        spec = body.get(runs)
        if spec is not None and any(v is not None for k, v in spec.items() if k != "operator"):
            raise _Django
    spec = body.get("artifacts") or {}
    if (spec.get("operator") or "and_") != "and_" or spec.get("description") is not None:
        raise _Django
    owner = "c" if collection else "a"
    where = ["c.latest_id IS NOT NULL"] if collection else []
    id_field = "latest_id" if collection else "id"
    ids = spec.get(id_field) or {}
    if ids.get("any_") is not None:
        where.append(_in(store, f"{owner}.{id_field}", ids["any_"], params, uuids=True))
    key = spec.get("key") or {}
    if key.get("like_") is not None:
        raise _Django
    if key.get("any_") is not None:
        where.append(_in(store, f"{owner}.key", key["any_"], params))
    if key.get("exists_") is not None:
        where.append(f"{owner}.key IS {'NOT ' if key['exists_'] else ''}NULL")
    types = spec.get("type") or {}
    if types.get("any_") is not None:
        where.append(_in(store, f"{owner}.type", types["any_"], params))
    if types.get("not_any_") is not None:
        excluded = types["not_any_"]
        if excluded:
            inside = _in(store, f"{owner}.type", excluded, params)
            where.append(f"(NOT ({inside}) OR {owner}.type IS NULL)")
    for run in ("flow_run_id", "task_run_id"):
        run_spec = spec.get(run) or {}
        if run_spec.get("any_") is not None:
            where.append(_in(store, f"a.{run}", run_spec["any_"], params, uuids=True))
    return where


def _list(store: _Store, body, collection: bool, gate) -> bytes:
    try:
        query = filters.parse_body(body, collection=collection, paged=True)
    except Exception:
        raise _Django from None
    params: list = []
    where = _where(store, body or {}, collection, params)
    gate()
    order = _ORDER[collection][(body or {}).get("sort") or "ID_DESC"]
    if collection:
        head = (
            f"SELECT c.id, c.created, c.updated, c.key, c.latest_id, c.type, "
            f"{_artifact_select(store)} FROM {_COLLECTIONS} c "
            f"JOIN {_ARTIFACTS} a ON a.id = c.latest_id"
        )
    else:
        head = f"SELECT {_artifact_select(store)} FROM {_ARTIFACTS} a"
    sql = head
    if where:
        sql += " WHERE " + " AND ".join(where)
    # LIMIT and OFFSET as literals (validated integers), as Django writes them: PostgreSQL's
    # generic plan for a prepared statement with a parameter LIMIT may sort the whole type
    # instead of walking the (type, id) index for 50 rows.
    sql += f" ORDER BY {order} LIMIT {int(query.limit)} OFFSET {int(query.offset)}"
    rows = store.rows(sql, params)
    out = _collection_out if collection else _artifact_out
    return orjson.dumps([out(store, row) for row in rows])


# ------------------------------------------------------------------------------ writes --


def _text(body: dict, name: str, max_length: int | None = None) -> str | None:
    """A string field exactly as DRF's CharField would accept it, else -> Django."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or (max_length is not None and len(value) > max_length):
        raise _Django
    return value


def _uuid(body: dict, name: str) -> uuid.UUID | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Django
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _Django from None


def _checked(check, *args):
    try:
        return check(*args)
    except Exception:
        raise _Django from None


_INSERT_COLUMNS = "id, key, type, description, data, metadata_, flow_run_id, task_run_id, created, updated, pinned"


def _insert_sqlite(store: _Store, row: tuple) -> dt.datetime:
    """The new version and its key's collection, as `services.artifact_create` writes them:
    the key's writers serialise, and the new version is strictly newer than the current latest."""
    key, type_ = row[1], row[2]

    def work(conn):
        now = dt.datetime.now(_UTC)
        if key:
            select = f"SELECT latest_id, updated FROM {_COLLECTIONS} WHERE key = ?"
            current = conn.execute(select, (key,)).fetchone()
            if current is None:
                conn.execute(
                    f"INSERT INTO {_COLLECTIONS} (id, key, type, created, updated, latest_id) "
                    "VALUES (?, ?, NULL, ?, ?, NULL)",
                    (uuid7().hex, key, store.time_in(now), store.time_in(now)),
                )
            elif current[0] is not None:
                previous = store.time_out(current[1])
                if previous >= now:
                    now = previous + _EPSILON
        at = store.time_in(now)
        conn.execute(
            f"INSERT INTO {_ARTIFACTS} ({_INSERT_COLUMNS}) VALUES ({', '.join('?' * 11)})",
            (*row, at, at, False),
        )
        if key:
            conn.execute(
                f"UPDATE {_COLLECTIONS} SET latest_id = ?, type = ?, updated = ? WHERE key = ?",
                (row[0], type_, at, key),
            )
        return now

    return store.write(work)


# One statement, so one round trip: the collection row is inserted or, for a known key, locked
# and moved to the new version, with `updated` strictly after the current latest's; the version
# takes that time as its `created`. (The foreign key to the new version is checked at commit.)
_CREATE_KEYED_PG = f"""
WITH c AS (
    INSERT INTO {_COLLECTIONS} AS c (id, key, type, created, updated, latest_id)
    VALUES (%s, %s, %s, %s, %s, %s)
    ON CONFLICT (key) DO UPDATE SET
        latest_id = EXCLUDED.latest_id,
        type = EXCLUDED.type,
        updated = CASE
            WHEN c.latest_id IS NOT NULL AND c.updated >= EXCLUDED.updated
            THEN c.updated + interval '1 microsecond'
            ELSE EXCLUDED.updated
        END
    RETURNING c.updated
)
INSERT INTO {_ARTIFACTS} ({_INSERT_COLUMNS})
SELECT %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, c.updated, c.updated, false FROM c
RETURNING created
"""
_CREATE_PG = (
    f"INSERT INTO {_ARTIFACTS} ({_INSERT_COLUMNS}) "
    "VALUES (%s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s, false) RETURNING created"
)


def _insert_postgresql(store: _Store, row: tuple) -> dt.datetime:
    now = dt.datetime.now(_UTC)
    key, type_ = row[1], row[2]
    if key:
        params = (uuid7(), key, type_, now, now, row[0], *row)
        cursor = store.statement(_CREATE_KEYED_PG, params, retry_safe=False)
    else:
        cursor = store.statement(_CREATE_PG, (*row, now, now), retry_safe=False)
    return cursor.fetchone()[0]


def _create(store: _Store, body, gate) -> bytes:
    if not isinstance(body, dict) or not set(body) <= _CREATE_FIELDS:
        raise _Django
    key = _text(body, "key", 2000)
    type_ = _text(body, "type", 200)
    description = _text(body, "description")
    data = body.get("data")
    flow_run_id = _uuid(body, "flow_run_id")
    task_run_id = _uuid(body, "task_run_id")
    _checked(rendering.validate_key, key)
    _checked(rendering.validate_data, type_, data)
    metadata = _checked(rendering.clean_metadata, body.get("metadata_"))
    gate()
    artifact_id = uuid7()
    row = (
        store.uuid_in(artifact_id),
        key,
        type_,
        description,
        store.json_in(data),
        store.json_in(metadata),
        store.uuid_in(flow_run_id),
        store.uuid_in(task_run_id),
    )
    insert = _insert_postgresql if store.vendor == "postgresql" else _insert_sqlite
    created = insert(store, row)
    return orjson.dumps(
        {
            "id": artifact_id,
            "created": created,
            "updated": created,
            "key": key,
            "type": type_,
            "description": description,
            "data": data,
            "flow_run_id": flow_run_id,
            "task_run_id": task_run_id,
            "metadata_": metadata,
        }
    )


def _update(store: _Store, artifact_id: uuid.UUID, body, gate) -> None:
    if not isinstance(body, dict) or not set(body) <= _UPDATE_FIELDS:
        raise _Django
    fields: dict[str, Any] = {}
    if "description" in body:
        fields["description"] = _text(body, "description")
    if "metadata_" in body:
        fields["metadata_"] = store.json_in(_checked(rendering.clean_metadata, body["metadata_"]))
    exists, type_ = store.artifact_type(artifact_id)
    if not exists:
        raise _Django  # 404 from Django
    if "data" in body:
        _checked(rendering.validate_data, type_, body["data"])
        fields["data"] = store.json_in(body["data"])
    gate()
    p = store.p
    assignments = ", ".join(
        f'"{name}" = {store.pj if name in ("data", "metadata_") else p}' for name in fields
    )
    values = list(fields.values())
    now = dt.datetime.now(_UTC)
    if store.vendor == "postgresql":
        # One statement: the row lock it takes orders concurrent writes, and `updated` moves
        # strictly forward under it (services._next_updated does the same in Python).
        sql = (
            f"UPDATE {_ARTIFACTS} SET {assignments}{', ' if fields else ''}"
            f"updated = GREATEST({p}, updated + interval '1 microsecond') WHERE id = {p}"
        )
        count = store.statement(sql, (*values, now, artifact_id), retry_safe=True).rowcount
        if count == 0:
            store.types.pop(artifact_id, None)
            raise _Django  # deleted meanwhile: 404 from Django
        return

    def work(conn):
        row = conn.execute(
            f"SELECT updated FROM {_ARTIFACTS} WHERE id = {p}", (store.uuid_in(artifact_id),)
        ).fetchone()
        if row is None:
            store.types.pop(artifact_id, None)
            raise _Django
        previous = store.time_out(row[0])
        updated = store.time_in(now if now > previous else previous + _EPSILON)
        conn.execute(
            f"UPDATE {_ARTIFACTS} SET {assignments}{', ' if fields else ''}updated = {p} "
            f"WHERE id = {p}",
            (*values, updated, store.uuid_in(artifact_id)),
        )

    store.write(work)


# --------------------------------------------------------------------- the ASGI layer --


def _route(method: str, path: str):
    """(handler name, argument, is_write) for a request this lane may answer, else None."""
    if method == "GET":
        match = _LATEST.match(path)
        if match:
            return "latest", match.group(1), False
    elif method == "POST":
        if path in _LISTS:
            return "list", _LISTS[path], False
        if path in _CREATE:
            return "create", None, True
    elif method == "PATCH":
        match = _DETAIL.match(path)
        if match:
            try:
                return "update", uuid.UUID(match.group(1)), True
            except ValueError:
                return None
    return None


_ACCEPTED = {b"*/*", b"application/*", b"application/json", b"text/*", b"text/html"}


def _accepts_json(headers: dict) -> bool:
    """DRF's content negotiation (JSON and the browsable API) would not answer 406."""
    accept = headers.get(b"accept")
    if accept is None:
        return True
    return any(part.split(b";", 1)[0].strip().lower() in _ACCEPTED for part in accept.split(b","))


def _identity(headers: dict, scope, is_write: bool) -> tuple[str, bool]:
    """(throttle key, anonymous) for a request Django would let through, else -> Django."""
    if b"cookie" in headers:
        raise _Django  # a session: Django's authentication and CSRF apply
    authorization = headers.get(b"authorization")
    if authorization is None:
        if is_write or not settings.ARTIFACTS_PUBLIC_READ or b"x-forwarded-for" in headers:
            raise _Django
        client = scope.get("client") or ("",)
        return f"ARTIFACTS_THROTTLE_ANON:{client[0]}", True
    scheme, _, raw = authorization.partition(b" ")
    if scheme.lower() != b"bearer" or not raw or b" " in raw:
        raise _Django
    digest = hashlib.sha256(raw).hexdigest()
    cached = auth._token_cache.get(digest)
    if cached is None or cached[0] <= time.monotonic():
        raise _Django  # Django authenticates it and remembers it for this process
    return f"ARTIFACTS_THROTTLE_USER:token:{cached[2].pk}", False


def _gate(throttle_key: str, anonymous: bool):
    """Count the request against its throttle; over the limit -> Django (which answers 429)."""

    def gate():
        rate = parse_rate(
            settings.ARTIFACTS_THROTTLE_ANON if anonymous else settings.ARTIFACTS_THROTTLE_USER
        )
        if rate is not None and _hit(throttle_key, *rate) is not None:
            raise _Django

    return gate


async def _read_body(receive, headers: dict) -> bytes:
    media_type = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
    if media_type != b"application/json":
        raise _Django  # DRF parses JSON only (415 otherwise; no body at all: empty data)
    length = headers.get(b"content-length")
    if length is None or b"transfer-encoding" in headers:
        raise _Django
    try:
        size = int(length)
    except ValueError:
        raise _Django from None
    if size > BODY_MAX:
        raise _Django
    chunks = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            raise ConnectionError("client went away")
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def _json(body: bytes):
    if _ODD_BODY.search(body):
        raise _Django
    try:
        return orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        raise _Django from None


def _answer(name: str, arg, body: bytes, gate):
    """(status, body bytes, allow header) for an ordinary request; raises _Django otherwise.
    `gate()` is called once the request is known to be valid, before the database is used."""
    store = _get_store()
    if name == "latest":
        gate()
        return 200, _latest(store, arg), _ALLOW_LATEST
    parsed = _json(body)
    if name == "list":
        return 200, _list(store, parsed, arg, gate), _ALLOW_LIST
    if name == "create":
        return 201, _create(store, parsed, gate), _ALLOW_CREATE
    _update(store, arg, parsed, gate)
    return 204, b"", _ALLOW_DETAIL


def lane(django_app):
    """Wrap the ASGI app that answers everything else."""
    if not enabled():
        return django_app

    async def app(scope, receive, send):
        if scope["type"] != "http" or scope.get("root_path"):
            return await django_app(scope, receive, send)
        found = _route(scope["method"], scope["path"])
        if found is None:
            return await django_app(scope, receive, send)
        name, arg, is_write = found
        headers = dict(scope["headers"])
        body = b""
        secure = _is_secure(headers, scope)
        try:
            if (
                (settings.SECURE_SSL_REDIRECT and not secure)
                or not _host_allowed(headers)
                or not _accepts_json(headers)
            ):
                raise _Django  # Django redirects to https / answers 400 / 406
            throttle_key, anonymous = _identity(headers, scope, is_write)
            if name != "latest":
                body = await _read_body(receive, headers)
            status, content, allow = _answer(name, arg, body, _gate(throttle_key, anonymous))
        except _Django:
            return await django_app(scope, _replay(body, receive), send)
        except _Unavailable:
            status, content, allow = 503, _UNAVAILABLE, b""
        except ConnectionError:
            return  # the client left while sending its body
        await _respond(send, status, content, allow, anonymous, secure)

    return app


def _replay(body: bytes, receive):
    """`receive` for Django that first hands back the body this lane already read."""
    pending = [{"type": "http.request", "body": body, "more_body": False}] if body else []

    async def replayed():
        if pending:
            return pending.pop()
        return await receive()

    return replayed

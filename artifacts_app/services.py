"""Every write: create, update, delete, progress, collection upkeep, search documents. Each call is
one transaction (a version's search document is written with it; see `search`).

Concurrency: writers of one key serialise on that key's collection row (on PostgreSQL a create is
one statement whose upsert of that row locks it, other writes SELECT ... FOR UPDATE; SQLite's
IMMEDIATE transactions serialise all writers). The new version's `created`
is taken after the lock, so the newest version is always the one the collection points at.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import fnmatch
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows: one process per database there
    fcntl = None

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import DurationField, OuterRef, Q, Subquery
from django.utils import timezone

from . import rendering, search
from .models import (
    FLOW_RUN,
    PROGRESS,
    TASK_RUN,
    ApiToken,
    Artifact,
    ArtifactCollection,
    ArtifactQuerySet,
    Run,
    SearchDocument,
    hash_token,
    uuid7,
)

UNSET: Any = object()


class _SqliteWriter:
    """SQLite has one writer at a time; a writer that finds the lock taken sleeps in SQLite's busy
    handler (1, 2, 5 ... 100 ms steps) even after the lock is free. Our writers queue instead, on a
    thread lock within a process and an exclusive `flock` on `<database>.writer-lock` between
    processes (server workers), so each starts as soon as the previous one commits
    (benchmarks/README.md). PostgreSQL locks rows, not the database: not used there."""

    def __init__(self):
        self._lock = threading.RLock()
        self._depth = 0
        self._files: dict[str, Any] = {}
        self._held = None

    def _file(self, database: str):
        if fcntl is None or not database or database == ":memory:" or "mode=memory" in database:
            return None
        handle = self._files.get(database)
        if handle is None:
            handle = self._files[database] = open(f"{database}.writer-lock", "a")  # noqa: SIM115
            atexit.register(handle.close)
        return handle

    @contextlib.contextmanager
    def __call__(self, database):
        with self._lock:
            if self._depth == 0:
                self._held = self._file(str(database))
                if self._held is not None:
                    fcntl.flock(self._held, fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._held is not None:
                    fcntl.flock(self._held, fcntl.LOCK_UN)
                    self._held = None


sqlite_writer = _SqliteWriter()


def _writers_queue():
    """SQLite: this thread's turn among the writers (`sqlite_writer`). Nothing on PostgreSQL, and
    nothing inside an outer transaction: this thread then already holds SQLite's write lock
    (IMMEDIATE transactions take it at BEGIN), and taking the queue lock could deadlock with a
    writer that holds the queue lock and waits for SQLite's."""
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        return sqlite_writer(connection.settings_dict["NAME"])
    return contextlib.nullcontext()


@contextlib.contextmanager
def _write_transaction():
    with _writers_queue(), transaction.atomic():
        yield


_EPSILON = dt.timedelta(microseconds=1)


class ArtifactNotFound(Exception):
    pass


def _lock_collection(key: str) -> ArtifactCollection:
    """The key's collection row, locked for this transaction; created (empty) if missing."""
    collection = ArtifactCollection.objects.select_for_update().filter(key=key).first()
    if collection is None:
        ArtifactCollection.objects.bulk_create([ArtifactCollection(key=key)], ignore_conflicts=True)
        collection = ArtifactCollection.objects.select_for_update().get(key=key)
    return collection


def _point_at(collection: ArtifactCollection, artifact: Artifact) -> None:
    collection.latest = artifact
    collection.type = artifact.type
    collection.updated = artifact.created
    collection.save(update_fields=["latest", "type", "updated"])


def _create_in_one_statement(artifact: Artifact) -> None:
    """PostgreSQL: insert a keyed version in one statement. Upserting the key's collection row
    locks it (a concurrent writer of the key waits, as with SELECT ... FOR UPDATE), points it at
    the new version and moves its `updated` to the version's `created`: now, or strictly after the
    current latest's (Python's clock may lag another writer's). The version is inserted with that
    time, and its search document with it. The collection's foreign key is checked at commit (Django makes it DEFERRABLE)."""
    collection, version, document = (
        ArtifactCollection._meta,
        Artifact._meta,
        SearchDocument._meta,
    )
    columns, values = _version_values(artifact)
    runs_sql, runs_params = _run_rows_cte(artifact.flow_run_id, artifact.task_run_id)
    sql = f"""
        WITH key_row AS (
            INSERT INTO {collection.db_table} (id, key, latest_id, type, created, updated)
            VALUES (%s, %s, %s, %s, %s, %s)
            ON CONFLICT (key) DO UPDATE SET
                latest_id = EXCLUDED.latest_id,
                type = EXCLUDED.type,
                updated = GREATEST(
                    EXCLUDED.updated, {collection.db_table}.updated + interval '1 microsecond'
                )
            RETURNING updated
        )
        , version_row AS (
            INSERT INTO {version.db_table} ({columns}, created, updated, pinned)
            SELECT {", ".join(["%s"] * len(values))}, updated, updated, false FROM key_row
            RETURNING id, created
        ){runs_sql}
        INSERT INTO {document.db_table} ({", ".join(search.DOCUMENT_COLUMNS)})
        SELECT id, created, %s, %s, %s FROM version_row
        RETURNING created"""
    params = [uuid7(), artifact.key, artifact.id, artifact.type, artifact.created, artifact.created]
    text = search.document_text(
        key=artifact.key,
        description=artifact.description,
        type=artifact.type,
        data=artifact.data,
        metadata=artifact.metadata,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *values, *runs_params, artifact.key, *text])
        (created,) = cursor.fetchone()
    artifact.created = artifact.updated = created
    artifact._state.adding = False
    artifact._state.db = connection.alias


_VERSION_FIELDS = (
    "id",
    "key",
    "type",
    "description",
    "data",
    "metadata",
    "table_summary",
    "flow_run_id",
    "task_run_id",
)


def _version_values(artifact: Artifact) -> tuple[str, list]:
    """A new version's own columns (as SQL) and their database values, for the raw INSERTs of a
    create (`created`, `updated` and `pinned` are added by each statement)."""
    version = Artifact._meta
    columns = ", ".join(version.get_field(name).column for name in _VERSION_FIELDS)
    values = [
        version.get_field(name).get_db_prep_save(getattr(artifact, name), connection)
        for name in _VERSION_FIELDS
    ]
    return columns, values


def _create_in_steps(artifact: Artifact) -> None:
    """SQLite (every create) and PostgreSQL without a key: the rows the one statement above
    writes, as plain statements in one write transaction (SQLite's IMMEDIATE transaction holds
    the database's write lock, so nothing moves the key's row meanwhile). Written as SQL because
    compiling them through the ORM took more time than running them, inside that lock
    (benchmarks/README.md)."""
    collection, version = ArtifactCollection._meta, Artifact._meta
    with _write_transaction(), connection.cursor() as cursor:
        # Taken once this writer holds the lock: creation order is commit order.
        now = timezone.now()
        if artifact.key:
            cursor.execute(
                f"SELECT updated FROM {collection.db_table}"
                " WHERE key = %s AND latest_id IS NOT NULL",
                [artifact.key],
            )
            row = cursor.fetchone()
            previous = row and row[0]
            if previous and timezone.is_naive(previous):  # SQLite's naive UTC
                previous = timezone.make_aware(previous, dt.UTC)
            if previous and previous >= now:
                now = previous + _EPSILON  # strictly newer than the current latest
        run_note(flow_run_id=artifact.flow_run_id, task_run_id=artifact.task_run_id)
        artifact.created = artifact.updated = now
        columns, values = _version_values(artifact)
        stamp = version.get_field("created").get_db_prep_save(now, connection)
        cursor.execute(
            f"INSERT INTO {version.db_table} ({columns}, created, updated, pinned)"
            f" VALUES ({', '.join(['%s'] * len(values))}, %s, %s, %s)",
            [*values, stamp, stamp, False],
        )
        search.index_versions([artifact])
        if artifact.key:
            cursor.execute(
                f"INSERT INTO {collection.db_table} (id, key, latest_id, type, created, updated)"
                " VALUES (%s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (key) DO UPDATE SET latest_id = excluded.latest_id,"
                " type = excluded.type, updated = excluded.updated",
                [
                    collection.pk.get_db_prep_save(uuid7(), connection),
                    artifact.key,
                    values[0],
                    artifact.type,
                    stamp,
                    stamp,
                ],
            )
    artifact._state.adding = False
    artifact._state.db = connection.alias


def _run_rows_cte(flow_run_id, task_run_id) -> tuple[str, list]:
    """For the one-statement create: a CTE inserting the artifact's runs if missing (what
    `run_note` does), so the version and its runs are written by the same statement."""
    rows = []
    if flow_run_id:
        rows.append((flow_run_id, FLOW_RUN, None))
    if task_run_id:
        rows.append((task_run_id, TASK_RUN, flow_run_id))
    if not rows:
        return "", []
    table = Run._meta.db_table
    values = ", ".join(["(%s::uuid, %s, '', '', %s::uuid, '', now(), now())"] * len(rows))
    sql = f"""
        , run_rows AS (
            INSERT INTO {table} (id, kind, name, flow_name, flow_run_id, state, created, updated)
            VALUES {values}
            ON CONFLICT (id) DO NOTHING
        )"""
    return sql, [str(value) if value else None for row in rows for value in row]


def check_fields(*, key=UNSET, type=UNSET, data=UNSET, description=UNSET, metadata=UNSET):
    """Raise ValidationError (naming the fields) for what a write would refuse: the key
    pattern, `metadata_`'s shape, anything jsoncheck refuses. Returns the cleaned metadata. The
    writes below call it; so does the admin's form (errors on the form, not a 500)."""
    errors: dict = {}
    checks = (
        lambda: key is UNSET or rendering.validate_key(key),
        lambda: type is UNSET or rendering.validate_json("type", type),
        lambda: data is UNSET or rendering.validate_data(data),
        lambda: description is UNSET or rendering.validate_json("description", description),
    )
    for check in checks:
        try:
            check()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    cleaned = None if metadata is UNSET else metadata
    if metadata is not UNSET:
        try:
            cleaned = rendering.clean_metadata(metadata)
            rendering.validate_json("metadata_", cleaned)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned


def artifact_validate(*, key, type, data, description, metadata) -> dict | None:
    """What every new version must pass (creates and imports alike): ValidationError naming the
    field, else the cleaned metadata."""
    return check_fields(key=key, type=type, data=data, description=description, metadata=metadata)


def artifact_create(
    *,
    key: str | None = None,
    type: str | None = None,
    data: Any = None,
    description: str | None = None,
    metadata: dict | None = None,
    flow_run_id: uuid.UUID | None = None,
    task_run_id: uuid.UUID | None = None,
) -> Artifact:
    metadata = artifact_validate(
        key=key, type=type, data=data, description=description, metadata=metadata
    )
    artifact = Artifact(
        key=key,
        type=type,
        data=data,
        description=description,
        metadata=metadata,
        table_summary=rendering.table_summary(type, data),
        flow_run_id=flow_run_id,
        task_run_id=task_run_id,
    )
    if key and connection.vendor == "postgresql":
        artifact.created = timezone.now()
        _create_in_one_statement(artifact)
    else:
        _create_in_steps(artifact)
    return artifact


def _next_updated(previous: dt.datetime) -> dt.datetime:
    """`updated` for a write made under the row lock: now, but always after the previous write,
    so the order of `updated` is the order in which writes to one artifact were applied."""
    now = timezone.now()
    return now if now > previous else previous + _EPSILON


def artifact_update(
    *, artifact_id, data: Any = UNSET, description: Any = UNSET, metadata: Any = UNSET
) -> None:
    """Update in place only the fields given; `updated` always moves (even with no fields).

    Writes to one artifact are serialised by its row lock and the last one applied wins; each
    gets a strictly later `updated`, so a reader that keeps the newest `updated` it has seen never
    goes backwards (the dashboard's progress poll does exactly that)."""
    fields: dict[str, Any] = {}
    cleaned = check_fields(data=data, description=description, metadata=metadata)
    if description is not UNSET:
        fields["description"] = description
    if metadata is not UNSET:
        fields["metadata"] = cleaned
    if not fields and not connection.in_atomic_block:
        # A progress bar's new value (or only `updated` moving, on any type) touches no search
        # document: one UPDATE in autocommit, which takes the row lock (SQLite: the database's
        # write lock) itself and computes `updated` from the row it locked (PostgreSQL
        # re-evaluates it on the row a concurrent writer left). No row: another type, or no
        # such artifact, which the transaction below tells apart.
        sql, params = _bar_update(artifact_id, data)
        with _writers_queue(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            if cursor.rowcount:
                return
    if data is not UNSET:
        # Before the writers' lock: summarising a big table takes a while. No write changes a
        # version's type.
        type_ = Artifact.objects.filter(pk=artifact_id).values_list("type", flat=True).first()
        fields["data"], fields["table_summary"] = data, rendering.table_summary(type_, data)
    with _write_transaction():
        current = (
            Artifact.objects.select_for_update()
            .filter(pk=artifact_id)
            .values_list("updated", "type")
            .first()
        )
        if current is None:
            raise ArtifactNotFound(artifact_id)
        previous, type_ = current
        fields["updated"] = _next_updated(previous)
        Artifact.objects.filter(pk=artifact_id).update(**fields)
        search.reindex_version(artifact_id, fields=fields, type_=type_)


def _bar_update(artifact_id, data) -> tuple[str, list]:
    """The one UPDATE of a progress value (`data` UNSET: of `updated` alone, on any type).
    `updated` becomes now, or 1 us past the row's own when that is ahead (another process's
    clock), computed by the statement from the row it locks. Plain SQL from Django's backend
    operations: compiling it through the ORM took longer than running it (benchmarks/README.md)."""
    qn, fields = connection.ops.quote_name, Artifact._meta
    later = connection.ops.combine_duration_expression("+", [qn("updated"), "%s"])
    greatest = "MAX" if connection.vendor == "sqlite" else "GREATEST"  # as Django's Greatest
    sets, where = [f"{qn('updated')} = {greatest}(%s, {later})"], [f"{qn('id')} = %s"]
    params = [
        fields.get_field("updated").get_db_prep_save(timezone.now(), connection),
        DurationField().get_db_prep_value(_EPSILON, connection),
        fields.pk.get_db_prep_save(artifact_id, connection),
    ]
    if data is not UNSET:
        sets.insert(0, f"{qn('data')} = %s")
        params.insert(0, fields.get_field("data").get_db_prep_save(data, connection))
        where.append(f"{qn('type')} = %s")
        params.append(PROGRESS)
    sql = f"UPDATE {qn(fields.db_table)} SET {', '.join(sets)} WHERE {' AND '.join(where)}"
    return sql, params


def progress_set(
    *, artifact_id, increment: float | None = None, value: float | None = None
) -> Artifact:
    """Atomically add `increment` to (or set `value` on) a progress artifact, clamped to 0..100."""
    if (increment is None) == (value is None):
        raise ValidationError({"increment": "Give exactly one of increment or value."})
    with _write_transaction():
        artifact = Artifact.objects.select_for_update().filter(pk=artifact_id).first()
        if artifact is None:
            raise ArtifactNotFound(artifact_id)
        if artifact.type != PROGRESS:
            raise ValidationError({"type": "Only progress artifacts can be incremented."})
        current = artifact.progress_value or 0.0
        new = current + increment if increment is not None else value
        artifact.data = max(0.0, min(100.0, float(new)))
        artifact.updated = _next_updated(artifact.updated)
        artifact.save(update_fields=["data", "updated"])
    return artifact


def artifact_delete(*, artifact_id) -> None:
    """Delete one version; if it was the latest, the next-newest becomes latest; deleting the
    last version of a key removes the key's collection row."""
    with _write_transaction():
        key = Artifact.objects.filter(pk=artifact_id).values_list("key", flat=True).first()
        collection = _lock_collection(key) if key else None
        artifact = Artifact.objects.select_for_update().filter(pk=artifact_id).first()
        if artifact is None:
            raise ArtifactNotFound(artifact_id)
        if collection is not None and collection.latest_id == artifact.pk:
            following = Artifact.objects.for_key(key).exclude(pk=artifact.pk).first()
            if following is None:
                collection.delete()
            else:
                _point_at(collection, following)
        artifact.delete()


def artifact_delete_key(*, key: str) -> int:
    """Delete every version of a key and its collection row. Returns the number of versions."""
    with _write_transaction():
        ArtifactCollection.objects.select_for_update().filter(key=key).first()  # wait for writers
        ArtifactCollection.objects.filter(key=key).delete()
        deleted, _ = Artifact.objects.filter(key=key).delete()
    if not deleted:
        raise ArtifactNotFound(key)
    return deleted


# -------------------------------------------------------------------------------- runs --

RUN_FIELDS = ("name", "flow_name", "flow_run_id", "start_time", "state", "lookup_retry_at")
_RUN_TEXT_LIMITS = {"name": 500, "flow_name": 500, "state": 100}


def _as_uuid(value) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def run_upsert(*, runs) -> int:
    """Record flow runs and task runs: the one write of `Run`, used by every source (the Prefect
    import, the client's extension route, lookups on Prefect's API, seed_demo, artifact writes).

    Each item is a dict with `id` and `kind` ("flow" or "task") and any of RUN_FIELDS; a field
    given (not None) is stored, a field absent or None is left as it is, so a source that knows
    less never erases what another one knew. A run is inserted if missing. Returns how many rows
    were inserted or changed (0 when everything was known)."""
    rows: dict[uuid.UUID, dict] = {}
    for item in runs:
        run_id = _as_uuid(item["id"])
        if run_id is None:
            continue
        kind = item.get("kind") or FLOW_RUN
        if kind not in (FLOW_RUN, TASK_RUN):
            raise ValidationError({"kind": f"{kind!r} is not one of flow, task."})
        fields = {name: item.get(name) for name in RUN_FIELDS if item.get(name) is not None}
        for name, limit in _RUN_TEXT_LIMITS.items():
            if name in fields:
                fields[name] = str(fields[name])[:limit]
        if "flow_run_id" in fields:
            fields["flow_run_id"] = _as_uuid(fields["flow_run_id"])
        rows.setdefault(run_id, {"kind": kind}).update(fields)
    if not rows:
        return 0
    with _write_transaction():  # SQLite: queue with the other writers
        return _run_upsert_rows(rows)


def _run_upsert_rows(rows: dict) -> int:
    now = timezone.now()
    existing = {
        run["id"]: run
        for run in Run.objects.filter(id__in=list(rows)).values("id", "kind", *RUN_FIELDS)
    }
    changed: dict[frozenset, list[Run]] = {}
    for run_id, row in rows.items():
        before = existing.get(run_id)
        given = {name: value for name, value in row.items() if name != "kind"}
        if before is not None and all(before[name] == value for name, value in given.items()):
            continue
        if before is not None:
            row = {**row, "kind": before["kind"]}
        changed.setdefault(frozenset(given), []).append(
            Run(id=run_id, created=now, updated=now, **row)
        )
    count = 0
    for names, group in changed.items():
        Run.objects.bulk_create(
            group,
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=[*sorted(names), "updated"],
        )
        count += len(group)
    return count


def run_note(*, flow_run_id=None, task_run_id=None) -> None:
    """An artifact names these runs: make sure each has a row (names may come later). One
    INSERT ... ON CONFLICT DO NOTHING, no read."""
    new = []
    if flow_run_id:
        new.append(Run(id=_as_uuid(flow_run_id), kind=FLOW_RUN))
    if task_run_id:
        new.append(Run(id=_as_uuid(task_run_id), kind=TASK_RUN, flow_run_id=_as_uuid(flow_run_id)))
    if new:
        Run.objects.bulk_create(new, ignore_conflicts=True)


def run_claim_lookup(*, run_ids, retry_at: dt.datetime) -> list:
    """The runs among `run_ids` that have no name and whose lookup on Prefect's API is due; each
    is marked not to be looked up again before `retry_at` (by any worker: the mark is in the
    database), so a Prefect server that is down is asked once per run per retry interval."""
    now = timezone.now()
    due = Q(lookup_retry_at__isnull=True) | Q(lookup_retry_at__lte=now)
    with _write_transaction():  # SQLite: queue with the other writers
        return [
            run_id
            for run_id in run_ids
            if run_id
            and Run.objects.filter(due, pk=run_id, name="").update(lookup_retry_at=retry_at)
        ]


# ---------------------------------------------------------------------------- imports --


@dataclass
class ImportResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    written_ids: list = field(default_factory=list)  # new or updated here


# What an update may change (a table's summary follows its data)
IMPORTED_FIELDS = ("description", "data", "metadata", "table_summary", "updated")


def artifacts_import(*, rows, dry_run: bool = False) -> ImportResult:
    """Copy artifact versions made elsewhere (a Prefect server) with their ids, created and
    updated times and run ids preserved, in one transaction. Each row is a dict with `id`,
    `key`, `type`, `description`, `data`, `metadata`, `flow_run_id`, `task_run_id`, `created`,
    `updated`, already validated by the caller as the API validates a create (a row that fails
    here raises ValidationError and the whole call writes nothing).

    A version already here with the same `updated` is left alone; with another `updated`, its
    description, data, metadata and `updated` are replaced (Prefect updates only those). Each
    key touched points at its newest version by (created, id), as Prefect's latest does, and its
    runs get rows (names come from `run_upsert`)."""
    by_id = {}
    for row in rows:
        fields = {name: row[name] for name in ("key", "type", "data", "description", "metadata")}
        by_id[row["id"]] = {
            **row,
            "metadata": artifact_validate(**fields),
            "table_summary": rendering.table_summary(row["type"], row["data"]),
        }
    result = ImportResult()
    if not by_id:
        return result
    with _write_transaction():
        existing = dict(Artifact.objects.filter(id__in=list(by_id)).values_list("id", "updated"))
        new = [row for pk, row in by_id.items() if pk not in existing]
        changed = [
            row for pk, row in by_id.items() if pk in existing and existing[pk] != row["updated"]
        ]
        result.new, result.updated = len(new), len(changed)
        result.unchanged = len(by_id) - len(new) - len(changed)
        result.written_ids = [row["id"] for row in new + changed]
        if dry_run or not (new or changed):
            return result
        runs = []
        for row in new:
            if row["flow_run_id"]:
                runs.append(Run(id=row["flow_run_id"], kind=FLOW_RUN))
            if row["task_run_id"]:
                runs.append(
                    Run(id=row["task_run_id"], kind=TASK_RUN, flow_run_id=row["flow_run_id"])
                )
        if runs:
            Run.objects.bulk_create(runs, ignore_conflicts=True)
        created = Artifact.objects.bulk_create([Artifact(**row) for row in new])
        search.index_versions(created)
        for row in changed:
            Artifact.objects.filter(pk=row["id"]).update(
                **{name: row[name] for name in IMPORTED_FIELDS}
            )
            search.reindex_version(row["id"], fields={name: row[name] for name in IMPORTED_FIELDS})
        _point_at_newest({row["key"] for row in new if row["key"]})
    return result


def _point_at_newest(keys) -> None:
    """Point each key's collection at its newest version by (created, id), creating the rows it
    lacks; one UPDATE for all keys. Collection rows are locked first (writers of these keys wait)."""
    keys = sorted(keys)
    if not keys:
        return
    ArtifactCollection.objects.bulk_create(
        [ArtifactCollection(key=key) for key in keys], ignore_conflicts=True
    )
    list(ArtifactCollection.objects.select_for_update().filter(key__in=keys).values_list("id"))
    versions = Artifact.objects.filter(key=OuterRef("key"))
    newest = versions.order_by("-created", "-id")
    ArtifactCollection.objects.filter(key__in=keys).update(
        latest_id=Subquery(newest.values("id")[:1]),
        type=Subquery(newest.values("type")[:1]),
        updated=Subquery(newest.values("created")[:1]),
        created=Subquery(versions.order_by("created", "id").values("created")[:1]),
    )


def token_create(*, user, name: str = "") -> tuple[ApiToken, str]:
    """A new API token for `user`. Returns the row and the raw token (never stored)."""
    raw = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name, digest=hash_token(raw), hint=raw[:12])
    return token, raw


def token_revoke(*, token_ids) -> int:
    """Revoke tokens; each is refused from the next request on, in every server process (tokens
    are looked up on every request). Returns how many were revoked."""
    return ApiToken.objects.filter(pk__in=list(token_ids), revoked=False).update(revoked=True)


# --------------------------------------------------------------------------- retention --


def artifact_set_pinned(*, artifact_ids, pinned: bool) -> int:
    """Pin (or unpin) versions; pinned versions are never pruned. Returns how many changed."""
    return Artifact.objects.filter(pk__in=list(artifact_ids)).update(pinned=pinned)


@dataclass(frozen=True)
class RetentionPolicy:
    """keep_last: keep the newest N versions of a key (None or 0: no limit); ttl_days: drop
    versions older than this (None or 0: no limit). A version goes when EITHER rule drops it;
    pinned versions never go."""

    keep_last: int | None = None  # the newest N, pinned ones included, always stay
    ttl_days: float | None = None

    @property
    def active(self) -> bool:
        return bool(self.keep_last) or bool(self.ttl_days)


def retention_policy_for(
    key: str | None, default: RetentionPolicy, overrides: dict
) -> RetentionPolicy:
    """The policy of `key`: an exact override, else the first matching glob, else the default.
    An override names only what it changes (`{"ttl_days": 7}` keeps the default keep_last)."""
    if key is None:
        return default
    match = overrides.get(key)
    if match is None:
        match = next((v for k, v in overrides.items() if fnmatch.fnmatchcase(key, k)), None)
    if match is None:
        return default
    return RetentionPolicy(
        keep_last=match.get("keep_last", default.keep_last),
        ttl_days=match.get("ttl_days", default.ttl_days),
    )


@dataclass
class PruneReport:
    deleted: int = 0
    batches: int = 0
    keys: dict = field(default_factory=dict)  # key (None: unkeyed) -> versions pruned
    collections_repointed: int = 0
    collections_removed: int = 0
    dry_run: bool = False
    ids: list = field(default_factory=list)  # only in dry runs (what would go)
    longest_batch_seconds: float = 0.0  # the longest delete transaction (lock time)


def _doomed(key: str | None, policy: RetentionPolicy, now) -> ArtifactQuerySet | None:
    """Unpinned versions of `key` that `policy` drops, oldest first."""
    if not policy.active:
        return None
    if key is None:
        if not policy.ttl_days:
            return None
        base = Artifact.objects.filter(key__isnull=True)
    else:
        base = Artifact.objects.filter(key=key)
    rule = Q()
    if policy.ttl_days:
        rule |= Q(created__lt=now - dt.timedelta(days=policy.ttl_days))
    if policy.keep_last and key is not None:
        newest = Artifact.objects.for_key(key).values("pk")[: policy.keep_last]
        rule |= ~Q(pk__in=list(newest.values_list("pk", flat=True)))
    # Versions newer than `now` arrived during the run: never theirs to prune.
    return base.filter(rule, pinned=False, created__lte=now).order_by("created", "id")


def _prune_batch(key: str | None, ids: list, report: PruneReport) -> int:
    """Delete one batch in one short transaction; re-point or remove the key's collection."""
    started = time.perf_counter()
    with _write_transaction():
        collection = None
        if key is not None:
            collection = ArtifactCollection.objects.select_for_update().filter(key=key).first()
        deleted, _ = Artifact.objects.filter(pk__in=ids, pinned=False).delete()
        if collection is not None and (
            collection.latest_id is None
            or not Artifact.objects.filter(pk=collection.latest_id).exists()
        ):
            following = Artifact.objects.for_key(key).first()
            if following is None:
                collection.delete()
                report.collections_removed += 1
            else:
                _point_at(collection, following)
                report.collections_repointed += 1
    report.longest_batch_seconds = max(report.longest_batch_seconds, time.perf_counter() - started)
    return deleted


def artifact_prune(
    *,
    keep_last: int | None = None,
    ttl_days: float | None = None,
    overrides: dict | None = None,
    dry_run: bool = False,
    batch_size: int = 1000,
    now: dt.datetime | None = None,
) -> PruneReport:
    """Apply retention to every key (and the TTL to unkeyed artifacts).

    Works key by key and deletes at most `batch_size` versions per transaction, so a table of
    1,000,000 artifacts is never locked for long and writers of other keys are never blocked.
    A dry run only lists what would go."""
    default = RetentionPolicy(keep_last=keep_last or None, ttl_days=ttl_days or None)
    overrides = overrides or {}
    now = now or timezone.now()
    report = PruneReport(dry_run=dry_run)
    batch_size = max(1, batch_size)

    def run(key, doomed):
        after = None
        while True:
            page = doomed
            if after is not None:  # keyset pagination on (created, id)
                page = page.filter(Q(created__gt=after[0]) | Q(created=after[0], id__gt=after[1]))
            rows = list(page.values_list("created", "id")[:batch_size])
            if not rows:
                return
            ids = [pk for _, pk in rows]
            if dry_run:
                count = len(ids)
                report.ids.extend(ids)
                after = rows[-1]
            else:
                count = _prune_batch(key, ids, report)
                after = rows[-1]
            report.batches += 1
            report.deleted += count
            if count:
                report.keys[key] = report.keys.get(key, 0) + count
            if len(rows) < batch_size:
                return

    last_key = ""
    while True:  # keys in pages, so a million keys are never held in memory at once
        keys = list(
            ArtifactCollection.objects.filter(key__gt=last_key)
            .order_by("key")
            .values_list("key", flat=True)[:batch_size]
        )
        for key in keys:
            doomed = _doomed(key, retention_policy_for(key, default, overrides), now)
            if doomed is not None:
                run(key, doomed)
        if len(keys) < batch_size:
            break
        last_key = keys[-1]
    doomed = _doomed(None, default, now)
    if doomed is not None:
        run(None, doomed)
    return report

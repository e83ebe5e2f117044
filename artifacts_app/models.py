"""Artifacts, their per-key collections, and API tokens. Every read is a QuerySet method."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import math
import os
import secrets
import threading
import time
import uuid

from django.conf import settings
from django.db import connection, models
from django.db.models.functions import Coalesce
from django.utils import timezone

PROGRESS = "progress"
TABLE = "table"
MARKDOWN = "markdown"
IMAGE = "image"
LINK = "link"
RESULT = "result"
HTML = "html"
KNOWN_TYPES = (TABLE, MARKDOWN, LINK, IMAGE, PROGRESS, RESULT, HTML)


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7): new rows land at the end of the primary key
    index, and ID_DESC (Prefect's default sort) lists newest first."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def _int_or_float(text: str):
    """An integer as stored JSON gives it back: one beyond 64 bits becomes a float. PostgreSQL's
    jsonb writes a large float without an exponent (1e20 comes back as 100000000000000000000),
    and orjson, which writes every answer, cannot encode such an integer."""
    value = int(text)
    return value if -(2**63) <= value < 2**64 else float(value)


class StoredJSONDecoder(json.JSONDecoder):
    """Reads `data` so that whatever was stored can be answered again (see _int_or_float)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("parse_int", _int_or_float)
        super().__init__(*args, **kwargs)


class DataSize(models.Func):
    """Size of a JSON column's stored text in bytes, computed by the database (`data_bytes`)."""

    function = "LENGTH"
    template = "LENGTH(CAST(%(expressions)s AS BLOB))"
    output_field = models.IntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="octet_length((%(expressions)s)::text)", **extra
        )


class ArtifactQuerySet(models.QuerySet):
    def for_key(self, key: str) -> ArtifactQuerySet:
        """Every version of a key, newest first."""
        return self.filter(key=key).order_by("-created", "-id")

    def for_run(self, flow_run_id) -> ArtifactQuerySet:
        return self.filter(flow_run_id=flow_run_id).order_by("created", "id")

    def for_task_run(self, task_run_id) -> ArtifactQuerySet:
        return self.filter(task_run_id=task_run_id).order_by("created", "id")

    def latest_of_key(self, key: str) -> Artifact | None:
        """The latest version of a key, or None: the API's hottest read (`GET /{key}/latest`),
        so one fixed statement through `raw()` (which still applies each field's database
        converters) instead of a join compiled by the ORM on every call: 67 us instead of
        390 us of CPU (benchmarks/README.md)."""
        return next(iter(self.raw(_latest_of_key_sql(connection.vendor), [key])), None)

    def unkeyed(self) -> ArtifactQuerySet:
        return self.filter(key__isnull=True).order_by("-created", "-id")

    def newest_first(self) -> ArtifactQuerySet:
        return self.order_by("-created", "-id")

    def with_small_data(self) -> ArtifactQuerySet:
        """`data` only when its stored size (`data_bytes`) is at most LIST_DATA_MAX_BYTES; a
        bigger one stays deferred: a 100,000-row table decodes to ~50 MB of Python objects, per
        request, per thread. The parsed table and the raw view's head are cached by `rendering`,
        so the pages of a big table read its `data` once per process. Call
        `attach_data_if_small()` on each row."""
        small = models.Case(
            models.When(data_bytes__lte=LIST_DATA_MAX_BYTES, then=models.F("data")),
            default=models.Value(None),
            output_field=models.JSONField(),
        )
        return self.defer("data").annotate(small_data=small)


@functools.cache
def _latest_of_key_sql(vendor: str) -> str:
    qn = connection.ops.quote_name
    columns = ", ".join(
        f"a.{qn(field.column)}" for field in Artifact._meta.concrete_fields if not field.generated
    )
    return (
        f"SELECT {columns} FROM {qn(Artifact._meta.db_table)} a"
        f" JOIN {qn(ArtifactCollection._meta.db_table)} c ON c.{qn('latest_id')} = a.{qn('id')}"
        f" WHERE c.{qn('key')} = %s"
    )


class Artifact(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    key = models.CharField(max_length=2000, null=True, blank=True)  # noqa: DJ001 - null is meaningful (Prefect)
    type = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001 - null is meaningful (Prefect)
    description = models.TextField(null=True, blank=True)  # noqa: DJ001 - null is meaningful (Prefect)
    data = models.JSONField(null=True, blank=True, decoder=StoredJSONDecoder)
    # Kept by the database on every write (services or bulk loads), so pages can tell a big
    # `data` without reading it.
    data_bytes = models.GeneratedField(
        expression=DataSize("data"), output_field=models.IntegerField(), db_persist=True
    )
    metadata = models.JSONField(null=True, blank=True, db_column="metadata_")
    # A table's columns, size and first page, written with `data` by `services`
    # (rendering.table_summary): pages show a big table without parsing it. Null for other
    # types and for rows written before it existed or by bulk inserts (pages then parse).
    table_summary = models.JSONField(null=True, blank=True, editable=False)
    flow_run_id = models.UUIDField(null=True, blank=True)
    task_run_id = models.UUIDField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(default=timezone.now, editable=False)
    pinned = models.BooleanField(default=False, help_text="Pinned versions are never pruned.")

    objects = ArtifactQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["key", "-created", "-id"], name="artifact_key_created"),
            models.Index(fields=["-created", "-id"], name="artifact_created"),
            models.Index(fields=["type", "-created", "-id"], name="artifact_type_created"),
            models.Index(fields=["type", "-id"], name="artifact_type_id"),
            # Partial: most artifacts have no task run (and ad-hoc ones no flow run); an index
            # of NULLs answers no query and costs every insert a page write.
            models.Index(
                fields=["flow_run_id", "created"],
                name="artifact_flow_run",
                condition=models.Q(flow_run_id__isnull=False),
                # PostgreSQL: /runs/ counts a page of runs' artifacts by type with their last
                # activity from this index alone (an index-only scan: 10 ms instead of 20-55 ms
                # for 50 runs of 600 artifacts). SQLite ignores INCLUDE.
                include=["type", "updated"],
            ),
            models.Index(
                fields=["task_run_id", "created"],
                name="artifact_task_run",
                condition=models.Q(task_run_id__isnull=False),
            ),
            models.Index(fields=["-updated"], name="artifact_updated"),
        ]

    def __str__(self) -> str:
        return self.key or str(self.id)

    @property
    def progress_value(self) -> float | None:
        """A progress artifact's value clamped to 0..100 (as the bar draws it); None when its
        `data` is not a finite number (any JSON is stored for any type, as Prefect's server)."""
        if self.type != PROGRESS:
            return None
        data = self.data
        if isinstance(data, bool) or not isinstance(data, int | float) or not math.isfinite(data):
            return None
        return max(0.0, min(100.0, float(data)))

    @property
    def progress_stored(self) -> str | None:
        """The stored value when the bar draws it clamped (outside 0..100), else None."""
        value = self.progress_value
        if value is None or value == self.data:
            return None
        return f"{self.data:g}" if isinstance(self.data, float) else str(self.data)

    @property
    def progress_done(self) -> bool:
        value = self.progress_value
        return value is not None and value >= 100


LIST_DATA_MAX_BYTES = 64 * 1024
RAW_HEAD_CHARS = 20_000


class ArtifactCollectionQuerySet(models.QuerySet):
    def with_latest(self) -> ArtifactCollectionQuerySet:
        return self.select_related("latest")

    def with_latest_small_data(self) -> ArtifactCollectionQuerySet:
        """`with_latest()` that brings the latest version's `data` only when it is small: a list
        of keys must not decode a 4 MB table to show "100000 rows x 3 columns" (the parsed table
        is cached by `rendering`). Call `attach_small_data()` on the rows fetched."""
        # Correlated subqueries, not the join: a join here would stay in the paginator's COUNT,
        # which must remain an index count of collections at a million artifacts.
        small = Artifact.objects.filter(pk=models.OuterRef("latest_id")).annotate(
            size=models.F("data_bytes"),
            small=models.Case(
                models.When(size__lte=LIST_DATA_MAX_BYTES, then=models.F("data")),
                default=models.Value(None),
                output_field=models.JSONField(),
            ),
        )
        return (
            self.select_related("latest")
            .defer("latest__data")
            .annotate(
                latest_data_size=models.Subquery(small.values("size")[:1]),
                latest_small_data=models.Subquery(
                    small.values("small")[:1], output_field=models.JSONField()
                ),
            )
        )


def is_big(data_bytes: int | None) -> bool:
    """Whether a stored `data` of this size is left deferred by lists and pages."""
    return data_bytes is not None and data_bytes > LIST_DATA_MAX_BYTES


_sqlite_big_reads = threading.Lock()


def one_big_read_at_a_time():
    """Around a query that reads a big `data` (to parse it, or cut its head). SQLite copies the
    whole value into the process for it, so 16 concurrent views of a 7.5 MB table held 8 threads
    x ~20 MB at once (a worker peaked at 290 MB RSS); such reads are rare (their results are
    cached), so queueing them costs little. PostgreSQL cuts the value in the server: no lock."""
    if connection.vendor == "sqlite":
        return _sqlite_big_reads
    return contextlib.nullcontext()


def attach_data_if_small(artifact: Artifact) -> Artifact:
    """For a row of `Artifact.objects.with_small_data()`: put its small `data` in place."""
    if not is_big(artifact.data_bytes):
        artifact.data = artifact.small_data
    return artifact


def attach_small_data(collections) -> None:
    """Put the small `data` fetched by `with_latest_small_data()` on each latest version; a large
    one stays deferred and loads on first use (the list needs it only when its preview is not
    cached)."""
    for collection in collections:
        size = getattr(collection, "latest_data_size", None)
        if collection.latest is not None and not is_big(size):
            collection.latest.data = collection.latest_small_data


def attach_version_counts(collections) -> None:
    """`version_count` on each collection of a page: one grouped count for the whole page (the
    index on (key, created) answers it), not a query per card."""
    keys = [collection.key for collection in collections]
    counts = dict(
        Artifact.objects.filter(key__in=keys)
        .order_by()
        .values_list("key")
        .annotate(n=models.Count("id"))
        .values_list("key", "n")
    )
    for collection in collections:
        collection.version_count = counts.get(collection.key, 0)


class ArtifactCollection(models.Model):
    """One row per key pointing at its newest version, so "latest per key" is an indexed lookup.

    `type` is the latest version's type (for filtering); `created` is when the key first
    appeared (as Prefect's collection row); `updated` is the latest version's `created`.
    Maintained only by `services`, inside the transaction that changes the versions.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    key = models.CharField(max_length=2000, unique=True)
    latest = models.ForeignKey(
        Artifact, on_delete=models.DO_NOTHING, related_name="+", null=True, blank=True
    )
    type = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001 - null is meaningful (Prefect)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(default=timezone.now, editable=False)

    objects = ArtifactCollectionQuerySet.as_manager()

    class Meta:
        ordering = ["-updated", "-id"]
        indexes = [
            models.Index(fields=["-updated", "-id"], name="collection_updated"),
            models.Index(fields=["-created", "-id"], name="collection_created"),
            models.Index(fields=["type", "-updated", "-id"], name="collection_type_updated"),
            models.Index(fields=["type", "-created", "-id"], name="collection_type_created"),
        ]

    def __str__(self) -> str:
        return self.key


FLOW_RUN = "flow"
TASK_RUN = "task"


class RunQuerySet(models.QuerySet):
    def flow_runs(self) -> RunQuerySet:
        """Flow runs, newest first (start time when known, else when we first saw the run)."""
        return self.filter(kind=FLOW_RUN).order_by(Coalesce("start_time", "created").desc(), "-id")

    def task_runs_of(self, flow_run_id) -> RunQuerySet:
        return self.filter(kind=TASK_RUN, flow_run_id=flow_run_id).order_by(
            "start_time", "created", "id"
        )

    def search(self, q: str) -> RunQuerySet:
        """Runs matching every word of `q`, in any order (at most 10 words; a "/" as in
        "flow / run" is not a word): a word matches when the flow name or the run name contains
        it, or the id is it or contains it (a piece of an id as cards show it)."""
        words = [word for word in q.lower().split() if word.strip("/")][:10]
        queryset = self
        for word in words:
            match = models.Q(flow_name__icontains=word) | models.Q(name__icontains=word)
            try:
                match |= models.Q(id=uuid.UUID(word))
            except ValueError:
                if all(c in "0123456789abcdef-" for c in word):
                    match |= models.Q(id__icontains=word)
            queryset = queryset.filter(match)
        return queryset

    def flow_names(self, limit: int = 500) -> list[str]:
        """Distinct flow names, A to Z."""
        names = (
            self.filter(kind=FLOW_RUN)
            .exclude(flow_name="")
            .order_by("flow_name")
            .values_list("flow_name", flat=True)
            .distinct()
        )
        return list(names[:limit])

    def names_for(self, ids) -> dict:
        """{run id: Run} for the given ids (one query; unknown ids are absent)."""
        ids = {run_id for run_id in ids if run_id}
        if not ids:
            return {}
        return {run.id: run for run in self.filter(id__in=ids)}


class Run(models.Model):
    """A Prefect flow run or task run we know of. `id` is Prefect's run UUID; names are filled by
    whichever source knows them (the Prefect import, our client's extension route, a lookup on
    Prefect's API). Written only by `services.run_upsert`."""

    KIND_CHOICES = [(FLOW_RUN, "flow run"), (TASK_RUN, "task run")]

    id = models.UUIDField(primary_key=True, editable=False)
    kind = models.CharField(max_length=4, choices=KIND_CHOICES)
    name = models.CharField(max_length=500, blank=True, default="")
    flow_name = models.CharField(max_length=500, blank=True, default="")
    # For a task run: the flow run it belongs to (None when it ran outside a flow).
    flow_run_id = models.UUIDField(null=True, blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=100, blank=True, default="")
    created = models.DateTimeField(default=timezone.now, editable=False)  # first seen here
    updated = models.DateTimeField(default=timezone.now)
    # A failed name lookup on ARTIFACTS_PREFECT_API_URL is not retried before this time.
    lookup_retry_at = models.DateTimeField(null=True, blank=True)

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["kind", "-created", "-id"], name="run_kind_created"),
            models.Index(fields=["flow_name"], name="run_flow_name"),
            models.Index(
                fields=["flow_run_id"],
                name="run_parent",
                condition=models.Q(flow_run_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """ "flow / run" for a flow run, the run's name for a task run, else the id's tail."""
        if self.kind == FLOW_RUN and self.name:
            return f"{self.flow_name} / {self.name}" if self.flow_name else self.name
        return self.name or short_id(self.id)


def short_id(value) -> str:
    """Enough of a run id to tell runs apart: time-ordered UUIDs share their first characters,
    so the last 12 (the random part) are shown."""
    return str(value)[-12:] if value else ""


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked=False, user__is_active=True)

    def active_with_digest(self, digest: str) -> ApiTokenQuerySet:
        """`active()` narrowed to one digest, in a single filter (this runs on every API
        request, and each `filter()` call costs the ORM a clone and a compile step)."""
        return self.filter(digest=digest, revoked=False, user__is_active=True)


class ApiToken(models.Model):
    """A Bearer token for the API. Only its SHA-256 is stored; the raw token is shown once."""

    PREFIX = "art_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=200, blank=True, default="")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(
        max_length=12, editable=False, help_text="First characters of the token"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.BooleanField(default=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.hint}… ({self.user})"

    @classmethod
    def generate(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    def matches(self, raw: str) -> bool:
        return hmac.compare_digest(self.digest, hash_token(raw))


class SearchDocument(models.Model):
    """The searchable text of one artifact version (see `artifacts_app.search`): `title` is its
    key and description, `body` the words of its data and metadata, both bounded. Written by
    `services` with the version; deleted with it by the database (a cascading foreign key on
    PostgreSQL, a trigger on SQLite), whichever way the version goes.

    Indexed per database by migration 0005: on PostgreSQL a stored tsvector column (`vector`,
    title weighted A, body B) with a GIN index; on SQLite an FTS5 table (`artifact_search_fts`,
    external content, kept in step by triggers). Django never reads those directly."""

    id = models.BigAutoField(primary_key=True)  # FTS5's rowid: stable, unlike an implicit one
    artifact = models.OneToOneField(
        Artifact,
        on_delete=models.DO_NOTHING,  # the database cascades (migration 0005)
        db_constraint=False,
        related_name="search_document",
    )
    created = models.DateTimeField()  # the version's, for newest-first scans of matches
    # The version's key: the keyed/unkeyed tabs and grouping by key need no join.
    key = models.CharField(max_length=2000, null=True, blank=True)  # noqa: DJ001 - as Artifact.key
    title = models.TextField(blank=True, default="")
    body = models.TextField(blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["-created"], name="search_created"),
            # The unkeyed tab's newest-first scan: without it, a common word in a database with
            # few unkeyed artifacts walks every keyed document (440 ms at a million, 2 ms with).
            models.Index(
                fields=["-created"],
                name="search_unkeyed_created",
                condition=models.Q(key__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"search document of {self.artifact_id}"

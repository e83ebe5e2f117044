"""Full-text search over every artifact version: what is indexed, how a query string is read,
and how it runs on each database.

What is indexed (`document_text`, one `SearchDocument` per version, written by `services`):
the key and description (the title, ranked higher), and the words of the data and metadata: a
markdown report's text, an HTML page's visible text, a table's column names and cells, a result's
(any JSON's) keys and string and number values, a link's text and URL. Everything is bounded
(TITLE_CHARS, BODY_CHARS, STRING_CHARS, SOURCE_CHARS), so a 100,000-row table costs no more
than a small one, and nothing storable can make it fail: odd data indexes the title only.

Words are runs of letters and digits (`nightly-report.v2` is `nightly report v2`), lowercased,
at most MAX_WORD characters; both databases see the same words, so they match alike.

A query (`parse_query`): words in any order, each a prefix (`night rep` finds "Nightly
report"); a "quoted phrase" matches those words in that order; a UUID matches an artifact's id,
flow run id or task run id; everything else (quotes left open, `*`, `-`, NEAR, OR) is only
words. At most MAX_TERMS words are used.

Running it (`search_versions`): PostgreSQL matches a stored tsvector (GIN index) and ranks
with `ts_rank`; SQLite matches an FTS5 table (a prefix turned into the words it stands for, from
FTS_TERMS) and ranks in Python (`_text_score`, BM25's term part). The newest CANDIDATES matching
versions are ranked (the key and description weighing more than the content, then newest); a
query matching more says so, and a narrower query or a date range reaches older ones. That
bound keeps a query for a word in every artifact as fast as one for a rare word
(benchmarks/README.md, "Search").
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from . import rendering
from .models import FLOW_RUN, PROGRESS, Artifact, Run, SearchDocument

TITLE_CHARS = 2_000  # of the key and description, as words
BODY_CHARS = 16_000  # of the data's and metadata's words
STRING_CHARS = 2_000  # of any one cell or JSON string read
SOURCE_CHARS = 200_000  # of a text artifact read for its words
PARSE_CHARS = 256 * 1024  # a table sent as a JSON string longer than this is read as text
MAX_WORD = 64
MAX_TERMS = 16
QUERY_CHARS = 1_000
CANDIDATES = 1_000
FLOW_RUNS = 1_000  # a flow with at most this many runs is filtered by the list of their ids
NARROW = 20_000  # SQLite: filters keeping at most this many documents bound FTS5's rowid range
FTS_TABLE = "artifact_search_fts"
FTS_TERMS = "artifact_search_term"  # SQLite: every word ever indexed (migration 0010)

_WORD_RE = re.compile(r"[^\W_]+")


def words(text: str, limit: int) -> str:
    """The words of `text` (lowercased, space-separated), at most about `limit` characters."""
    out: list[str] = []
    size = 0
    for match in _WORD_RE.finditer(text[: limit * 4] if len(text) > limit * 4 else text):
        word = match.group().lower()
        if len(word) > MAX_WORD:
            continue
        size += len(word) + 1
        if size > limit:
            break
        out.append(word)
    return " ".join(out)


def _strings(value, budget: int) -> list[str]:
    """Strings of a JSON value, depth first, without recursion: dict keys once each (a table's
    column names are every row's keys), string values cut at STRING_CHARS, numbers as text.
    Stops once `budget` characters are collected."""
    out: list[str] = []
    seen_keys: set[str] = set()
    stack = [value]
    while stack and budget > 0:
        item = stack.pop()
        if isinstance(item, str):
            piece = item[:STRING_CHARS]
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int | float):
            piece = str(item)
        elif isinstance(item, dict):
            for name in list(item)[:10_000]:
                if isinstance(name, str) and name not in seen_keys and len(seen_keys) < 1_000:
                    seen_keys.add(name)
                    out.append(name[:STRING_CHARS])
            stack.extend(reversed(list(item.values())[:10_000]))
            continue
        elif isinstance(item, list | tuple):
            stack.extend(reversed(item[:10_000]))
            continue
        else:
            continue
        out.append(piece)
        budget -= len(piece) + 1
    return out


def _data_text(type_: str | None, data) -> str:
    if data is None or type_ == PROGRESS:
        return ""
    if type_ == "html" and isinstance(data, str):
        return rendering.html_excerpt(data[:SOURCE_CHARS], limit=SOURCE_CHARS)
    if isinstance(data, str):
        if type_ in ("table", "result") and len(data) <= PARSE_CHARS:
            try:  # Prefect sends tables (and some results) as JSON strings
                data = json.loads(data)
            except ValueError:
                return data[:SOURCE_CHARS]
        else:
            return data[:SOURCE_CHARS]
    if isinstance(data, str):
        return data[:SOURCE_CHARS]
    return " ".join(_strings(data, BODY_CHARS * 2))


def document_text(
    *, key=None, description=None, type=None, data=None, metadata=None
) -> tuple[str, str]:
    """(title, body) of a version: the words search matches. Never raises."""
    title = words(f"{key or ''} {description if isinstance(description, str) else ''}", TITLE_CHARS)
    try:
        body = _data_text(type, data)
        if metadata:
            body = f"{body} {' '.join(_strings(metadata, STRING_CHARS * 2))}"
        body = words(body, BODY_CHARS)
    except Exception:  # noqa: BLE001 - odd data must never stop a write; the title still counts
        body = ""
    return title, body


DOCUMENT_COLUMNS = ("artifact_id", "created", "key", "title", "body")


def _document_row(artifact: Artifact) -> tuple:
    """A new version's document as the database values of DOCUMENT_COLUMNS."""
    title, body = document_text(
        key=artifact.key,
        description=artifact.description,
        type=artifact.type,
        data=artifact.data,
        metadata=artifact.metadata,
    )
    fields = SearchDocument._meta
    return (
        fields.get_field("artifact").get_db_prep_save(artifact.pk, connection),
        fields.get_field("created").get_db_prep_save(artifact.created, connection),
        artifact.key,
        title,
        body,
    )


def note_terms(texts) -> None:
    """SQLite: add the words of these titles and bodies to FTS_TERMS, the list of every word
    ever indexed, which turns a prefix into the words it stands for (`_fts_match`). Words are
    never taken out: a word no document has any more matches nothing. PostgreSQL: nothing."""
    if connection.vendor != "sqlite":
        return
    terms = {word for text in texts for word in text.split()}
    if terms:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT OR IGNORE INTO {FTS_TERMS} (term) VALUES (%s)", [(t,) for t in terms]
            )


def index_versions(artifacts) -> int:
    """Write the search documents of new versions (in the caller's transaction). A plain
    INSERT: building it through the ORM cost more than running it (a create's share,
    benchmarks/README.md)."""
    rows = [_document_row(artifact) for artifact in artifacts]
    if rows:
        columns = ", ".join(DOCUMENT_COLUMNS)
        places = ", ".join(["%s"] * len(DOCUMENT_COLUMNS))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {SearchDocument._meta.db_table} ({columns}) VALUES ({places})", rows
            )
        note_terms(text for row in rows for text in row[3:])
    return len(rows)


UNKNOWN = object()  # the caller did not read the artifact's type


def reindex_version(artifact_id, *, fields: dict, type_=UNKNOWN) -> None:
    """After an update: recompute what the changed fields feed (the title for a description,
    the body for data or metadata), reading the rest from the database. A progress bar's value
    feeds nothing, so its updates (the most frequent write there is) cost no index work."""
    want_title = "description" in fields
    want_body = "metadata" in fields or ("data" in fields and type_ != PROGRESS)
    if not (want_title or want_body):
        return
    needed = ["key", "type", "created", "description", "metadata"]
    if want_body and "data" not in fields:
        needed.append("data")
    row = Artifact.objects.filter(pk=artifact_id).values(*needed).first()
    if row is None:
        return
    row.update(fields)
    title, body = document_text(
        key=row["key"],
        description=row["description"],
        type=row["type"],
        data=row.get("data"),
        metadata=row["metadata"],
    )
    changes = {}
    if want_title:
        changes["title"] = title
    if want_body:
        changes["body"] = body
    note_terms(changes.values())
    if not SearchDocument.objects.filter(artifact_id=artifact_id).update(**changes):
        SearchDocument.objects.create(
            artifact_id=artifact_id, created=row["created"], key=row["key"], title=title, body=body
        )


# --------------------------------------------------------------------------- queries --

_TOKEN_RE = re.compile(r'"([^"]*)"?|([^\s"]+)')
_UUID_RE = re.compile(
    r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.IGNORECASE
)


@dataclass
class Query:
    """A parsed search: `prefixes` (words, each matching the start of a word), `phrases` (lists
    of words in order; one word: that exact word), `ids` (UUIDs), `start`/`end` (created range,
    end exclusive), and whether words were dropped (more than MAX_TERMS)."""

    prefixes: list[str] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)
    ids: list[uuid.UUID] = field(default_factory=list)
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    truncated: bool = False

    @property
    def has_text(self) -> bool:
        return bool(self.prefixes or self.phrases)

    @property
    def empty(self) -> bool:
        return not (self.has_text or self.ids or self.start or self.end)


def parse_query(text: str) -> Query:
    """Read a search box's text; never raises, whatever it holds."""
    query = Query()
    text = (text or "").replace("\x00", " ")[:QUERY_CHARS]
    budget = MAX_TERMS
    for phrase, bare in _TOKEN_RE.findall(text):
        if bare and _UUID_RE.match(bare):
            value = uuid.UUID(bare)
            if value not in query.ids and len(query.ids) < MAX_TERMS:
                query.ids.append(value)
            continue
        found = [w.lower() for w in _WORD_RE.findall(phrase or bare) if len(w) <= MAX_WORD]
        if not found:
            continue
        if len(found) > budget:
            found, query.truncated = found[:budget], True
        if not found:
            break
        budget -= len(found)
        if bare and len(found) == 1:
            if found[0] not in query.prefixes:
                query.prefixes.append(found[0])
        else:  # a quoted phrase, or a bare `nightly-report`: those words in that order
            query.phrases.append(found)
    return query


def parse_day(value: str, *, end: bool = False) -> dt.datetime | None:
    """A date (`2026-12-01`) or a date and time (`2026-12-01T10:30`) in the server's time zone;
    `end`: a bare date means the end of that day. None for anything else."""
    value = (value or "").strip()[:40]
    if not value:
        return None
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            moment = dt.datetime.combine(day, dt.time())
            if end:
                moment += dt.timedelta(days=1)
        else:
            moment = dt.datetime.fromisoformat(value)
            if end:
                moment += dt.timedelta(microseconds=1)
    except (ValueError, OverflowError):
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


@dataclass
class Hit:
    id: uuid.UUID
    key: str | None
    created: dt.datetime
    score: float


@dataclass
class Hits:
    """Matching versions, best first; `capped`: more than CANDIDATES matched."""

    hits: list[Hit]
    capped: bool


def _tsquery(query: Query) -> tuple[str, list]:
    parts, params = [], []
    for word in query.prefixes:
        parts.append("to_tsquery('simple', %s)")
        params.append(f"'{word}':*")
    for phrase in query.phrases:
        parts.append("phraseto_tsquery('simple', %s)")
        params.append(" ".join(phrase))
    return "(" + " && ".join(parts) + ")", params


PREFIX_WORDS = 2_000  # a prefix standing for at most this many words is searched as them


def _fts_match(query: Query, cursor) -> str:
    """The FTS5 query: every word quoted (no user text is ever FTS5 syntax). A prefix that
    stands for at most PREFIX_WORDS indexed words (FTS_TERMS) becomes `("word" OR "words")`,
    which FTS5 streams newest first (a bare prefix query merges the lists of every word it
    stands for first: 66 ms for one word in 875,000 documents, 3 ms as a word); a longer list,
    or none found, stays `"w"*`."""
    parts = []
    for word in query.prefixes:
        following = word[:-1] + chr(ord(word[-1]) + 1)
        cursor.execute(
            f"SELECT term FROM {FTS_TERMS} WHERE term >= %s AND term < %s LIMIT %s",
            [word, following, PREFIX_WORDS + 1],
        )
        terms = [row[0] for row in cursor.fetchall()]
        if not terms or len(terms) > PREFIX_WORDS:
            parts.append(f'"{word}"*')
        else:
            quoted = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
            parts.append(f"({quoted})")
    parts += ['"' + " ".join(phrase) + '"' for phrase in query.phrases]
    return " AND ".join(parts)


def _filters(query: Query, *, keyed, type_, flow_run, flow) -> tuple[list[str], list, bool]:
    """SQL conditions on the version `a` (the key and dates on `a`, rewritten to its document
    `s` when text is searched), and whether any needs the version's row."""
    prep = Artifact._meta.get_field("id").get_db_prep_value
    when = connection.ops.adapt_datetimefield_value
    where, params = [], []
    if keyed is True:
        where.append("a.key IS NOT NULL")
    elif keyed is False:
        where.append("a.key IS NULL")
    own = len(where)
    if type_:
        where.append("a.type = %s")
        params.append(type_)
    if flow_run is not None:
        where.append("a.flow_run_id = %s")
        params.append(prep(flow_run, connection))
    if flow:
        # The flow's runs as a list of ids when they are few: the planner then knows how many
        # versions they have (a subquery on runs is estimated from the runs table's statistics,
        # and right after an import of runs those said 1 run: 450 ms instead of 14).
        runs = list(
            Run.objects.filter(kind=FLOW_RUN, flow_name=flow).values_list("id", flat=True)[
                : FLOW_RUNS + 1
            ]
        )
        if len(runs) <= FLOW_RUNS:
            runs = runs or [None]
            where.append(f"a.flow_run_id IN ({', '.join(['%s'] * len(runs))})")
            params += [prep(run, connection) for run in runs]
        else:
            where.append(
                f"a.flow_run_id IN (SELECT r.id FROM {Run._meta.db_table} r"
                " WHERE r.kind = %s AND r.flow_name = %s)"
            )
            params += [FLOW_RUN, flow]
    if query.ids:
        marks = ", ".join(["%s"] * len(query.ids))
        where.append(
            f"(a.id IN ({marks}) OR a.flow_run_id IN ({marks}) OR a.task_run_id IN ({marks}))"
        )
        ids = [prep(value, connection) for value in query.ids]
        params += ids * 3
    needs_row = len(where) > own
    if query.start is not None:
        where.append("a.created >= %s")
        params.append(when(query.start))
    if query.end is not None:
        where.append("a.created < %s")
        params.append(when(query.end))
    return where, params, needs_row


_SEPARATOR = "\x1f"  # between a document's title and body in one fetched value (never in words)
TITLE_WEIGHT = 2.5  # PostgreSQL's ts_rank weighs A (title) 1.0 against B (body) 0.4


def _text_score(query: Query, title: str, body: str) -> float:
    """SQLite's rank of a matching document: for each word or phrase, how often it occurs,
    saturating and relative to the document's length (BM25's term part, k1 1.2, b 0.75), title
    occurrences counting TITLE_WEIGHT times. Every match holds every word, so BM25's IDF, which
    FTS5 would pay a count of each word's documents for, orders nothing that matters."""
    title_words, body_words = title.split(), body.split()
    length = len(title_words) + len(body_words)
    norm = 1.2 * (0.25 + 0.75 * length / 100)
    score = 0.0
    for word in query.prefixes:
        count = TITLE_WEIGHT * sum(w.startswith(word) for w in title_words)
        count += sum(w.startswith(word) for w in body_words)
        score += count * 2.2 / (count + norm)
    for phrase in query.phrases:
        size = len(phrase)
        count = 0.0
        for words, weight in ((title_words, TITLE_WEIGHT), (body_words, 1.0)):
            count += weight * sum(
                words[i : i + size] == phrase for i in range(len(words) - size + 1)
            )
        score += count * 2.2 / (count + norm)
    return score


def _on_document(condition: str) -> str:
    return condition.replace("a.key ", "s.key ").replace("a.created ", "s.created ")


def search_versions(
    query: Query, *, keyed: bool | None = None, type_: str = "", flow_run=None, flow: str = ""
) -> Hits:
    """The versions matching `query` (and the filters), best first: by rank, then newest. At most CANDIDATES, the newest matches. `flow_run`: a flow run's id;
    `flow`: a flow's name (versions made by any of its runs)."""
    where, params, needs_row = _filters(
        query, keyed=keyed, type_=type_, flow_run=flow_run, flow=flow
    )
    artifacts = Artifact._meta.db_table
    documents = SearchDocument._meta.db_table
    limit = CANDIDATES + 1
    if not query.has_text:
        sql = f"""SELECT a.id, a.key, a.created, 0 FROM {artifacts} a
            {"WHERE " + " AND ".join(where) if where else ""}
            ORDER BY a.created DESC, a.id DESC LIMIT {limit}"""
    elif connection.vendor == "postgresql":
        tsq, tsq_params = _tsquery(query)
        # The key and dates from the document's copies: its `created` index can drive the scan,
        # and only filters on runs or type join the versions.
        where = [_on_document(w) for w in where]
        join = f"JOIN {artifacts} a ON a.id = s.artifact_id" if needs_row else ""
        sql = f"""SELECT h.artifact_id, h.key, h.created, ts_rank(h.vector, {tsq}) AS score
            FROM (SELECT s.artifact_id, s.key, s.created, s.vector FROM {documents} s {join}
                  WHERE s.vector @@ {tsq}{"".join(" AND " + w for w in where)}
                  ORDER BY s.created DESC LIMIT {limit}) h"""
        params = [*tsq_params, *tsq_params, *params]
    else:
        where = [_on_document(w) for w in where]
        join = f"JOIN {artifacts} a ON a.id = s.artifact_id" if needs_row else ""
        conditions = "".join(" AND " + w for w in where)
        span = ""
        if where and where != ["s.key IS NOT NULL"]:
            # FTS5 walks matches newest rowid first and checks the filters on each; a filter
            # that keeps few documents (a run, a week, the unkeyed ones) would walk most of the
            # index. Their rowids are near each other (written at about the same time), and
            # FTS5 seeks a rowid range itself: a word in one run, 1,015 ms -> 8 ms at a million.
            # Only for at most NARROW documents: the probe stops there (a flow's 200,000
            # documents, probed whole, took 500 ms).
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT count(*), min(id), max(id) FROM (SELECT s.id FROM {documents} s"
                    f" {join} WHERE {' AND '.join(where)} LIMIT {NARROW + 1})",
                    params,
                )
                count, low, high = cursor.fetchone()
            if not count:
                return Hits(hits=[], capped=False)
            if count <= NARROW:
                span = f" AND {FTS_TABLE}.rowid BETWEEN {int(low)} AND {int(high)}"
        with connection.cursor() as cursor:
            match = _fts_match(query, cursor)
        # Ranked here, not by FTS5's bm25(): that counts every matching document of each word
        # for its IDF (35 ms for a word in 875,000 documents; the match itself takes 0.5 ms).
        sql = f"""SELECT s.artifact_id, s.key, s.created, s.title || %s || s.body
            FROM {FTS_TABLE} JOIN {documents} s ON s.id = {FTS_TABLE}.rowid {join}
            WHERE {FTS_TABLE} MATCH %s{span}{conditions}
            ORDER BY {FTS_TABLE}.rowid DESC LIMIT {limit}"""
        params = [_SEPARATOR, match, *params]
    table = Artifact._meta.db_table
    to_id = connection.ops.get_db_converters(Artifact._meta.get_field("id").get_col(table))
    to_created = connection.ops.get_db_converters(
        Artifact._meta.get_field("created").get_col(table)
    )
    postgresql = connection.vendor == "postgresql"
    # A transaction only on PostgreSQL, for SET LOCAL: SQLite's are IMMEDIATE (they take the
    # write lock), and a search must never wait for, or hold up, a writer.
    with transaction.atomic() if postgresql else nullcontext(), connection.cursor() as cursor:
        if postgresql:
            # Parallel workers start in tens of milliseconds on a busy machine, for scans that
            # stop after CANDIDATES rows anyway (measured: 92 ms with them, 10 ms without).
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    hits = []
    for pk, key, created, score in rows:  # SQLite's text to UUID and datetime (none on PG)
        for convert in to_id:
            pk = convert(pk, None, connection)
        for convert in to_created:
            created = convert(created, None, connection)
        if isinstance(score, str):
            score = _text_score(query, *score.split(_SEPARATOR, 1))
        hits.append(Hit(id=pk, key=key, created=created, score=float(score or 0)))
    capped = len(hits) > CANDIDATES
    hits = hits[:CANDIDATES]
    hits.sort(key=lambda h: (h.score, h.created), reverse=True)
    return Hits(hits=hits, capped=capped)


@dataclass
class Group:
    """A search result: a key (its best-matching version `hit`) or an unkeyed artifact."""

    key: str | None
    hit: Hit
    matches: int = 1


def group_by_key(hits: list[Hit]) -> list[Group]:
    """One result per key (its best match first), unkeyed artifacts each on their own; in the
    order of their best match."""
    groups: list[Group] = []
    by_key: dict[str, Group] = {}
    for hit in hits:
        if hit.key is None:
            groups.append(Group(key=None, hit=hit))
        elif hit.key in by_key:
            by_key[hit.key].matches += 1
        else:
            by_key[hit.key] = group = Group(key=hit.key, hit=hit)
            groups.append(group)
    return groups


# --------------------------------------------------------------------------- rebuild --

REBUILD_FIELDS = ("id", "key", "type", "description", "data", "metadata", "created")


def rebuild(
    *, artifact_model=Artifact, document_model=SearchDocument, batch=500, progress=None, terms=True
):
    """Write every version's search document afresh, oldest first, in transactions of `batch`
    versions (`progress(done, total)` after each). Used by migration 0005 (with its historical
    models) and `manage.py rebuild_search_index`. Returns the number of versions indexed."""
    from django.db.models import Q  # noqa: PLC0415

    # Migration 0005's historical model has no `key` yet (0006 adds and fills it).
    with_key = any(f.name == "key" for f in document_model._meta.get_fields())
    total = artifact_model.objects.count()
    document_model.objects.all().delete()
    done, after = 0, None
    while True:
        rows = artifact_model.objects.order_by("created", "id")
        if after is not None:
            rows = rows.filter(Q(created__gt=after[0]) | Q(created=after[0], id__gt=after[1]))
        rows = list(rows.values(*REBUILD_FIELDS)[:batch])
        if not rows:
            break
        documents = []
        for row in rows:
            title, body = document_text(
                key=row["key"],
                description=row["description"],
                type=row["type"],
                data=row["data"],
                metadata=row["metadata"],
            )
            documents.append(
                document_model(
                    artifact_id=row["id"],
                    created=row["created"],
                    title=title,
                    body=body,
                    **({"key": row["key"]} if with_key else {}),
                )
            )
        with transaction.atomic():
            document_model.objects.bulk_create(documents, batch_size=batch)
            if terms:
                note_terms(text for d in documents for text in (d.title, d.body))
        done += len(rows)
        after = (rows[-1]["created"], rows[-1]["id"])
        if progress is not None:
            progress(done, total)
    return done

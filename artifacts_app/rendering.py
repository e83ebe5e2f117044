"""Per-type validation, normalisation and safe HTML. Never sees a request.

`data` is stored exactly as received; this module parses it only to validate and to render.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import math
import re
import threading
from dataclasses import dataclass
from functools import partial
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import bleach
import markdown as md
from bleach.css_sanitizer import CSSSanitizer
from bleach.linkifier import LinkifyFilter
from django.core.exceptions import ValidationError
from django.db.models import TextField
from django.db.models.functions import Cast, Substr
from django.utils.html import strip_tags

from . import jsoncheck, models

KEY_RE = re.compile(r"^[a-z0-9-]+$")
KEY_MESSAGE = "Artifact key must only contain lowercase letters, numbers, and dashes."
METADATA_MAX = 500
SAFE_URL_SCHEMES = ("http", "https")
SAFE_LINK_SCHEMES = ("http", "https", "mailto")

# ----------------------------------------------------------------------------- validation --


def validate_key(key: str | None) -> None:
    if key is not None and not KEY_RE.match(key):
        raise ValidationError({"key": KEY_MESSAGE})


def clean_metadata(metadata) -> dict[str, str] | None:
    """Prefect's rule: a string->string map; values over 500 characters are cut to 500 + '...'."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise ValidationError({"metadata_": "Must be an object mapping strings to strings."})
    cleaned = {}
    for name, value in metadata.items():
        if not isinstance(value, str):
            raise ValidationError({"metadata_": f"Value of {name!r} must be a string."})
        cleaned[name] = value[:METADATA_MAX] + "..." if len(value) > METADATA_MAX else value
    return cleaned


def is_safe_url(url: str, schemes=SAFE_URL_SCHEMES) -> bool:
    if not isinstance(url, str) or not url or url != url.strip() or len(url) > 8192:
        return False
    if any(ord(ch) < 0x21 or ch in "\\\x7f\"'<>`" for ch in url):  # no spaces, quotes or markup
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme.lower() not in schemes:
        return False
    if parts.scheme.lower() == "mailto":
        return bool(parts.path)
    return bool(parts.netloc)


def parse_table(data):
    """A table as Prefect sends it (a JSON string) or native JSON. Returns the parsed value."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            raise ValidationError({"data": "Table data is a string but not valid JSON."}) from None
        except RecursionError:  # a string may hold JSON nested deeper than Python parses
            raise ValidationError({"data": "Table data is nested too deeply."}) from None
    return data


def _same(value):
    return value


def table_columns_rows(
    data, cell=_same, *, owned: bool = False, order: list[str] | None = None
) -> tuple[list[str], list[list]]:
    """Normalise the three table shapes to (header, rows), each value passed through `cell`.
    Raises ValidationError otherwise. A list table parsed here (or `owned`: the caller's copy,
    free to reuse) becomes the rows in place, each row object freed as its row is made: for
    100,000 rows that halves the peak memory of the parse. `order`: the named columns' order
    as sent (the stored summary's; PostgreSQL's jsonb reorders an object's keys)."""
    columns, rows, _ = _table_shape(data, cell, owned=owned, order=order)
    return columns, rows


def _in_order(columns: list[str], order: list[str] | None) -> list[str]:
    """`columns` in the order given, when `order` names exactly these columns."""
    if order and len(order) == len(columns) and set(order) == set(columns):
        return list(order)
    return columns


def _table_shape(
    data, cell=_same, *, owned=False, limit=None, order=None
) -> tuple[list[str], list[list], int]:
    """(header, rows, number of rows) of a table, checking its whole shape; with `limit`, only
    the first `limit` rows are made (and the caller's data is left as it is)."""
    owned = (owned or isinstance(data, str)) and limit is None
    table = parse_table(data)
    if isinstance(table, dict):
        names = [str(c) for c in table]
        values = list(table.values())
        columns = _in_order(names, order)
        if columns is not names:
            position = {name: i for i, name in enumerate(names)}
            values = [values[position[name]] for name in columns]
        if not all(isinstance(v, list) for v in values):
            raise ValidationError({"data": "A dict-of-lists table needs a list for every column."})
        length = max((len(v) for v in values), default=0)
        if any(len(v) != length for v in values):
            raise ValidationError(
                {"data": "Every column of a dict-of-lists table needs the same length."}
            )
        made = length if limit is None else min(limit, length)
        return columns, [[cell(v[i]) for v in values] for i in range(made)], length
    if isinstance(table, list):
        if not table:
            return [], [], 0
        made = len(table) if limit is None else min(limit, len(table))
        rows = table if owned else [None] * made
        if all(isinstance(r, dict) for r in table):
            columns: list[str] = []
            seen = set()
            for row in table:
                for name in row:
                    if name not in seen:
                        seen.add(name)
                        columns.append(name)
            columns = _in_order(columns, order)
            for i in range(made):
                rows[i] = [cell(table[i].get(c)) for c in columns]
            return [str(c) for c in columns], rows, len(table)
        if all(isinstance(r, list) for r in table):
            width = max(len(r) for r in table)
            for i in range(made):
                row = table[i]
                rows[i] = [cell(v) for v in row] + [cell(None)] * (width - len(row))
            return [str(i) for i in range(width)], rows, len(table)
        raise ValidationError({"data": "A list table needs all rows to be objects or all lists."})
    raise ValidationError(
        {"data": "A table must be a dict of lists, a list of objects or a list of lists."}
    )


def progress_number(data) -> float | None:
    """A progress artifact's value as a number, or None when `data` is not one (the dashboard then
    shows it as JSON). Not clamped: the bar draws it clamped and prints the stored value."""
    if isinstance(data, bool) or not isinstance(data, int | float) or not math.isfinite(data):
        return None
    return float(data)


def validate_data(data) -> None:
    """`data` may be any JSON value for any type, as on Prefect's server: its shape is checked
    at render time, not here. What is refused is what cannot be stored or answered again
    (jsoncheck: NaN and Infinity, integers outside 64 bits, lone surrogates, U+0000, nesting
    deeper than jsoncheck.MAX_DEPTH)."""
    validate_json("data", data)


def validate_json(field: str, value) -> None:
    """Django's ValidationError naming `field` when `value` is not storable JSON (jsoncheck)."""
    try:
        jsoncheck.check(value, field)
    except jsoncheck.JSONInputError as exc:
        message = exc.message if exc.path == field else f"{exc.path}: {exc.message}"
        raise ValidationError({field: message}) from None


# ------------------------------------------------------------------------------ rendering --

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
        "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol",
        "p", "pre", "s", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td",
        "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title"],
    "abbr": ["title"],
    "img": ["src", "alt", "title", "width", "height"],
    "td": ["align", "colspan", "rowspan"],
    "th": ["align", "colspan", "rowspan"],
    "code": ["class"],
    "div": ["class"],
    "span": ["class"],
}


def _link_attrs(attrs, new=False):
    href = attrs.get((None, "href"))
    if href and not href.startswith("#"):
        attrs[(None, "rel")] = "noopener noreferrer nofollow"
        attrs[(None, "target")] = "_blank"
    return attrs


def _new_cleaner() -> bleach.Cleaner:
    return bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=list(SAFE_LINK_SCHEMES),
        strip=True,
        strip_comments=True,
        css_sanitizer=CSSSanitizer(allowed_css_properties=[]),
        # linkify in the same pass (a second pass would escape entities in code twice)
        filters=[
            partial(
                LinkifyFilter, callbacks=[_link_attrs], skip_tags=["pre", "code"], parse_email=False
            )
        ],
    )


_local = threading.local()  # bleach's Cleaner is not thread-safe: one per server thread
MARKDOWN_CACHE_MAX_CHARS = 8 * 1024


def markdown_to_html(text: str | None) -> str:
    """Markdown (tables, fenced code) to HTML, then through bleach's allowlist. The only way
    user text becomes markup anywhere in the app. Results for texts up to 8 KB are cached
    (a list page renders 50 descriptions; the sanitiser costs ~0.5 ms each)."""
    if not text:
        return ""
    text = str(text)
    if len(text) <= MARKDOWN_CACHE_MAX_CHARS:
        return _markdown_to_html_cached(text)
    return _markdown_to_html(text)


def _markdown_to_html(text: str) -> str:
    cleaner = getattr(_local, "cleaner", None)
    if cleaner is None:
        cleaner = _local.cleaner = _new_cleaner()
    html = md.markdown(
        text, extensions=["tables", "fenced_code", "sane_lists"], output_format="html"
    )
    return _lazy_images(cleaner.clean(html))


_markdown_to_html_cached = functools.lru_cache(maxsize=1024)(_markdown_to_html)


_IMG_RE = re.compile(r"<img ")


def _lazy_images(html: str) -> str:
    return _IMG_RE.sub('<img loading="lazy" referrerpolicy="no-referrer" ', html)


MARKDOWN_LINK_RE = re.compile(r"^\s*\[(?P<text>[^\]]*)\]\((?P<url>[^)\s]+)\)\s*$")


@dataclass(frozen=True)
class Link:
    text: str
    url: str | None  # None when the URL is not a safe scheme
    raw: str = ""  # the URL as stored (shown as text when it is not safe)


def parse_link(data) -> Link | None:
    """A link artifact, as Prefect sends it (`[text](url)` markdown) or as {"link", "link_text"}."""
    if isinstance(data, dict):
        url = data.get("link")
        text = data.get("link_text") or url
    elif isinstance(data, str):
        match = MARKDOWN_LINK_RE.match(data)
        if match:
            url, text = match["url"], match["text"] or match["url"]
        else:
            url = text = data.strip()
    else:
        return None
    if not isinstance(url, str):
        return None
    safe = is_safe_url(url, SAFE_LINK_SCHEMES)
    return Link(text=str(text), url=url if safe else None, raw=url)


def pretty_json(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False, default=str)


# ------------------------------------------------------------------- dashboard helpers --

TABLE_PAGE_SIZE = 25


def artifact_kind(artifact) -> str:
    """Which renderer shows this artifact: table, markdown, link, image, progress or json."""
    type_ = artifact.type
    if type_ == models.TABLE:
        summary = _stored_summary(artifact)
        if summary is not None:
            return "table" if summary else "json"
        try:
            normalised_table(artifact)  # cached: lists and pages ask for every row's kind
        except ValidationError:
            return "json"
        return "table"
    if type_ == models.PROGRESS:
        return "progress" if artifact.progress_value is not None else "json"
    if type_ == models.IMAGE and isinstance(artifact.data, str):
        return "image"
    if type_ == models.LINK:
        return "link" if parse_link(artifact.data) is not None else "json"
    if type_ == models.HTML and isinstance(artifact.data, str):
        return "html"  # partials/html.html: a sandboxed iframe, never inline
    if type_ == models.MARKDOWN and isinstance(artifact.data, str):
        return "link" if MARKDOWN_LINK_RE.match(artifact.data) else "markdown"
    return "json"


MISFITS = {
    models.TABLE: "not a table",
    models.MARKDOWN: "not markdown",
    models.PROGRESS: "not a progress value",
    models.IMAGE: "not an image URL",
    models.LINK: "not a link",
    models.HTML: "not an HTML document",
}


def misfit_note(artifact, kind: str | None = None) -> str:
    """A one-line note when an artifact's data does not fit its type's renderer (any JSON is
    stored for any type, as on Prefect's server): "not a table: shown as JSON", a URL that may
    not be a link or an image: "not an http(s) URL: shown as text"; else ""."""
    kind = kind or artifact_kind(artifact)
    if kind == "json" and artifact.type in MISFITS:
        return f"{MISFITS[artifact.type]}: shown as JSON"
    if kind == "image" and not is_safe_url(artifact.data):
        return "not an http(s) URL: shown as text"
    if kind == "link":
        link = parse_link(artifact.data)
        if link is not None and link.url is None:
            return "not an http(s) or mailto URL: shown as text"
    return ""


@dataclass
class TablePage:
    columns: list[str]
    rows: list[list]
    total_rows: int
    matching_rows: int
    page: int
    pages: int
    sort: int | None
    descending: bool
    query: str
    page_size: int = TABLE_PAGE_SIZE

    @property
    def first_row(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.matching_rows else 0

    @property
    def last_row(self) -> int:
        return min(self.page * self.page_size, self.matching_rows)


# A table's columns, size and first rows are stored with each version (Artifact.table_summary,
# written by `services`), so a list or the first page of a 100,000-row table shows them without
# reading and parsing the table; sorting, filtering and later pages parse it (cached below).
TABLE_SUMMARY_MAX_BYTES = 32 * 1024


def table_summary(type_, data) -> dict | None:
    """What is stored in Artifact.table_summary for a new `data`: for a table,
    {"columns": [...], "total": rows, "rows": its first page as the grid shows it}, or {} when
    `data` is not a table; None for other types, and for a header too long to keep (pages then
    parse the table). The first page is kept only for a table longer than a page (a shorter one
    is parsed in no time, and lists would read its rows twice), and only as many of its rows as
    fit in TABLE_SUMMARY_MAX_BYTES."""
    if type_ != models.TABLE:
        return None
    try:
        columns, rows, total = _table_shape(data, _cell, limit=TABLE_PAGE_SIZE)
    except ValidationError:
        return {}
    size = len(json.dumps(columns, ensure_ascii=False))
    if size > TABLE_SUMMARY_MAX_BYTES:
        return None
    kept = []
    for row in rows if total > TABLE_PAGE_SIZE else ():
        size += len(json.dumps(row, ensure_ascii=False))
        if size > TABLE_SUMMARY_MAX_BYTES:
            break
        kept.append(row)
    return {"columns": columns, "total": total, "rows": kept}


def _stored_summary(artifact) -> dict | None:
    """The version's stored table summary; None when it has none (written before summaries
    were stored, or by a bulk insert) or the query left it out."""
    if "table_summary" in artifact.get_deferred_fields():
        return None
    return artifact.table_summary


def _sent_order(artifact) -> list[str] | None:
    """The table's columns in the order sent, from its stored summary (None without one)."""
    summary = _stored_summary(artifact)
    return summary["columns"] if summary else None


def table_columns(artifact) -> list[str]:
    """A table artifact's header."""
    summary = _stored_summary(artifact)
    return summary["columns"] if summary else normalised_table(artifact)[0]


def _page_bounds(count: int, page: int, page_size: int) -> tuple[int, int, int]:
    """(page, pages, index of its first row) for `count` rows: pages start at 1, and a page out
    of range shows the nearest one."""
    pages = max(1, math.ceil(count / page_size))
    page = min(max(1, page), pages)
    return page, pages, (page - 1) * page_size


def _summary_page(summary, page: int, page_size: int, descending: bool) -> TablePage | None:
    """The table's own order, unfiltered, from the stored summary when it holds that page."""
    rows, total = summary["rows"], summary["total"]
    page, pages, start = _page_bounds(total, page, page_size)
    if min(start + page_size, total) > len(rows):
        return None
    return TablePage(
        columns=summary["columns"],
        rows=rows[start : start + page_size],
        total_rows=total,
        matching_rows=total,
        page=page,
        pages=pages,
        sort=None,
        descending=descending,
        query="",
        page_size=page_size,
    )


_table_cache: dict = {}
_table_cache_lock = threading.Lock()
# Bounded by cells, not entries: a list page shows a dozen small tables, which must not push
# out the one big table someone is paging through.
TABLE_CACHE_MAX_CELLS = 1_000_000
TABLE_CACHE_MAX_ENTRIES = 256


def normalised_table(artifact) -> tuple[list[str], list[list]]:
    """(header, rows) for a table artifact; parsed once per version and kept for a few versions,
    so paging through a 100,000-row table does not parse its JSON on every click. Parsing holds
    a lock: concurrent requests for one big table wait for one parse instead of each holding
    their own copy (a 100,000-row table is tens of MB while parsed)."""
    cache_key = (artifact.pk, artifact.updated)
    hit = _table_cache.get(cache_key)
    if hit is not None:
        return hit
    with _table_cache_lock:
        hit = _table_cache.get(cache_key)
        if hit is None:
            source, owned = _table_source(artifact)
            hit = table_columns_rows(source, _cell, owned=owned, order=_sent_order(artifact))
            del source
            columns, rows = hit
            if len(rows) * max(1, len(columns)) >= 100_000:
                _give_back_memory()
            _table_cache[cache_key] = hit
            cells = sum(len(r) * max(1, len(c)) for c, r in _table_cache.values())
            while len(_table_cache) > 1 and (
                cells > TABLE_CACHE_MAX_CELLS or len(_table_cache) > TABLE_CACHE_MAX_ENTRIES
            ):
                old_columns, old_rows = _table_cache.pop(next(iter(_table_cache)))
                cells -= len(old_rows) * max(1, len(old_columns))
    return hit


_head_cache: dict = {}
_HEAD_CACHE_MAX = 64


def raw_head(artifact) -> str | None:
    """The first RAW_HEAD_CHARS of a big `data`'s stored JSON (the page's raw view), cut by the
    database and kept per version; None when `data` is small enough to show whole."""
    if not models.is_big(artifact.data_bytes):
        return None
    cache_key = (artifact.pk, artifact.updated)
    head = _head_cache.get(cache_key)
    if head is None:
        with models.one_big_read_at_a_time():
            head = (
                type(artifact)
                .objects.filter(pk=artifact.pk)
                .annotate(
                    head=Substr(Cast("data", TextField()), 1, models.RAW_HEAD_CHARS),
                )
                .values_list("head", flat=True)
                .first()
            ) or ""
        if len(_head_cache) >= _HEAD_CACHE_MAX:
            _head_cache.pop(next(iter(_head_cache)))
        _head_cache[cache_key] = head
    return head


def _table_source(artifact):
    """(the table's `data`, whether it is ours to reuse): when the page deferred it
    (`with_small_data`), fetched for the parse only, not kept on the instance."""
    if "data" in artifact.get_deferred_fields():
        with models.one_big_read_at_a_time():
            query = type(artifact).objects.filter(pk=artifact.pk).values_list("data", flat=True)
            return query.first(), True
    return artifact.data, False


def _give_back_memory() -> None:
    """glibc keeps freed memory for reuse, so a worker's RSS would stay at the peak of parsing a
    big table (the decoded JSON is several times its text); hand the free pages back."""
    with contextlib.suppress(OSError, AttributeError):  # AttributeError: not glibc
        ctypes.CDLL(None).malloc_trim(0)


def _cell(value) -> str:
    """A cell as text: None and NaN empty, nested values as compact JSON."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _sort_key(cell: str):
    try:
        return (0, float(cell), "")
    except ValueError:
        return (1 if cell else 2, 0.0, cell.lower())


_FILTER_TERM_RE = re.compile(r'"([^"]+)"|(\S+)')


def filter_terms(query: str) -> list[str]:
    """The words of a row filter, lowercased; "quoted phrases" stay whole."""
    terms = (phrase or word for phrase, word in _FILTER_TERM_RE.findall(query or ""))
    return [" ".join(term.lower().split()) for term in terms if term.strip()]


def filter_rows(rows: list[list[str]], query: str) -> list[list[str]]:
    """The rows in which every word of `query` appears, each in any cell, in any order and case
    ("refunded north" keeps a row with "Refunded" in one cell and "north" in another)."""
    terms = filter_terms(query)
    if not terms:
        return rows
    # One string per row; the separator is whitespace to split(), so no term can span two cells.
    kept = []
    for row in rows:
        text = "\x1f".join(row).lower()
        if all(term in text for term in terms):
            kept.append(row)
    return kept


def table_rows(artifact, *, sort=None, descending=False, query="") -> tuple[list, list, int | None]:
    """(columns, rows, sort) of a table artifact after the row filter and the sort (a column
    index, None or out of range for the table's own order): what the grid pages through and
    what the downloads write."""
    columns, rows = normalised_table(artifact)
    rows = filter_rows(rows, query)
    if sort is not None and 0 <= sort < len(columns):
        rows = sorted(rows, key=lambda row: _sort_key(row[sort]), reverse=descending)
    else:
        sort = None
    return columns, rows, sort


def table_page(
    artifact, *, page=1, sort=None, descending=False, query="", page_size=TABLE_PAGE_SIZE
) -> TablePage:
    summary = _stored_summary(artifact)
    if summary and sort is None and not query:
        stored = _summary_page(summary, page, page_size, descending)
        if stored is not None:
            return stored
    total = len(normalised_table(artifact)[1])
    columns, rows, sort = table_rows(artifact, sort=sort, descending=descending, query=query)
    page, pages, start = _page_bounds(len(rows), page, page_size)
    return TablePage(
        columns=columns,
        rows=rows[start : start + page_size],
        total_rows=total,
        matching_rows=len(rows),
        page=page,
        pages=pages,
        sort=sort,
        descending=descending,
        query=query,
        page_size=page_size,
    )


def table_csv(artifact, **view) -> str:
    """The table as CSV; `view` (sort, descending, query) as in table_rows()."""
    import csv
    import io

    columns, rows, _ = table_rows(artifact, **view)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def table_records(artifact, **view) -> list[dict]:
    """The table as a list of records with the values as sent; with a `view` (sort, descending,
    query as in table_rows()), only the rows it keeps, in its order."""
    columns, rows = table_columns_rows(artifact.data, order=_sent_order(artifact))
    records = [dict(zip(columns, row, strict=False)) for row in rows]
    if not any(view.values()):
        return records
    # Filter and sort on the text cells (as the grid shows them), then keep the sent values.
    _, shown = normalised_table(artifact)
    order = {id(row): index for index, row in enumerate(shown)}
    _, kept, _ = table_rows(artifact, **view)
    return [records[order[id(row)]] for row in kept]


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


EXCERPT_SOURCE_CHARS = 20_000  # of a markdown or HTML artifact, read for its excerpt
_SKIPPED_BLOCKS_RE = re.compile(r"<(pre|table)\b.*?</\1>", re.S)
_BLOCK_END_RE = re.compile(r"</(h[1-6]|p|li|blockquote|dd|dt|div)>")


def markdown_excerpt(text: str, limit: int = 160) -> str:
    """Plain text of markdown as a reader sees it: rendered (and sanitised), code blocks and
    tables left out, tags stripped: "Nightly data-quality report. All 11 checks ran…", never
    "# Nightly … **11**"."""
    html = markdown_to_html(text[:EXCERPT_SOURCE_CHARS])
    html = _SKIPPED_BLOCKS_RE.sub(" ", html)
    html = _BLOCK_END_RE.sub(lambda m: "\x00", html)
    blocks = [" ".join(unescape(strip_tags(b)).split()) for b in html.split("\x00")]
    blocks = [b for b in blocks if b]
    # Blocks read as sentences ("Title. First paragraph"); the text's own end is kept as is.
    sentences = [b if b[-1] in ".:;!?…" else b + "." for b in blocks[:-1]] + blocks[-1:]
    return _shorten(" ".join(sentences), limit)


class _TextOfHtml(HTMLParser):
    """The visible text of an HTML document: no <style>, <script>, <head> or markup."""

    HIDDEN = {"style", "script", "head", "title", "template", "noscript", "svg", "math", "button"}
    INLINE = {"a", "abbr", "code", "em", "i", "kbd", "mark", "q", "s", "small", "sub", "sup", "u"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hidden = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag not in self.INLINE:
            self.parts.append(" ")  # blocks (and styled boxes) do not run into each other

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1
        elif tag not in self.INLINE:
            self.parts.append(" ")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def html_excerpt(document: str, limit: int = 160) -> str:
    """The visible text of an HTML artifact (never its <style> or <script> source)."""
    parser = _TextOfHtml()
    try:
        parser.feed(document[:EXCERPT_SOURCE_CHARS])
        parser.close()
    except (AssertionError, ValueError):  # HTMLParser gives up on some broken markup
        pass
    return _shorten("".join(parser.parts), limit)


def preview_text(artifact, limit: int = 160) -> str:
    """A one-line summary of what an artifact shows, for timelines and lists: content, not
    source (rendered markdown's text, an HTML page's visible text)."""
    kind = artifact_kind(artifact)
    if kind == "table":
        summary = _stored_summary(artifact)
        if summary:
            return f"{summary['total']:,} rows × {len(summary['columns'])} columns"
        columns, rows = normalised_table(artifact)
        return f"{len(rows):,} rows × {len(columns)} columns"
    if kind == "progress":
        return f"{artifact.progress_value:g}%"
    if kind == "link":
        link = parse_link(artifact.data)
        return link.text if link else ""
    if kind == "markdown":
        return markdown_excerpt(artifact.data, limit)
    if kind == "html":
        return html_excerpt(artifact.data, limit) or "HTML document (no text)"
    if kind == "image":
        host = urlsplit(artifact.data).hostname if is_safe_url(artifact.data) else None
        return f"Image from {host}" if host else "Image (not shown: only http and https URLs)"
    if isinstance(artifact.data, str):
        text = artifact.data
    else:
        text = json.dumps(artifact.data, ensure_ascii=False, default=str)
    return _shorten(text, limit)


def image_url(artifact) -> str:
    """An image artifact's URL when it may be shown (http/https), else ""."""
    if artifact_kind(artifact) == "image" and is_safe_url(artifact.data):
        return artifact.data
    return ""

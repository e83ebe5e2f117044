"""What changed between two versions of a key. Never sees a request; returns plain data that
templates render (no HTML is built here, so nothing user-supplied needs `|safe`).

- text and markdown (and html source): side by side, line by line, with changed words marked;
- tables: cell by cell, rows matched by a chosen key column or by position;
- anything else: JSON by path (`$.params.depth`, `$[3].name`).
"""

from __future__ import annotations

import bisect
import difflib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from . import models, rendering

CONTEXT_LINES = 3
MAX_TEXT_LINES = 20_000  # beyond this, lines are compared without the word-level pass
MAX_WORD_DIFF_CHARS = 4_000  # longer line pairs (minified HTML) are marked whole
DIFF_ROWS_PAGE = 200  # table/JSON diff rows shown per page
_WORD_RE = re.compile(r"\s+|\w+|[^\w\s]")


# ----------------------------------------------------------------------------------- text --


@dataclass
class TextLine:
    """One row of a side-by-side diff. `left`/`right` are lists of (text, changed) segments;
    a missing side is None. tag: equal, replace, delete, insert or skip (a folded gap)."""

    tag: str
    left_no: int | None = None
    right_no: int | None = None
    left: list[tuple[str, bool]] | None = None
    right: list[tuple[str, bool]] | None = None
    skipped: int = 0


@dataclass
class TextDiff:
    lines: list[TextLine]
    added: int = 0
    removed: int = 0
    changed: bool = False
    kind: str = "text"


def _word_segments(old: str, new: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    a, b = _WORD_RE.findall(old), _WORD_RE.findall(new)
    left: list[tuple[str, bool]] = []
    right: list[tuple[str, bool]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        changed = tag != "equal"
        if i2 > i1:
            _append(left, "".join(a[i1:i2]), changed)
        if j2 > j1:
            _append(right, "".join(b[j1:j2]), changed)
    return left, right


def _append(segments: list[tuple[str, bool]], text: str, changed: bool) -> None:
    if segments and segments[-1][1] == changed:
        segments[-1] = (segments[-1][0] + text, changed)
    else:
        segments.append((text, changed))


def line_opcodes(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib-style opcodes for two lists of lines, by patience diff: lines that occur once on
    each side anchor the match (longest increasing run), difflib fills the small gaps between
    anchors. Near-linear on large documents, where difflib alone is quadratic."""
    raw: list[tuple[str, int, int, int, int]] = []
    _patience(a, 0, len(a), b, 0, len(b), raw, 0)
    merged: list[list] = []
    for tag, i1, i2, j1, j2 in raw:
        if i1 == i2 and j1 == j2:
            continue
        last = merged[-1] if merged else None
        if last and last[0] == tag and last[2] == i1 and last[4] == j1:
            last[2], last[4] = i2, j2
        elif (
            last
            and {last[0], tag} <= {"replace", "delete", "insert"}
            and tag != "equal"
            and last[0] != "equal"
            and last[2] == i1
            and last[4] == j1
        ):
            last[0], last[2], last[4] = "replace", i2, j2
        else:
            merged.append([tag, i1, i2, j1, j2])
    return [tuple(op) for op in merged]


GAP_PRODUCT_LIMIT = 4_000_000  # beyond this, an anchor-less gap is one replace block


def _patience(a, alo, ahi, b, blo, bhi, out, depth) -> None:
    start_a, start_b = alo, blo
    while alo < ahi and blo < bhi and a[alo] == b[blo]:
        alo, blo = alo + 1, blo + 1
    out.append(("equal", start_a, alo, start_b, blo))
    end_a, end_b = ahi, bhi
    while ahi > alo and bhi > blo and a[ahi - 1] == b[bhi - 1]:
        ahi, bhi = ahi - 1, bhi - 1
    if alo == ahi or blo == bhi:
        out.append(("delete" if blo == bhi else "insert", alo, ahi, blo, bhi))
    else:
        anchors = _anchors(a, alo, ahi, b, blo, bhi) if depth < 64 else []
        if anchors:
            i0, j0 = alo, blo
            for i, j in anchors:
                _patience(a, i0, i, b, j0, j, out, depth + 1)
                out.append(("equal", i, i + 1, j, j + 1))
                i0, j0 = i + 1, j + 1
            _patience(a, i0, ahi, b, j0, bhi, out, depth + 1)
        elif (ahi - alo) * (bhi - blo) <= GAP_PRODUCT_LIMIT:
            matcher = difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
            for tag, i1, i2, j1, j2 in matcher.get_opcodes():
                out.append((tag, alo + i1, alo + i2, blo + j1, blo + j2))
        else:
            out.append(("replace", alo, ahi, blo, bhi))
    out.append(("equal", ahi, end_a, bhi, end_b))


def _anchors(a, alo, ahi, b, blo, bhi) -> list[tuple[int, int]]:
    """Pairs (i, j) of lines unique on both sides, longest run increasing in both."""
    count_a: dict[str, int] = {}
    for i in range(alo, ahi):
        count_a[a[i]] = count_a.get(a[i], 0) + 1
    count_b: dict[str, int] = {}
    where_b: dict[str, int] = {}
    for j in range(blo, bhi):
        count_b[b[j]] = count_b.get(b[j], 0) + 1
        where_b[b[j]] = j
    pairs = [
        (i, where_b[a[i]]) for i in range(alo, ahi) if count_a[a[i]] == 1 and count_b.get(a[i]) == 1
    ]
    if not pairs:
        return []
    # Longest increasing subsequence of j (pairs are in i order), O(k log k).
    tails: list[int] = []
    tail_index: list[int] = []
    previous = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        pos = bisect.bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            tail_index.append(k)
        else:
            tails[pos] = j
            tail_index[pos] = k
        previous[k] = tail_index[pos - 1] if pos else -1
    run = []
    k = tail_index[-1]
    while k != -1:
        run.append(pairs[k])
        k = previous[k]
    return run[::-1]


def text_diff(old: str, new: str, *, context: int = CONTEXT_LINES) -> TextDiff:
    """Side-by-side line diff; unchanged runs longer than 2*context are folded."""
    a, b = old.splitlines(), new.splitlines()
    words = len(a) + len(b) <= MAX_TEXT_LINES
    lines: list[TextLine] = []
    added = removed = 0
    opcodes = line_opcodes(a, b)
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            count = i2 - i1
            head = context if index > 0 else 0
            tail = context if index < len(opcodes) - 1 else 0
            if count > head + tail + 1:
                keep = list(range(i1, i1 + head))
                gap = count - head - tail
                rest = list(range(i2 - tail, i2))
            else:
                keep, gap, rest = list(range(i1, i2)), 0, []
            for i in keep:
                lines.append(_same(a, i, j1 + i - i1))
            if gap:
                lines.append(TextLine(tag="skip", skipped=gap))
            for i in rest:
                lines.append(_same(a, i, j1 + i - i1))
            continue
        removed += i2 - i1
        added += j2 - j1
        for k in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + k, j1 + k
            line = TextLine(tag=tag)
            if i < i2 and j < j2:
                line.tag = "replace"
                line.left_no, line.right_no = i + 1, j + 1
                if words and len(a[i]) + len(b[j]) <= MAX_WORD_DIFF_CHARS:
                    line.left, line.right = _word_segments(a[i], b[j])
                else:
                    line.left, line.right = [(a[i], True)], [(b[j], True)]
            elif i < i2:
                line.tag = "delete"
                line.left_no, line.left = i + 1, [(a[i], True)]
            else:
                line.tag = "insert"
                line.right_no, line.right = j + 1, [(b[j], True)]
            lines.append(line)
    return TextDiff(lines=lines, added=added, removed=removed, changed=bool(added or removed))


def _same(a: list[str], i: int, j: int) -> TextLine:
    return TextLine(
        tag="equal", left_no=i + 1, right_no=j + 1, left=[(a[i], False)], right=[(a[i], False)]
    )


# ---------------------------------------------------------------------------------- table --


def cell_text(value) -> str:
    """A cell as text: None and NaN empty, nested values as compact JSON."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@dataclass
class TableRow:
    status: str  # added, removed, changed, same
    label: str  # the key column value, or the row number
    cells: list[tuple[str, str, bool]]  # (old, new, changed) per column of TableDiff.columns


@dataclass
class TableDiff:
    columns: list[str]
    column_status: list[str]  # added, removed or same, per column
    rows: list[TableRow]  # only rows that differ (in order), unless include_same
    added: int = 0
    removed: int = 0
    changed_rows: int = 0
    changed_cells: int = 0
    same_rows: int = 0
    key_column: str | None = None
    key_columns: list[str] = field(default_factory=list)  # columns usable as a key
    duplicate_keys: bool = False
    kind: str = "table"

    @property
    def changed(self) -> bool:
        return bool(self.rows) or any(s != "same" for s in self.column_status)


def table_diff(
    old_data, new_data, *, key_column: str | None = None, include_same: bool = False
) -> TableDiff:
    """Compare two tables cell by cell. Rows are matched on `key_column` when both tables
    have it (duplicated key values match in order of appearance), by position otherwise."""
    old_cols, old_rows = rendering.table_columns_rows(old_data)
    new_cols, new_rows = rendering.table_columns_rows(new_data)
    columns = list(new_cols) + [c for c in old_cols if c not in set(new_cols)]
    old_set, new_set = set(old_cols), set(new_cols)
    column_status = [
        "added" if c not in old_set else "removed" if c not in new_set else "same" for c in columns
    ]
    old_idx = {c: i for i, c in enumerate(old_cols)}
    new_idx = {c: i for i, c in enumerate(new_cols)}
    # Index maps from the union columns into each side's rows (None: column absent there).
    old_pos = [old_idx.get(c) for c in columns]
    new_pos = [new_idx.get(c) for c in columns]
    key_columns = [c for c in new_cols if c in old_set]
    if key_column not in key_columns:
        key_column = None
    result = TableDiff(
        columns=columns, column_status=column_status, rows=[], key_columns=key_columns
    )
    result.key_column = key_column
    # Texts once per row; a 10,000-row table is 10,000 small list comprehensions.
    old_text = [[cell_text(v) for v in row] for row in old_rows]
    new_text = [[cell_text(v) for v in row] for row in new_rows]

    if key_column is not None:
        pairs, result.duplicate_keys = _pair_by_key(
            old_text, new_text, old_idx[key_column], new_idx[key_column]
        )
    else:
        pairs = [
            (i if i < len(old_text) else None, i if i < len(new_text) else None)
            for i in range(max(len(old_text), len(new_text)))
        ]
    rows = result.rows
    for oi, ni in pairs:
        if oi is None:
            row = new_text[ni]
            label = row[new_idx[key_column]] if key_column else str(ni + 1)
            cells = [("", row[p] if p is not None else "", True) for p in new_pos]
            rows.append(TableRow("added", label, cells))
            result.added += 1
            continue
        if ni is None:
            row = old_text[oi]
            label = row[old_idx[key_column]] if key_column else str(oi + 1)
            cells = [(row[p] if p is not None else "", "", True) for p in old_pos]
            rows.append(TableRow("removed", label, cells))
            result.removed += 1
            continue
        orow, nrow = old_text[oi], new_text[ni]
        cells = []
        changed = 0
        for op, np_ in zip(old_pos, new_pos, strict=True):
            o = orow[op] if op is not None else ""
            n = nrow[np_] if np_ is not None else ""
            differs = o != n and op is not None and np_ is not None
            changed += differs
            cells.append((o, n, differs))
        label = nrow[new_idx[key_column]] if key_column else str(ni + 1)
        if changed:
            rows.append(TableRow("changed", label, cells))
            result.changed_rows += 1
            result.changed_cells += changed
        else:
            result.same_rows += 1
            if include_same:
                rows.append(TableRow("same", label, cells))
    return result


def _pair_by_key(old_text, new_text, old_k: int, new_k: int):
    """Pairs of (old index | None, new index | None) in the new table's order, removed rows
    where they stood in the old table."""
    positions: dict[tuple[str, int], int] = {}
    seen: dict[str, int] = {}
    duplicates = False
    for i, row in enumerate(old_text):
        n = seen.get(row[old_k], 0)
        duplicates |= n > 0
        seen[row[old_k]] = n + 1
        positions[(row[old_k], n)] = i
    seen.clear()
    matched_old: set[int] = set()
    pairs: list[tuple[int | None, int | None]] = []
    for j, row in enumerate(new_text):
        n = seen.get(row[new_k], 0)
        duplicates |= n > 0
        seen[row[new_k]] = n + 1
        i = positions.get((row[new_k], n))
        if i is not None:
            matched_old.add(i)
        pairs.append((i, j))
    removed = [(i, None) for i in range(len(old_text)) if i not in matched_old]
    return pairs + removed, duplicates


# ----------------------------------------------------------------------------------- json --


@dataclass
class JsonChange:
    path: str
    status: str  # added, removed, changed
    old: str = ""
    new: str = ""


@dataclass
class JsonDiff:
    changes: list[JsonChange]
    same_paths: int = 0
    kind: str = "json"

    @property
    def changed(self) -> bool:
        return bool(self.changes)


_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def flatten(value, path: str = "$", out: dict | None = None) -> dict[str, Any]:
    """Leaves of a JSON value by path. Empty objects and lists are leaves."""
    out = {} if out is None else out
    if isinstance(value, dict) and value:
        for name, item in value.items():
            name = str(name)
            step = f".{name}" if _IDENT_RE.match(name) else f"[{json.dumps(name)}]"
            flatten(item, path + step, out)
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            flatten(item, f"{path}[{i}]", out)
    else:
        out[path] = value
    return out


def _show(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def json_diff(old, new) -> JsonDiff:
    a, b = flatten(old), flatten(new)
    changes: list[JsonChange] = []
    same = 0
    for path, value in b.items():
        if path not in a:
            changes.append(JsonChange(path, "added", new=_show(value)))
        elif a[path] != value or type(a[path]) is not type(value):
            changes.append(JsonChange(path, "changed", old=_show(a[path]), new=_show(value)))
        else:
            same += 1
    changes.extend(JsonChange(p, "removed", old=_show(v)) for p, v in a.items() if p not in b)
    return JsonDiff(changes=changes, same_paths=same)


# ------------------------------------------------------------------------------ versions --


@dataclass
class MetaChange:
    name: str
    status: str  # added, removed, changed, same
    old: str = ""
    new: str = ""


def metadata_diff(old: dict | None, new: dict | None) -> list[MetaChange]:
    old, new = old or {}, new or {}
    rows = []
    for name in list(new) + [n for n in old if n not in new]:
        if name not in old:
            rows.append(MetaChange(name, "added", new=str(new[name])))
        elif name not in new:
            rows.append(MetaChange(name, "removed", old=str(old[name])))
        else:
            status = "same" if old[name] == new[name] else "changed"
            rows.append(MetaChange(name, status, str(old[name]), str(new[name])))
    return rows


def _is_table(artifact) -> bool:
    if artifact.type != models.TABLE:
        return False
    try:
        rendering.table_columns_rows(artifact.data)
    except ValidationError:
        return False
    return True


def data_diff(old, new, *, key_column: str | None = None) -> TableDiff | TextDiff | JsonDiff:
    """The diff of two versions' data, by the kind both share: table, text, or JSON."""
    if _is_table(old) and _is_table(new):
        return table_diff(old.data, new.data, key_column=key_column)
    if isinstance(old.data, str) and isinstance(new.data, str) and old.type == new.type:
        result = text_diff(old.data, new.data)
        result.kind = "text"
        return result
    return json_diff(old.data, new.data)


@dataclass
class VersionDiff:
    old: Any
    new: Any
    data: TableDiff | TextDiff | JsonDiff
    description: TextDiff
    metadata: list[MetaChange]
    type_changed: bool

    @property
    def metadata_changed(self) -> bool:
        return any(m.status != "same" for m in self.metadata)


def version_diff(old, new, *, key_column: str | None = None) -> VersionDiff:
    return VersionDiff(
        old=old,
        new=new,
        data=data_diff(old, new, key_column=key_column),
        description=text_diff(old.description or "", new.description or ""),
        metadata=metadata_diff(old.metadata, new.metadata),
        type_changed=old.type != new.type,
    )

import json

import pytest

from artifacts_app import diff
from tests.factories import ArtifactFactory


def test_text_diff_marks_changed_words_side_by_side():
    result = diff.text_diff("the quick fox\nsame\n", "the slow fox\nsame\nnew line\n")
    first = result.lines[0]
    assert first.tag == "replace"
    assert first.left == [("the ", False), ("quick", True), (" fox", False)]
    assert first.right == [("the ", False), ("slow", True), (" fox", False)]
    assert result.lines[-1].tag == "insert"
    assert result.lines[-1].right_no == 3
    assert (result.added, result.removed) == (2, 1)


def test_text_diff_folds_long_unchanged_runs():
    old = "\n".join(f"line {i}" for i in range(50))
    new = old.replace("line 25", "line twenty-five")
    result = diff.text_diff(old, new, context=2)
    tags = [line.tag for line in result.lines]
    assert tags.count("skip") == 2
    assert tags.count("equal") == 4
    assert result.lines[0].skipped == 23


def test_identical_text_has_no_changes():
    assert not diff.text_diff("a\nb", "a\nb").changed


def test_table_diff_by_position():
    result = diff.table_diff([[1, 2], [3, 4]], [[1, 2], [3, 5], [6, 7]])
    assert [(r.status, r.label) for r in result.rows] == [("changed", "2"), ("added", "3")]
    assert result.rows[0].cells == [("3", "3", False), ("4", "5", True)]
    assert (result.added, result.removed, result.changed_rows, result.same_rows) == (1, 0, 1, 1)


def test_table_diff_by_key_column_matches_moved_rows():
    old = {"id": ["a", "b", "c"], "n": [1, 2, 3]}
    new = {"id": ["c", "a", "d"], "n": [3, 10, 4]}
    result = diff.table_diff(json.dumps(old), json.dumps(new), key_column="id")
    statuses = {r.label: r.status for r in result.rows}
    assert statuses == {"a": "changed", "d": "added", "b": "removed"}
    assert result.same_rows == 1  # "c" moved but did not change
    assert result.changed_cells == 1


def test_table_diff_columns_added_and_removed():
    result = diff.table_diff([{"a": 1, "b": 2}], [{"a": 1, "c": 3}])
    assert result.columns == ["a", "c", "b"]
    assert result.column_status == ["same", "added", "removed"]
    assert result.changed
    assert result.changed_cells == 0  # a column present on one side only is not a changed cell


def test_table_diff_unknown_key_column_falls_back_to_position():
    result = diff.table_diff([{"a": 1}], [{"a": 2}], key_column="nope")
    assert result.key_column is None
    assert result.rows[0].label == "1"


def test_table_diff_duplicate_keys_match_in_order():
    old = [{"k": "x", "v": 1}, {"k": "x", "v": 2}]
    new = [{"k": "x", "v": 1}, {"k": "x", "v": 3}]
    result = diff.table_diff(old, new, key_column="k")
    assert result.duplicate_keys
    assert [(r.status, r.cells[1]) for r in result.rows] == [("changed", ("2", "3", True))]


def test_table_cells_none_and_nan_are_empty():
    assert diff.cell_text(None) == "" == diff.cell_text(float("nan"))
    assert diff.cell_text(True) == "true"
    assert diff.cell_text({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'


def test_json_diff_by_path():
    old = {"accuracy": 0.9, "params": {"depth": 6, "lr": 0.05}, "tags": ["a", "b"], "odd key": 1}
    new = {"accuracy": 0.95, "params": {"depth": 6}, "tags": ["a", "b", "c"], "odd key": 2}
    changes = {(c.path, c.status) for c in diff.json_diff(old, new).changes}
    assert changes == {
        ("$.accuracy", "changed"),
        ("$.params.lr", "removed"),
        ("$.tags[2]", "added"),
        ('$["odd key"]', "changed"),
    }


def test_json_diff_sees_type_changes():
    changes = diff.json_diff({"a": 1}, {"a": "1"}).changes
    assert [(c.path, c.old, c.new) for c in changes] == [("$.a", "1", '"1"')]


def test_metadata_diff():
    rows = diff.metadata_diff({"a": "1", "b": "2"}, {"a": "1", "b": "3", "c": "4"})
    assert [(r.name, r.status) for r in rows] == [("a", "same"), ("b", "changed"), ("c", "added")]


@pytest.mark.django_db
def test_version_diff_picks_the_kind_both_versions_share():
    table_a = ArtifactFactory(key="t", table=True)
    table_b = ArtifactFactory(key="t", type="table", data=[{"a": 1, "b": 5}])
    assert diff.version_diff(table_a, table_b).data.kind == "table"
    md_a = ArtifactFactory(key="m", data="# one")
    md_b = ArtifactFactory(key="m", data="# two")
    assert diff.version_diff(md_a, md_b).data.kind == "text"
    mixed = diff.version_diff(md_a, table_b)
    assert mixed.type_changed
    assert mixed.data.kind == "json"


def _check_opcodes(a, b, opcodes):
    i = j = 0
    rebuilt = []
    for tag, i1, i2, j1, j2 in opcodes:
        assert (i1, j1) == (i, j)  # contiguous, in order
        if tag == "equal":
            assert a[i1:i2] == b[j1:j2]
        rebuilt += b[j1:j2]
        i, j = i2, j2
    assert (i, j) == (len(a), len(b))
    assert rebuilt == b


def test_line_opcodes_cover_both_sides_exactly():
    import random

    rng = random.Random(7)
    for _ in range(300):
        a = [rng.choice("abcdefg") for _ in range(rng.randint(0, 30))]
        b = list(a)
        for _ in range(rng.randint(0, 6)):
            op = rng.choice(("ins", "del", "sub"))
            k = rng.randint(0, len(b))
            if op == "ins":
                b.insert(k, rng.choice("abcxyz"))
            elif b and k < len(b):
                if op == "del":
                    del b[k]
                else:
                    b[k] = rng.choice("xyz")
        _check_opcodes(a, b, diff.line_opcodes(a, b))


def test_large_text_diff_is_minimal():
    # Its speed (difflib alone takes ~45 s on this input) is measured by benchmarks/bench_diff.py.
    a = [f"line {i}" for i in range(50_000)]
    b = list(a)
    for i in range(0, 50_000, 10):
        b[i] += " changed"
    result = diff.text_diff("\n".join(a), "\n".join(b))
    assert (result.added, result.removed) == (5_000, 5_000)
    _check_opcodes(a, b, diff.line_opcodes(a, b))

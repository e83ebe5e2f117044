"""The search index: what a version's document holds, that every write keeps it current (create,
update, delete of a version or a key, retention), and how queries match and rank, on SQLite's
FTS5 and PostgreSQL's tsvector alike."""

import datetime as dt
import json
import uuid

import pytest
from django.core.management import call_command
from django.utils import timezone

from artifacts_app import search, services
from artifacts_app.models import Artifact, SearchDocument

pytestmark = pytest.mark.django_db


def find(text, **filters):
    return [hit.id for hit in search.search_versions(search.parse_query(text), **filters).hits]


def test_document_holds_key_description_and_the_text_of_each_type():
    title, body = search.document_text(
        key="nightly-report", description="**Loads** of rows", type="markdown",
        data="# Summary\n\n| check | ok |\n|---|---|\n| freshness | yes |\n[docs](https://x.example/y)",
    )  # fmt: skip
    assert title == "nightly report loads of rows"
    assert body.split()[:2] == ["summary", "check"]
    assert "freshness" in body
    assert "docs" in body
    _, table = search.document_text(
        type="table", data=json.dumps([{"region": "North", "amount": 12}, {"region": "south"}])
    )
    assert table.split().count("region") == 1  # column names once, cells each
    assert {"north", "south", "12", "amount"} <= set(table.split())
    _, result = search.document_text(type="result", data={"params": {"depth": "deep-net"}})
    assert result == "params depth deep net"
    _, html = search.document_text(
        type="html",
        data="<style>.x{color:red}</style><p>Visible words</p><script>hidden()</script>",
    )
    assert html == "visible words"
    _, progress = search.document_text(type="progress", data=42.0)
    assert progress == ""
    _, meta = search.document_text(type="link", data="https://a.example", metadata={"team": "ops"})
    assert "team" in meta.split()
    assert "ops" in meta.split()


@pytest.mark.parametrize(
    "data",
    [
        None,
        1,
        1.5,
        True,
        "",
        [],
        {},
        [[1, 2], [3]],
        [None, {"a": [{"b": None}]}],
        "\ud800 lone surrogate",
        "x" * 10_000_000,
        ["y" * 100_000] * 50,
        {"k" * 5000: "v"},
        json.dumps([{"c": i} for i in range(200_000)]),
        "[not json",
        list(range(100_000)),
        {"deep": [[[[[[[[[[[[[[[["bottom"]]]]]]]]]]]]]]]]},
    ],
)
@pytest.mark.parametrize("type_", ["table", "markdown", "result", "html", "link", None, "odd"])
def test_document_never_fails_and_stays_bounded(type_, data):
    title, body = search.document_text(key="k", description="\x00 d", type=type_, data=data)
    assert title == "k d"
    assert len(body) <= search.BODY_CHARS
    body.encode("utf-8")  # no lone surrogates reach the database


def test_nested_data_is_read_without_recursion_limits():
    data = "bottom"
    for _ in range(50_000):
        data = [data]
    assert search.document_text(type="result", data=data)[1] == "bottom"


def test_every_write_keeps_the_index():
    first = services.artifact_create(key="nightly-report", type="markdown", data="alpha words")
    second = services.artifact_create(key="nightly-report", type="markdown", data="beta words")
    loose = services.artifact_create(type="result", data={"gamma": "delta"})
    assert SearchDocument.objects.count() == 3
    assert find("alpha") == [first.id]
    assert find("gamma") == [loose.id]
    services.artifact_update(artifact_id=first.id, data="epsilon", description="Renamed thing")
    assert find("alpha") == []
    assert find("epsilon renamed") == [first.id]
    services.artifact_update(artifact_id=first.id, metadata={"owner": "zeta"})
    assert find("zeta epsilon") == [first.id]
    services.artifact_update(artifact_id=first.id, description="only the title")
    assert find("zeta epsilon only title") == [first.id]
    services.artifact_delete(artifact_id=second.id)
    assert find("beta") == []
    services.artifact_delete_key(key="nightly-report")
    assert find("epsilon") == []
    Artifact.objects.filter(pk=loose.pk).delete()  # any delete, even outside services
    assert SearchDocument.objects.count() == 0
    assert find("gamma") == []


def test_retention_drops_documents_with_versions():
    for i in range(5):
        services.artifact_create(key="metrics", type="markdown", data=f"run number{i}")
    services.artifact_prune(keep_last=2)
    assert SearchDocument.objects.count() == 2
    assert len(find("number")) == 2


def test_words_in_any_order_prefixes_phrases_and_ranking():
    report = services.artifact_create(
        key="nightly-report", type="markdown", description="Data quality",
        data="All checks passed for the orders table",
    )  # fmt: skip
    other = services.artifact_create(
        key="weekly-summary", type="markdown", data="the report of orders, nightly checks"
    )
    assert set(find("report nightly")) == {report.id, other.id}
    assert find("report nightly")[0] == report.id  # in the key (title) ranks first
    assert set(find("nigh rep")) == {report.id, other.id}
    assert find('"checks passed"') == [report.id]
    assert find('"passed checks"') == []
    assert find("nightly-report") == [report.id]  # a bare hyphenated word is a phrase
    assert find("quality") == [report.id]


def test_older_versions_match_and_ids_and_dates_filter():
    run, task = uuid.uuid4(), uuid.uuid4()
    old = services.artifact_create(
        key="model", type="result", description="baseline tuning", data={}, flow_run_id=run
    )
    new = services.artifact_create(key="model", type="result", data={}, task_run_id=task)
    assert find("baseline") == [old.id]
    assert find(str(run)) == [old.id]
    assert find(task.hex.upper()) == [new.id]
    assert find(f"{new.id}") == [new.id]
    assert find(f"baseline {task}") == []
    assert set(find("", flow_run=run)) == {old.id}
    query = search.parse_query("baseline")
    query.start = timezone.now() + dt.timedelta(days=1)
    assert search.search_versions(query).hits == []
    query.start, query.end = timezone.now() - dt.timedelta(days=1), timezone.now()
    assert [h.id for h in search.search_versions(query).hits] == [old.id]


ODD = [
    '"', '""', '"unclosed phrase', "*", "**", "-", "--x", "NEAR", "NEAR(a b)", "a OR b", "a AND",
    "NOT", "^", "(", ")", "title:x", "body:", "'", "\\", "a:*", "!", "&|", "<->", "\x00",
    "a\x00b", "\ud800", "日本語 テスト", "ﬁ", "é", " ".join(f"w{i}" for i in range(1000)),
    "x" * 5000, "0190f1e4", "{}", "%", "%%s", "?", ":", "'':*",
]  # fmt: skip


@pytest.mark.parametrize("text", ODD)
def test_odd_queries_never_fail(text):
    services.artifact_create(key="plain", type="markdown", data="words here")
    search.search_versions(search.parse_query(text))


def test_too_many_words_are_cut():
    query = search.parse_query(" ".join(f"w{i}" for i in range(1000)))
    assert len(query.prefixes) == search.MAX_TERMS
    assert query.truncated


def test_many_matches_are_capped_to_the_newest(monkeypatch):
    monkeypatch.setattr(search, "CANDIDATES", 3)
    made = [services.artifact_create(type="markdown", data=f"common {i}") for i in range(5)]
    hits = search.search_versions(search.parse_query("common"))
    assert hits.capped
    assert {h.id for h in hits.hits} == {a.id for a in made[-3:]}


def test_rebuild_command_rewrites_documents(capsys):
    services.artifact_create(key="a", type="markdown", data="kept words")
    Artifact.objects.bulk_create([Artifact(key=None, type="markdown", data="bulk loaded")])
    assert find("bulk") == []
    call_command("rebuild_search_index")
    assert "Indexed 2 versions" in capsys.readouterr().out
    assert len(find("bulk")) == 1
    assert len(find("kept")) == 1


def test_imported_versions_are_searchable_and_reindexed_when_updated():
    when = timezone.now() - dt.timedelta(days=3)
    row = {
        "id": uuid.uuid4(), "key": "imported", "type": "markdown", "description": "from prefect",
        "data": "# Imported words", "metadata": None, "flow_run_id": None, "task_run_id": None,
        "created": when, "updated": when,
    }  # fmt: skip
    services.artifacts_import(rows=[row])
    assert find("imported words prefect") == [row["id"]]
    later = {**row, "data": "# Replaced text", "updated": when + dt.timedelta(hours=1)}
    services.artifacts_import(rows=[later])
    assert find("imported words") == []
    assert find("replaced prefect") == [row["id"]]


def test_progress_updates_leave_the_document_alone_other_updates_refresh_it():
    bar = services.artifact_create(
        key="training", type="progress", data=0.0, description="epoch loop", metadata={"team": "ml"}
    )
    report = services.artifact_create(key="nightly", type="markdown", data="old words")
    SearchDocument.objects.filter(artifact_id=bar.pk).update(body="kept as it was")
    services.artifact_update(artifact_id=bar.pk, data=55.0)
    assert SearchDocument.objects.get(artifact_id=bar.pk).body == "kept as it was"
    services.artifact_update(artifact_id=bar.pk, metadata={"team": "vision"})
    assert "vision" in SearchDocument.objects.get(artifact_id=bar.pk).body.split()
    services.artifact_update(artifact_id=report.pk, data="fresh words")
    assert find("fresh") == [report.pk]
    assert find("old") == []


def test_words_beyond_ascii_match_on_both_databases():
    made = services.artifact_create(
        key="intl", type="markdown", data="Café in Zürich; 東京 report; Ελληνικά κείμενα"
    )
    for text in ("zürich", "ZÜRICH café", "東京", "ελληνικά", '"café in zürich"'):
        assert find(text) == [made.id], text
    assert find("zurich") == []  # accents are kept, as PostgreSQL's `simple` keeps them


def test_a_prefix_standing_for_few_or_many_words(monkeypatch):
    monkeypatch.setattr(search, "PREFIX_WORDS", 8)
    made = [services.artifact_create(type="markdown", data=f"token{i} shared") for i in range(12)]
    assert len(find("token")) == 12  # more words than PREFIX_WORDS: a prefix query
    assert set(find("token1")) == {made[1].id, made[10].id, made[11].id}  # as whole words
    assert set(find("token1 shared")) == {made[1].id, made[10].id, made[11].id}
    assert find("tokez") == []
    assert find("zzz token") == []


def test_sqlite_keeps_a_list_of_every_indexed_word(on_postgres):
    if on_postgres:
        pytest.skip("PostgreSQL's GIN index needs no word list")
    from django.db import connection

    made = services.artifact_create(key="listed", type="markdown", data="first words")
    services.artifact_update(artifact_id=made.id, data="second", description="third")

    def listed(term):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {search.FTS_TERMS} WHERE term = %s", [term])
            return cursor.fetchone()[0]

    assert [listed(t) for t in ("listed", "first", "words", "second", "third")] == [1] * 5
    Artifact.objects.bulk_create([Artifact(type="markdown", data="unlisted")])
    call_command("rebuild_search_index")
    assert listed("unlisted") == 1


@pytest.mark.parametrize("few_runs", [True, False])
def test_flow_filter_by_run_list_or_subquery(monkeypatch, few_runs):
    if not few_runs:
        monkeypatch.setattr(search, "FLOW_RUNS", 0)  # a flow with more runs than listed
    etl, other = uuid.uuid4(), uuid.uuid4()
    services.run_upsert(
        runs=[
            {"id": etl, "kind": "flow", "name": "a", "flow_name": "etl"},
            {"id": other, "kind": "flow", "name": "b", "flow_name": "other"},
        ]
    )
    mine = services.artifact_create(key="mine", type="markdown", data="rows", flow_run_id=etl)
    services.artifact_create(key="theirs", type="markdown", data="rows", flow_run_id=other)
    assert find("rows", flow="etl") == [mine.id]
    assert find("", flow="etl") == [mine.id]
    assert find("rows", flow="nobody") == []

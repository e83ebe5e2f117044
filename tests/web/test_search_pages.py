"""The list's search as a user meets it: words in any order, a phrase inside a report, an older
version's description, a run id, a date range, a flow-run filter, odd input; keys shown once with
the version that matched; on both databases."""

import datetime as dt
import re
import uuid

import pytest
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from artifacts_app import search
from artifacts_app.models import Artifact
from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def keys_on(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'class="card-title" href="/artifacts/key/([^/]+)/"', html)


def test_two_words_in_any_order(client):
    ArtifactFactory(key="nightly-report", data="# All checks passed")
    ArtifactFactory(key="weekly-report", data="# Fine")
    assert keys_on(client.get("/artifacts/?q=nightly report")) == ["nightly-report"]
    assert keys_on(client.get("/artifacts/?q=report nightly")) == ["nightly-report"]
    assert keys_on(client.get("/artifacts/?q=REP nigh")) == ["nightly-report"]
    assert sorted(keys_on(client.get("/artifacts/?q=report"))) == [
        "nightly-report",
        "weekly-report",
    ]


def test_a_phrase_inside_a_report_and_a_table_cell(client):
    ArtifactFactory(key="dq", data="# Data quality\n\nThe **freshness check failed** on orders.")
    ArtifactFactory(key="other", data="failed freshness of the check")
    ArtifactFactory(key="sales", type="table", data='[{"region": "North Sea", "amount": 3}]')
    assert keys_on(client.get('/artifacts/?q="freshness check failed"')) == ["dq"]
    assert sorted(keys_on(client.get("/artifacts/?q=freshness failed"))) == ["dq", "other"]
    assert keys_on(client.get("/artifacts/?q=north sea")) == ["sales"]


def test_an_older_versions_description_finds_the_key_and_says_which_version(client):
    old = ArtifactFactory(key="model", description="baseline with dropout", data="# v1")
    ArtifactFactory(key="model", description="tuned", data="# v2")
    response = client.get("/artifacts/?q=dropout")
    assert keys_on(response) == ["model"]
    assertContains(response, "Matched in")
    assertContains(response, f'href="/artifacts/artifact/{old.id}/"')
    latest = client.get("/artifacts/?q=tuned")
    assert keys_on(latest) == ["model"]
    assertNotContains(latest, "Matched in")


def test_a_run_id_finds_what_the_run_made(client):
    run, task = uuid.uuid4(), uuid.uuid4()
    ArtifactFactory(key="in-run", flow_run_id=run, task_run_id=task)
    ArtifactFactory(key="elsewhere", flow_run_id=uuid.uuid4())
    loose = ArtifactFactory(key=None, description="stray", flow_run_id=run)
    assert keys_on(client.get(f"/artifacts/?q={run}")) == ["in-run"]
    assert keys_on(client.get(f"/artifacts/?q={task}")) == ["in-run"]
    unkeyed = client.get(f"/artifacts/?tab=unkeyed&q={run}")
    assertContains(unkeyed, f"/artifacts/artifact/{loose.id}/")
    assert keys_on(client.get(f"/artifacts/?flow_run={run}")) == ["in-run"]
    assert keys_on(client.get(f"/artifacts/?flow_run={run}&q=elsewhere")) == []


def test_a_date_range(client):
    ArtifactFactory(key="old-report")
    ArtifactFactory(key="new-report")
    long_ago = timezone.now() - dt.timedelta(days=40)
    Artifact.objects.filter(key="old-report").update(created=long_ago)
    from artifacts_app.models import SearchDocument

    SearchDocument.objects.filter(artifact__key="old-report").update(created=long_ago)
    today = timezone.localdate()
    recent = client.get(f"/artifacts/?q=report&from={today - dt.timedelta(days=7)}")
    assert keys_on(recent) == ["new-report"]
    older = client.get(f"/artifacts/?q=report&to={today - dt.timedelta(days=30)}")
    assert keys_on(older) == ["old-report"]
    day = (timezone.localtime(long_ago)).date()
    assert keys_on(client.get(f"/artifacts/?from={day}&to={day}")) == ["old-report"]


@pytest.mark.parametrize("text", ['"', '"open', "*", "NEAR(a b)", "-", "a\x00b", "'", "%", "\\"])
def test_odd_query_strings_answer_a_page(client, text):
    ArtifactFactory(key="plain")
    response = client.get("/artifacts/", {"q": text})
    assert response.status_code == 200
    assert client.get("/artifacts/", {"q": text, "tab": "unkeyed"}, headers=HX).status_code == 200


def test_a_thousand_words_and_bad_filters_are_named_not_errors(client):
    ArtifactFactory(key="plain")
    response = client.get(
        "/artifacts/",
        {"q": " ".join(["word"] * 1000), "from": "yesterday", "to": "2026-13-45", "flow_run": "x"},
    )
    assert response.status_code == 200
    assertContains(response, "is not a date (from)")
    assertContains(response, "is not a flow run id")
    assertContains(response, f"only the first {search.MAX_TERMS} words")


def test_search_fragment_is_a_fragment_with_server_timing_and_no_polling(client):
    ArtifactFactory(key="one")
    response = client.get("/artifacts/?q=one", headers=HX)
    assert response.content.lstrip().startswith(b'<section id="results"')
    assertNotContains(response, "hx-trigger")
    assert re.search(r"search;dur=[\d.]+", response["Server-Timing"])
    assert "HX-Request" in response["Vary"]
    assert "search;dur" not in client.get("/artifacts/")["Server-Timing"]


def test_many_matches_say_so(client, monkeypatch):
    monkeypatch.setattr(search, "CANDIDATES", 2)
    for i in range(4):
        ArtifactFactory(key=f"common-{i}")
    response = client.get("/artifacts/?q=common")
    assert len(keys_on(response)) == 2
    assertContains(response, "More than 2 versions match")


def test_search_pages_by_key(client):
    for i in range(30):
        ArtifactFactory(key=f"report-{i:02d}")
    first = client.get("/artifacts/?q=report")
    assert len(keys_on(first)) == 25
    second = client.get("/artifacts/?q=report&page=2")
    assert len(keys_on(second)) == 5
    assert not set(keys_on(first)) & set(keys_on(second))
    by_key = keys_on(client.get("/artifacts/?q=report&sort=key"))
    assert by_key == sorted(by_key)


def test_help_page(client):
    assertContains(client.get("/artifacts/search/"), "How search works")


def test_search_finds_runs_by_flow_and_run_name_and_filters_by_flow(client):
    from artifacts_app import services

    etl, other = uuid.uuid4(), uuid.uuid4()
    services.run_upsert(
        runs=[
            {"id": etl, "kind": "flow", "name": "crimson-tiger", "flow_name": "nightly-etl"},
            {"id": other, "kind": "flow", "name": "blue-fox", "flow_name": "weekly-etl"},
        ]
    )
    ArtifactFactory(key="etl-report", data="# rows loaded", flow_run_id=etl)
    ArtifactFactory(key="weekly-report", data="# rows loaded", flow_run_id=other)
    response = client.get("/artifacts/?q=crimson")
    assertContains(response, f'href="/runs/flow-run/{etl}/"')
    assertContains(response, "nightly-etl / crimson-tiger")
    assert sorted(keys_on(client.get("/artifacts/?q=rows"))) == ["etl-report", "weekly-report"]
    assert keys_on(client.get("/artifacts/?q=rows&flow=nightly-etl")) == ["etl-report"]
    assert keys_on(client.get("/artifacts/?flow=weekly-etl")) == ["weekly-report"]


def test_a_piece_of_a_run_id_as_cards_show_it_lists_the_run(client):
    from artifacts_app import services

    run = uuid.UUID("0190f1e4-1111-7222-8333-444455556666")
    services.run_upsert(runs=[{"id": run, "kind": "flow", "name": "", "flow_name": ""}])
    ArtifactFactory(key="made", flow_run_id=run)
    response = client.get("/artifacts/?q=444455556666")
    assertContains(response, f'href="/runs/flow-run/{run}/"')


@pytest.mark.parametrize(
    "day",
    ["0001-01-01", "9999-12-31", "2026-02-30", "2026-01-01T25:00", "2026-01-01T10:00+14:00",
     "9999-12-31T23:59:59.999999", "-1", "2026-1-1", "\x00", "２０２６-01-01"],
)  # fmt: skip
def test_odd_dates_answer_a_page(client, day):
    ArtifactFactory(key="plain")
    for params in ({"from": day}, {"to": day}, {"from": day, "to": day, "q": "plain"}):
        assert client.get("/artifacts/", params).status_code == 200

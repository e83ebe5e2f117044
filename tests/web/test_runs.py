"""Runs by name: /runs/, run pages, and every place a run appears (cards, key page, artifact page,
breadcrumbs, sidebar), with ids that share their first characters (time-ordered UUIDs)."""

import datetime as dt
import uuid

import pytest

from artifacts_app import services
from artifacts_app.models import FLOW_RUN, TASK_RUN
from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db

# Time-ordered ids of one millisecond: the same first 8 (and 16) characters.
FLOW_A = uuid.UUID("0190f1e4-7a3b-7000-8000-00000000000a")
FLOW_B = uuid.UUID("0190f1e4-7a3b-7000-8000-00000000000b")
FLOW_C = uuid.UUID("0190f1e4-7a3b-7000-8000-00000000000c")  # never named
TASK_1 = uuid.UUID("0190f1e4-7a3b-7000-8000-000000000001")
TASK_2 = uuid.UUID("0190f1e4-7a3b-7000-8000-000000000002")
TASK_3 = uuid.UUID("0190f1e4-7a3b-7000-8000-000000000003")  # never named
T0 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def named_runs():
    services.run_upsert(
        runs=[
            {"id": FLOW_A, "kind": FLOW_RUN, "name": "crimson-tiger", "flow_name": "nightly-etl",
             "start_time": T0, "state": "COMPLETED"},
            {"id": FLOW_B, "kind": FLOW_RUN, "name": "amber-otter", "flow_name": "train-model",
             "start_time": T0 + dt.timedelta(hours=1), "state": "RUNNING"},
            {"id": TASK_1, "kind": TASK_RUN, "name": "extract-0", "flow_run_id": FLOW_A},
            {"id": TASK_2, "kind": TASK_RUN, "name": "load-0", "flow_run_id": FLOW_A},
        ]
    )  # fmt: skip
    ArtifactFactory(key="orders", flow_run_id=FLOW_A)
    ArtifactFactory(key="extract-report", flow_run_id=FLOW_A, task_run_id=TASK_1, table=True)
    ArtifactFactory(key="load-report", flow_run_id=FLOW_A, task_run_id=TASK_2)
    ArtifactFactory(key="stray-task", flow_run_id=FLOW_A, task_run_id=TASK_3)
    ArtifactFactory(key="loss", flow_run_id=FLOW_B, progress=True)
    ArtifactFactory(key="unnamed", flow_run_id=FLOW_C)


def test_cards_name_runs_and_unnamed_runs_differ(client, named_runs):
    html = client.get("/artifacts/").content.decode()
    assert (
        f'<a class="run-link" href="/runs/flow-run/{FLOW_A}/" title="Flow run {FLOW_A}">'
        'flow run <span class="run-name">nightly-etl / crimson-tiger</span></a>'
    ) not in html  # named runs do not need the words
    assert (
        f'<a class="run-link" href="/runs/flow-run/{FLOW_A}/" title="Flow run {FLOW_A}">'
        '<span class="run-name">nightly-etl / crimson-tiger</span></a>'
    ) in html
    assert "train-model / amber-otter" in html
    assert f"flow run <code>{str(FLOW_C)[-12:]}</code>" in html
    assert "0190f1e4<" not in html  # never the shared prefix alone
    listed = client.get("/artifacts/?view=list").content.decode()
    assert "nightly-etl / crimson-tiger" in listed
    assert f"<code>{str(FLOW_C)[-12:]}</code>" in listed


def test_run_page_names_the_run_and_its_task_runs(client, named_runs, django_assert_num_queries):
    with django_assert_num_queries(2):  # the run's artifacts, its runs' names
        html = client.get(f"/runs/flow-run/{FLOW_A}/").content.decode()
    assert '<span class="run-name">nightly-etl / crimson-tiger</span>' in html
    assert f"<code>{FLOW_A}</code>" in html  # the full id
    crumbs = html[html.index('class="crumbs"') : html.index("</nav>", html.index('class="crumbs"'))]
    assert '<a href="/runs/">Runs</a>' in crumbs
    assert '<a href="/runs/?flow=nightly-etl">nightly-etl</a>' in crumbs
    assert "<span>crimson-tiger</span>" in crumbs
    for task, name in [(TASK_1, "extract-0"), (TASK_2, "load-0")]:
        assert (
            f'Task run <a class="run-name" href="/runs/task-run/{task}/" title="Task run {task}">'
            f"{name}</a>"
        ) in html
    assert f"<code>{str(TASK_3)[-12:]}</code>" in html
    assert "COMPLETED" in html
    assert "Open in Prefect" not in html


def test_task_run_page_and_its_breadcrumb(client, named_runs):
    html = client.get(f"/runs/task-run/{TASK_1}/").content.decode()
    assert "extract-report" in html
    assert "load-report" not in html
    crumbs = html[html.index('class="crumbs"') : html.index("</nav>", html.index('class="crumbs"'))]
    assert (
        f'<a href="/runs/flow-run/{FLOW_A}/" title="Flow run {FLOW_A}">crimson-tiger</a>' in crumbs
    )
    assert "<span>extract-0</span>" in crumbs
    unnamed = client.get(f"/runs/task-run/{TASK_3}/").content.decode()
    assert f"<code>{str(TASK_3)[-12:]}</code>" in unnamed
    assert "stray-task" in unnamed
    assert client.get("/runs/task-run/not-a-uuid/").status_code == 404
    assert client.get("/runs/flow-run/not-a-uuid/").status_code == 404


def test_artifact_and_key_pages_name_their_runs(client, named_runs):
    from artifacts_app.models import Artifact

    artifact = Artifact.objects.get(key="extract-report")
    html = client.get(f"/artifacts/artifact/{artifact.pk}/").content.decode()
    assert '<span class="run-name">nightly-etl / crimson-tiger</span>' in html
    assert (
        f'<a class="run-link" href="/runs/task-run/{TASK_1}/" title="Task run {TASK_1}">'
        '<span class="run-name">extract-0</span></a>'
    ) in html
    sidebar = html[html.index('id="run-nav-label"') :]
    assert "nightly-etl / crimson-tiger" in sidebar[: sidebar.index("</nav>")]
    key = client.get("/artifacts/key/loss/").content.decode()
    assert key.count("train-model / amber-otter") == 2  # latest version + history entry


def test_runs_index_newest_first_with_counts_types_and_search(client, named_runs):
    html = client.get("/runs/").content.decode()
    assert "<strong>3</strong> flow runs" in html
    # FLOW_B started last; FLOW_C has no start time: first seen (now), so newest.
    order = [html.index(str(FLOW_C)[-12:]), html.index("amber-otter"), html.index("crimson-tiger")]
    assert order == sorted(order)
    row_a = html[html.index("crimson-tiger") :]
    row_a = row_a[: row_a.index("</tr>")]
    assert '<td class="num">4</td>' in row_a
    assert 'class="badge type-markdown">markdown</span>' in row_a
    assert 'class="badge type-table">table</span>' in row_a
    for q, expected, absent in [
        ("nightly", "crimson-tiger", "amber-otter"),
        ("OTTER", "amber-otter", "crimson-tiger"),
        (str(FLOW_B), "amber-otter", "crimson-tiger"),
        (str(FLOW_A)[-12:], "crimson-tiger", "amber-otter"),
        ("crimson tiger", "crimson-tiger", "amber-otter"),  # words in any order
        ("tiger nightly", "crimson-tiger", "amber-otter"),
        ("nightly-etl / crimson-tiger", "crimson-tiger", "amber-otter"),  # as pages show it
        ("model otter", "amber-otter", "crimson-tiger"),
    ]:
        found = client.get("/runs/", {"q": q}).content.decode()
        assert expected in found, q
        assert absent not in found, q
    flow = client.get("/runs/", {"flow": "train-model"}).content.decode()
    assert "amber-otter" in flow
    assert "crimson-tiger" not in flow
    assert "No flow runs match" in client.get("/runs/", {"q": "zzz"}).content.decode()
    assert "No flow runs match" in client.get("/runs/", {"q": "crimson otter"}).content.decode()


def test_artifacts_list_filters_by_flow(client, named_runs):
    html = client.get("/artifacts/", {"flow": "nightly-etl"}).content.decode()
    assert '<option value="nightly-etl" selected>nightly-etl</option>' in html
    assert '<option value="train-model">train-model</option>' in html
    for key in ["orders", "extract-report", "load-report", "stray-task"]:
        assert f'href="/artifacts/key/{key}/"' in html
    assert 'href="/artifacts/key/loss/"' not in html
    assert 'href="/artifacts/key/unnamed/"' not in html
    ArtifactFactory(key=None, flow_run_id=FLOW_B, description="stray")
    unkeyed = client.get("/artifacts/", {"flow": "train-model", "tab": "unkeyed"}).content.decode()
    assert "stray" in unkeyed
    assert (
        "stray"
        not in client.get("/artifacts/", {"flow": "nightly-etl", "tab": "unkeyed"}).content.decode()
    )


def test_runs_link_to_prefect_ui_when_configured(client, named_runs, settings):
    settings.ARTIFACTS_PREFECT_UI_URL = "http://prefect.example:4200"
    html = client.get(f"/runs/flow-run/{FLOW_A}/").content.decode()
    assert f'href="http://prefect.example:4200/runs/flow-run/{FLOW_A}"' in html
    assert f'href="http://prefect.example:4200/runs/task-run/{TASK_1}"' in html
    index = client.get("/runs/").content.decode()
    assert f'href="http://prefect.example:4200/runs/flow-run/{FLOW_B}"' in index
    from artifacts_app.models import Artifact

    artifact = Artifact.objects.get(key="extract-report")
    page = client.get(f"/artifacts/artifact/{artifact.pk}/").content.decode()
    assert f'href="http://prefect.example:4200/runs/task-run/{TASK_1}"' in page


def test_a_hostile_name_is_text(client):
    services.run_upsert(
        runs=[{"id": FLOW_A, "kind": FLOW_RUN, "name": "<script>x</script>", "flow_name": "<b>"}]
    )
    ArtifactFactory(key="k", flow_run_id=FLOW_A)
    for page in ["/artifacts/", "/runs/", f"/runs/flow-run/{FLOW_A}/", "/artifacts/key/k/"]:
        html = client.get(page).content.decode()
        assert "<script>x" not in html, page
        assert "&lt;script&gt;x" in html, page


def test_runs_search_fragment_and_page_share_the_url(client, named_runs):
    fragment = client.get("/runs/", {"q": "otter"}, headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert body.startswith('<section id="run-results"')
    assert "amber-otter" in body
    assert "crimson-tiger" not in body
    assert fragment["Cache-Control"] == "no-store"
    assert "HX-Request" in fragment["Vary"]
    page = client.get("/runs/", {"q": "otter"})
    assert page.content.decode().lstrip().startswith("<!doctype html>")
    assert page["Cache-Control"] == "private, no-cache"

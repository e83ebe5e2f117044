"""Versions are numbered everywhere alike (history, compare form, artifact page), each history
row compares with the previous version, the key page notices a new version, navigation is
labelled and empty metadata says so (issue 14, items 8 and 9)."""

import re
import uuid

import pytest
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from artifacts_app import services
from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def test_history_rows_carry_version_numbers_like_the_compare_form(client):
    versions = [ArtifactFactory(key="k", data=f"# {n}") for n in range(1, 26)]
    html = client.get("/artifacts/key/k/").content.decode()
    rows = re.findall(r'<a class="version-no" href="/artifacts/artifact/([^/]+)/">v(\d+)</a>', html)
    assert [int(n) for _, n in rows] == list(range(25, 5, -1))  # newest first, 20 per page
    assert rows[0][0] == str(versions[-1].pk)
    options = re.findall(r'<option value="([^"]+)"[^>]*>v(\d+) ·', html)
    assert dict(options)[str(versions[-1].pk)] == "25"
    assert dict(options)[str(versions[0].pk)] == "1"
    older = client.get("/artifacts/key/k/?page=2", headers=HX).content.decode()
    numbers = re.findall(r'class="version-no"[^>]*>v(\d+)<', older)
    assert numbers == ["5", "4", "3", "2", "1"]


def test_each_history_row_compares_with_the_previous_version(client):
    first, second, third = (ArtifactFactory(key="k", data=f"# {n}") for n in range(3))
    html = client.get("/artifacts/key/k/").content.decode()
    assert f'href="/artifacts/key/k/diff/?b={third.pk}">compare with v2</a>' in html
    assert f'href="/artifacts/key/k/diff/?b={second.pk}">compare with v1</a>' in html
    assert html.count("compare-previous") == 2  # v1 has nothing before it
    response = client.get(f"/artifacts/key/k/diff/?b={third.pk}")
    assertRedirects(response, f"/artifacts/key/k/diff/?b={third.pk}&a={second.pk}")


def test_key_page_watches_for_a_new_version_and_backs_off(client):
    shown = ArtifactFactory(key="k")
    html = client.get("/artifacts/key/k/").content.decode()
    watcher = re.search(
        r'<div id="new-version" hidden\s+hx-get="([^"]+)" hx-trigger="([^"]+)"', html
    )
    assert watcher.group(2) == "load delay:5s"
    url = watcher.group(1).replace("&amp;", "&")
    assert url == f"/artifacts/key/k/new/?since={shown.pk}&wait=5"
    waits = []
    for _ in range(6):  # nothing new: the watcher comes back, checking later each time
        response = client.get(url, headers=HX)
        assert response.status_code == 200
        found = re.search(
            r'hx-get="([^"]+)" hx-trigger="load delay:(\d+)s"', response.content.decode()
        )
        url = found.group(1).replace("&amp;", "&")
        waits.append(int(found.group(2)))
    assert waits == [10, 20, 40, 60, 60, 60]
    ArtifactFactory(key="k")
    newest = ArtifactFactory(key="k")
    response = client.get(url, headers=HX)
    assert response.status_code == 286  # htmx: stop polling
    assertNotContains(response, "hx-trigger", status_code=286)
    assertContains(response, "A new version of k arrived", status_code=286)
    assertContains(response, "(2 new versions)", status_code=286)
    assertContains(response, f"?a={shown.pk}&amp;b={newest.pk}", status_code=286)
    assert client.get("/artifacts/key/nope/new/?since=x", headers=HX).status_code == 404


def test_new_version_watch_costs_one_query(client, django_assert_num_queries):
    shown = ArtifactFactory(key="k")
    with django_assert_num_queries(1):
        client.get(f"/artifacts/key/k/new/?since={shown.pk}&wait=5", headers=HX)


def test_artifact_page_navigation_is_labelled(client):
    run = uuid.uuid4()
    ArtifactFactory(key="orders-export", flow_run_id=run)
    first = ArtifactFactory(key="report", flow_run_id=run, metadata={})
    ArtifactFactory(key="eval-metrics", flow_run_id=run)
    second = ArtifactFactory(key="report")
    html = client.get(f"/artifacts/artifact/{first.pk}/").content.decode()
    assert 'id="versions-label">Versions of this key:</span>' in html
    assert "<strong>v1</strong> of 2" in html
    assert f'<a href="/artifacts/artifact/{second.pk}/" rel="next">v2 →</a>' in html
    assert '<h2 id="run-nav-label">Same flow run</h2>' in html
    assert "← orders-export</a>" in html
    assert "eval-metrics →</a>" in html
    assert "No metadata was sent with this version." in html
    main = html[html.index("<main") : html.index("</main>")]
    assert ">None<" not in main


def test_runs_are_shown_through_one_include(client):
    run, task = uuid.uuid4(), uuid.uuid4()
    artifact = services.artifact_create(
        key="k", type="markdown", data="x", flow_run_id=run, task_run_id=task
    )
    pages = ["/artifacts/", "/artifacts/key/k/", f"/artifacts/artifact/{artifact.pk}/"]
    for page in pages:
        html = client.get(page).content.decode()
        assert f'<a class="run-link" href="/runs/flow-run/{run}/"' in html, page
    html = client.get(f"/artifacts/artifact/{artifact.pk}/").content.decode()
    assert f'<a class="run-link" href="/runs/task-run/{task}/" title="Task run {task}">' in html

"""Dashboard pages rendered to real HTML, with every page's query count pinned."""

import uuid

import pytest
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains

from artifacts_app import services
from artifacts_app.models import Artifact
from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def test_root_redirects_to_artifacts(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/artifacts/"


def test_list_shows_latest_version_of_each_key(client, django_assert_num_queries):
    ArtifactFactory(key="loss", data="# old", description="first")
    ArtifactFactory(key="loss", data="# new", description="second **bold**")
    ArtifactFactory(key="report", table=True)
    ArtifactFactory(key=None, description="stray")
    # count, a page of collections with their latest, versions per key, the flow names
    with django_assert_num_queries(4):
        response = client.get("/artifacts/")
    assertContains(
        response, '<a class="card-title" href="/artifacts/key/loss/">loss</a>', html=True
    )
    assertContains(response, "<strong>bold</strong>", html=True)
    assertNotContains(response, "first")
    assertNotContains(response, "stray")
    assertContains(response, "<strong>2</strong>", html=True)


def test_unkeyed_tab(client):
    ArtifactFactory(key=None, description="stray note")
    ArtifactFactory(key="keyed")
    response = client.get("/artifacts/?tab=unkeyed")
    assertContains(response, "stray note")
    assertNotContains(response, "/artifacts/key/keyed/")


def test_search_and_type_filter_narrow_the_list(client):
    ArtifactFactory(key="alpha-report", description="daily numbers")
    ArtifactFactory(key="beta", description="has the Needle inside")
    ArtifactFactory(key="gamma", table=True)
    by_key = client.get("/artifacts/?q=alpha")
    assertContains(by_key, "alpha-report")
    assertNotContains(by_key, "/artifacts/key/beta/")
    by_description = client.get("/artifacts/?q=needle")
    assertContains(by_description, "/artifacts/key/beta/")
    assertNotContains(by_description, "alpha-report")
    tables = client.get("/artifacts/?type=table")
    assertContains(tables, "/artifacts/key/gamma/")
    assertNotContains(tables, "/artifacts/key/beta/")


def test_htmx_request_gets_only_the_results_partial(client):
    ArtifactFactory(key="one")
    response = client.get("/artifacts/", headers=HX)
    assert b"<html" not in response.content
    assert response.content.lstrip().startswith(b'<section id="results"')
    # page 1 without a search polls for new artifacts
    assertContains(response, 'hx-trigger="every 5s"')
    searching = client.get("/artifacts/?q=one", headers=HX)
    assertNotContains(searching, "hx-trigger")


def test_list_paginates_with_total(client):
    for i in range(30):
        ArtifactFactory(key=f"k{i:02d}")
    first = client.get("/artifacts/?sort=key")
    assertContains(first, "Page 1 of 2")
    assertContains(first, "/artifacts/key/k00/")
    second = client.get("/artifacts/?sort=key&page=2")
    assertContains(second, "/artifacts/key/k29/")
    assertNotContains(second, "/artifacts/key/k00/")
    assert client.get("/artifacts/?page=999&sort=bogus").status_code == 200


def test_key_page_shows_latest_and_timeline(client, django_assert_num_queries):
    run = uuid.uuid4()
    old = ArtifactFactory(key="metrics", table=True, description="v1")
    new = ArtifactFactory(key="metrics", table=True, description="v2", flow_run_id=run)
    # collection+latest, count, one page of versions; trend chart and compare form (beyond):
    # the newest versions without data, the data of the charted table versions; the run's name
    with django_assert_num_queries(6):
        response = client.get("/artifacts/key/metrics/")
    assertContains(response, f'href="/artifacts/artifact/{old.pk}/"')
    assertContains(response, f'href="/artifacts/artifact/{new.pk}/"')
    assertContains(response, f'href="/runs/flow-run/{run}/"')
    assertContains(response, "2 versions")
    assert response.content.count(b'class="badge latest"') == 2  # header + newest timeline entry
    assert client.get("/artifacts/key/missing/").status_code == 404


def test_key_timeline_paginates(client):
    for i in range(25):
        ArtifactFactory(key="many", data=f"v{i}")
    response = client.get("/artifacts/key/many/?page=2", headers=HX)
    assert response.content.lstrip().startswith(b'<div id="timeline"')
    assertContains(response, "Page 2 of 2")


def test_artifact_page_has_neighbours_metadata_and_raw_json(client, django_assert_num_queries):
    first = ArtifactFactory(key="k", data="# one")
    middle = ArtifactFactory(key="k", data="# two", metadata={"rows": "12"})
    last = ArtifactFactory(key="k", data="# three")
    with django_assert_num_queries(4):  # the artifact, newer, older, its number
        response = client.get(f"/artifacts/artifact/{middle.pk}/")
    assertContains(
        response, f'<a href="/artifacts/artifact/{first.pk}/" rel="prev">← v1</a>', html=True
    )
    assertContains(
        response, f'<a href="/artifacts/artifact/{last.pk}/" rel="next">v3 →</a>', html=True
    )
    assertContains(response, "<dt>rows</dt><dd>12</dd>", html=True)
    assertContains(response, "<h1>two</h1>", html=True)
    assertContains(response, "Raw JSON")
    assert client.get(f"/artifacts/artifact/{uuid.uuid4()}/").status_code == 404
    assert client.get("/artifacts/artifact/not-a-uuid/").status_code == 404


def test_run_page_groups_by_task_run(client, django_assert_num_queries):
    run, task = uuid.uuid4(), uuid.uuid4()
    ArtifactFactory(key="flow-level", flow_run_id=run)
    ArtifactFactory(key="in-task", flow_run_id=run, task_run_id=task, table=True)
    ArtifactFactory(key="other-run", flow_run_id=uuid.uuid4())
    with django_assert_num_queries(2):  # the run's artifacts, its runs' names
        response = client.get(f"/runs/flow-run/{run}/")
    assertContains(response, "2 artifacts")
    assertContains(response, "in-task")
    assertContains(response, f"<code>{str(task)[-12:]}</code>", html=True)
    assertNotContains(response, "other-run")


def test_artifact_in_run_links_previous_and_next(client):
    run = uuid.uuid4()
    a = ArtifactFactory(key="a", flow_run_id=run)
    b = ArtifactFactory(key="b", flow_run_id=run)
    c = ArtifactFactory(key="c", flow_run_id=run)
    response = client.get(f"/artifacts/artifact/{b.pk}/")
    assertContains(response, f'href="/artifacts/artifact/{a.pk}/"')
    assertContains(response, f'href="/artifacts/artifact/{c.pk}/"')


def test_pages_need_login_when_reads_are_private(client, settings, staff_user):
    settings.ARTIFACTS_PUBLIC_READ = False
    artifact = ArtifactFactory(key="secret")
    for url in ["/artifacts/", "/artifacts/key/secret/", f"/artifacts/artifact/{artifact.pk}/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    client.force_login(staff_user)
    assert client.get("/artifacts/key/secret/").status_code == 200


def test_staff_delete_version_and_key_with_confirmation(staff_user, user):
    older = ArtifactFactory(key="k")
    newer = ArtifactFactory(key="k")
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.post(f"/artifacts/artifact/{newer.pk}/delete/").status_code in (302, 403)
    regular = Client()
    regular.force_login(user)
    assert regular.post(f"/artifacts/artifact/{newer.pk}/delete/").status_code == 403
    staff = Client(enforce_csrf_checks=True)
    staff.force_login(staff_user)
    confirm = staff.get(f"/artifacts/artifact/{newer.pk}/delete/")
    assertContains(confirm, "Delete this version?")
    assert staff.post(f"/artifacts/artifact/{newer.pk}/delete/").status_code == 403  # no CSRF token
    token = confirm.context["csrf_token"]
    done = staff.post(
        f"/artifacts/artifact/{newer.pk}/delete/", {"csrfmiddlewaretoken": str(token)}
    )
    assert done.status_code == 302
    assert list(Artifact.objects.for_key("k")) == [older]
    confirm_key = staff.get("/artifacts/key/k/delete/")
    assertContains(confirm_key, "Delete key")
    staff.post(
        "/artifacts/key/k/delete/", {"csrfmiddlewaretoken": str(confirm_key.context["csrf_token"])}
    )
    assert not Artifact.objects.filter(key="k").exists()


def test_admin_preview_renders_each_kind(client, staff_user):
    client.force_login(staff_user)
    progress = services.artifact_create(key="bar", type="progress", data=40)
    response = client.get(f"/admin/artifacts_app/artifact/{progress.pk}/change/")
    assertContains(response, '<progress value="40.0" max="100"')

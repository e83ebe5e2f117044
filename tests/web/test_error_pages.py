"""Error pages in the site's layout, with a way back and a search box; the diff page's defaults
(issue 14, item 6)."""

import pytest
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db


def assert_site_page(response, status):
    assert response.status_code == status
    html = response.content.decode()
    assert '<header class="topbar">' in html
    assert 'name="viewport"' in html
    assert 'name="color-scheme" content="light dark"' in html
    assert "app.css" in html
    assert '<form class="error-search" method="get" action="/artifacts/" role="search">' in html
    assert 'href="/artifacts/" data-history-back>← Back</a>' in html
    return html


def test_unknown_url_is_a_404_in_the_layout(client):
    html = assert_site_page(client.get("/no/such/page/"), 404)
    assert "Nothing here" in html
    assert "Resolver404" not in html
    assert "tried" not in html


def test_404_says_what_is_missing_and_suggests_the_key(client):
    html = assert_site_page(client.get("/artifacts/key/nightly-reprot/"), 404)
    assert 'value="nightly-reprot"' in html  # the search box offers the key
    assert "There is no key “nightly-reprot”." in html
    assert "matches the given query" not in html
    html = assert_site_page(client.get("/artifacts/artifact/not-a-uuid/"), 404)
    assert "No such artifact." in html


def test_404_escapes_the_url(client):
    response = client.get("/artifacts/key/%3Cscript%3Ealert(1)%3C%2Fscript%3E/")
    html = assert_site_page(response, 404)
    assert "<script>alert" not in html


def test_403_for_non_staff_delete_is_in_the_layout(client, user):
    client.force_login(user)
    artifact = ArtifactFactory(key="k")
    html = assert_site_page(client.get(f"/artifacts/artifact/{artifact.pk}/delete/"), 403)
    assert "Only staff can delete artifacts." in html


def test_csrf_failure_is_in_the_layout(staff_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    artifact = ArtifactFactory(key="k")
    html = assert_site_page(client.post(f"/artifacts/artifact/{artifact.pk}/delete/"), 403)
    assert "This form has expired" in html


def test_400_and_500_render_without_a_request():
    from django.template.loader import render_to_string

    for name in ("400.html", "500.html"):
        html = render_to_string(name)  # Django renders these with no context at all
        assert '<header class="topbar">' in html
        assert 'action="/artifacts/"' in html


def test_500_is_in_the_layout(client, settings, monkeypatch):
    from artifacts_app.web import views

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.ArtifactCollection.objects, "with_latest", broken)
    ArtifactFactory(key="k")
    client.raise_request_exception = False
    html = assert_site_page(client.get("/artifacts/key/k/"), 500)
    assert "Something went wrong" in html
    assert "boom" not in html


def test_bad_host_is_a_400_in_the_layout(client):
    client.raise_request_exception = False
    response = client.get("/artifacts/", headers={"Host": "evil.example"})
    assert_site_page(response, 400)


def test_diff_without_versions_redirects_to_the_two_newest(client):
    old = ArtifactFactory(key="k")
    middle = ArtifactFactory(key="k")
    newest = ArtifactFactory(key="k")
    response = client.get("/artifacts/key/k/diff/")
    assertRedirects(response, f"/artifacts/key/k/diff/?a={middle.pk}&b={newest.pk}")
    # Only b: a is the version before it. Only a: b is the newest.
    only_b = client.get(f"/artifacts/key/k/diff/?b={middle.pk}")
    assertRedirects(only_b, f"/artifacts/key/k/diff/?b={middle.pk}&a={old.pk}")
    only_a = client.get(f"/artifacts/key/k/diff/?a={old.pk}&key_column=x")
    assertRedirects(only_a, f"/artifacts/key/k/diff/?a={old.pk}&key_column=x&b={newest.pk}")
    page = client.get(response["Location"])
    assertContains(page, "version 2")
    assertContains(page, "version 3")


def test_diff_of_a_key_with_one_version_says_so(client):
    only = ArtifactFactory(key="single")
    response = client.get("/artifacts/key/single/diff/")
    assertContains(response, "has only one version so far")
    assertContains(response, f'href="/artifacts/artifact/{only.pk}/"')
    assertNotContains(response, 'role="alert"')

"""Pages and htmx fragments share URLs: Vary and Cache-Control keep them apart in caches, and a
history restore always gets the whole page (issue 14, item 1)."""

import pytest

from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}


def test_pages_and_fragments_vary_on_hx_request(client):
    ArtifactFactory(key="one")
    page = client.get("/artifacts/?q=one")
    fragment = client.get("/artifacts/?q=one", headers=HX)
    for response in (page, fragment):
        assert "HX-Request" in response["Vary"]
    assert page["Cache-Control"] == "private, no-cache"
    assert fragment["Cache-Control"] == "no-store"
    assert b"<html" in page.content
    assert b"<html" not in fragment.content


def test_a_history_restore_gets_the_whole_page(client):
    for i in range(3):
        ArtifactFactory(key=f"k{i}")
    restore = client.get("/artifacts/?q=k", headers=RESTORE)
    assert b"<header" in restore.content
    assert b"app.css" in restore.content
    key_page = client.get("/artifacts/key/k1/?page=1", headers=RESTORE)
    assert b"<header" in key_page.content
    trend = client.get("/artifacts/key/k1/trend/", headers=RESTORE)
    assert trend.status_code == 302  # to the key page, as for any non-htmx request


def test_base_page_configures_htmx_history_for_full_pages(client):
    ArtifactFactory(key="one")
    html = client.get("/artifacts/").content.decode()
    assert '"historyCacheSize": 0' in html
    assert '"historyRestoreAsHxRequest": false' in html


def test_answers_with_their_own_cache_control_keep_it(client, admin_client):
    artifact = ArtifactFactory(key="h", type="html", data="<p>hi</p>")
    document = client.get(f"/artifacts/artifact/{artifact.pk}/html/")
    assert document["Cache-Control"] == "private, max-age=0"
    login = admin_client.get("/admin/")
    assert "no-cache" in login["Cache-Control"]
    assert "private" in login["Cache-Control"]
    api = client.get("/api/artifacts/")
    assert "HX-Request" not in api.get("Vary", "")

"""Data that does not fit its type's renderer (any JSON is accepted for any type, as on Prefect's
server): every page, fragment, download and admin screen shows it without failing, as formatted
JSON with a one-line note, a clamped bar with the stored value, or a URL as text."""

import json
import re
import uuid

import pytest
from django.test import Client

from artifacts_app import services
from artifacts_app.models import Artifact

pytestmark = pytest.mark.django_db

RUN = uuid.UUID("0190f1e4-0000-7000-8000-000000000001")

# (type, data, what the artifact page must say)
ODD = [
    ("table", 1, "not a table: shown as JSON"),
    ("table", "{not json", "not a table: shown as JSON"),
    ("table", {"new": "data"}, "not a table: shown as JSON"),
    ("table", [1, "a", None], "not a table: shown as JSON"),
    ("table", {"a": [1, 2], "b": [1]}, "not a table: shown as JSON"),
    ("table", None, "not a table: shown as JSON"),
    ("markdown", 2, "not markdown: shown as JSON"),
    ("markdown", {"a": [1]}, "not markdown: shown as JSON"),
    ("markdown", None, "not markdown: shown as JSON"),
    ("progress", "half", "not a progress value: shown as JSON"),
    ("progress", True, "not a progress value: shown as JSON"),
    ("progress", {"v": 1}, "not a progress value: shown as JSON"),
    ("progress", None, "not a progress value: shown as JSON"),
    ("image", 42, "not an image URL: shown as JSON"),
    ("image", {"url": "https://example.com/x.png"}, "not an image URL: shown as JSON"),
    ("image", "javascript:alert(1)", "not an http(s) URL: shown as text"),
    ("image", "not a url", "not an http(s) URL: shown as text"),
    ("link", 5, "not a link: shown as JSON"),
    ("link", {"link": 5}, "not a link: shown as JSON"),
    ("link", {"link": "vbscript:msgbox(1)", "link_text": "x"}, "shown as text"),
    ("link", "javascript:alert(1)", "shown as text"),
    ("html", ["<b>"], "not an HTML document: shown as JSON"),
    ("html", 3, "not an HTML document: shown as JSON"),
    ("result", {"deep": [[[{"x": None}]]]}, None),
    (None, "untyped text", None),
    ("made-up", [1, 2, 3], None),
]


def _create(type_, data, key):
    return services.artifact_create(
        key=key, type=type_, data=data, description="odd", flow_run_id=RUN, metadata={"m": "1"}
    )


@pytest.fixture
def staff_client(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.mark.parametrize(("type_", "data", "note"), ODD, ids=[f"{t}-{d!r}"[:40] for t, d, _ in ODD])
def test_every_page_shows_odd_data(client, staff_client, type_, data, note):
    normal = services.artifact_create(key="odd", type="table", data=[{"a": 1}], flow_run_id=RUN)
    odd = _create(type_, data, "odd")
    unkeyed = _create(type_, data, None)
    pages = [
        f"/artifacts/artifact/{odd.pk}/",
        f"/artifacts/artifact/{unkeyed.pk}/",
        "/artifacts/key/odd/",
        "/artifacts/",
        "/artifacts/?view=list",
        "/artifacts/?tab=unkeyed",
        "/artifacts/?tab=unkeyed&view=list",
        f"/artifacts/?type={type_ or ''}",
        f"/runs/flow-run/{RUN}/",
        "/artifacts/key/odd/embed/",
        f"/artifacts/key/odd/diff/?a={normal.pk}&b={odd.pk}",
        f"/artifacts/key/odd/diff/?a={odd.pk}&b={normal.pk}&key_column=a",
        f"/artifacts/artifact/{odd.pk}/download.json",
        "/admin/artifacts_app/artifact/",
        f"/admin/artifacts_app/artifact/{odd.pk}/change/",
        f"/admin/artifacts_app/artifact/{unkeyed.pk}/change/",
        "/admin/artifacts_app/artifactcollection/",
    ]
    for spec in ("progress", "count", "sum:a", "cell:a:1", "meta:m"):
        pages.append(f"/artifacts/key/odd/?series={spec}")
    for path in pages:
        response = staff_client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    fragments = pages[:3] + ["/artifacts/", "/artifacts/key/odd/embed/"]
    fragments += [f"/artifacts/key/odd/trend/?series={s}" for s in ("progress", "sum:a", "meta:m")]
    for path in fragments:
        assert client.get(path, HTTP_HX_REQUEST="true").status_code == 200, path
    # Downloads that do not fit the data are 404s, never 500s
    for fmt in ("csv", "md", "txt"):
        response = client.get(f"/artifacts/artifact/{odd.pk}/download.{fmt}")
        assert response.status_code in (200, 404), (fmt, response.status_code)
    assert client.get(f"/artifacts/artifact/{odd.pk}/table/").status_code in (200, 404)
    assert client.get(f"/artifacts/artifact/{odd.pk}/html/").status_code in (200, 404)
    download = client.get(f"/artifacts/artifact/{odd.pk}/download.json")
    assert json.loads(b"".join(download)) == data
    page = client.get(f"/artifacts/artifact/{odd.pk}/").content.decode()
    if note is not None:
        assert note in page
    # the stored value is on the page, as JSON or as text
    assert Artifact.objects.get(pk=odd.pk).data == data


@pytest.mark.parametrize(("stored", "drawn", "label"), [(150, 100, "150"), (-5, 0, "-5")])
def test_progress_outside_0_100_is_drawn_clamped_with_the_stored_value(
    client, stored, drawn, label
):
    bar = services.artifact_create(key="bar", type="progress", data=stored)
    page = client.get(f"/artifacts/artifact/{bar.pk}/").content.decode()
    assert re.search(rf'<progress value="{drawn}(\.0)?" max="100"', page)
    assert f"stored value {label}" in page
    partial = client.get(f"/artifacts/artifact/{bar.pk}/progress/")
    assert partial.status_code in (200, 286)
    assert f"stored value {label}" in partial.content.decode()
    assert client.get("/artifacts/").status_code == 200
    assert client.get("/artifacts/key/bar/?series=progress").status_code == 200


def test_unsafe_urls_are_text_never_links_or_images(client):
    image = services.artifact_create(key="img", type="image", data="javascript:alert(1)")
    page = client.get(f"/artifacts/artifact/{image.pk}/").content.decode()
    assert "<code>javascript:alert(1)</code>" in page
    assert 'src="javascript' not in page
    assert 'href="javascript' not in page
    link = services.artifact_create(
        key="lnk", type="link", data={"link": "vbscript:msgbox(1)", "link_text": "click"}
    )
    page = client.get(f"/artifacts/artifact/{link.pk}/").content.decode()
    assert "vbscript:msgbox(1)" in page
    assert 'href="vbscript' not in page

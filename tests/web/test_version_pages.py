"""The diff and trend pages of a key's versions."""

import re
import uuid

import pytest
from pytest_django.asserts import assertContains, assertNotContains

from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db


def diff_url(key, a, b, **extra):
    query = "&".join(f"{k}={v}" for k, v in {"a": a, "b": b, **extra}.items())
    return f"/artifacts/key/{key}/diff/?{query}"


# ------------------------------------------------------------------------------- diff page --


def test_table_diff_page_by_key_column(client):
    old = ArtifactFactory(
        key="inv",
        type="table",
        data=[{"sku": "a", "n": 1}, {"sku": "b", "n": 2}],
        metadata={"total": "3"},
    )
    new = ArtifactFactory(
        key="inv",
        type="table",
        data=[{"sku": "b", "n": 5}, {"sku": "c", "n": 7}],
        metadata={"total": "12"},
    )
    response = client.get(diff_url("inv", old.pk, new.pk, key_column="sku"))
    assert response.status_code == 200
    assertContains(response, "1 row added")
    assertContains(response, "1 row removed")
    assertContains(response, "1 row changed (1 cell)")
    assertContains(response, '<td class="cell-changed"><del>2</del> <ins>5</ins></td>', html=True)
    assertContains(response, '<tr class="row-added">')
    assertContains(response, '<tr class="row-removed">')
    assertContains(response, '<option value="sku" selected>column “sku”</option>', html=True)
    assertContains(response, "<del>3</del>", html=True)  # metadata
    assertContains(response, "<ins>12</ins>", html=True)
    assertContains(response, f"?a={new.pk}&amp;b={old.pk}&amp;key_column=sku")  # swap


def test_table_diff_page_by_position(client):
    old = ArtifactFactory(key="t", type="table", data=[[1, 2], [3, 4]])
    new = ArtifactFactory(key="t", type="table", data=[[1, 2], [3, 9]])
    response = client.get(diff_url("t", old.pk, new.pk))
    assertContains(response, '<th scope="col">Row</th>', html=True)
    assertContains(response, '<td class="cell-changed"><del>4</del> <ins>9</ins></td>', html=True)
    assertContains(response, "1 unchanged")


def test_text_diff_page_escapes_and_marks_words(client):
    old = ArtifactFactory(key="md", data="# Title\nhello <b>world</b>")
    new = ArtifactFactory(key="md", data="# Title\nhello <script>alert(1)</script>")
    response = client.get(diff_url("md", old.pk, new.pk))
    assert response.status_code == 200
    assertNotContains(response, "<script>alert(1)</script>")
    assertContains(response, "hello &lt;<del>b</del>&gt;<del>world</del>&lt;/<del>b</del>&gt;")
    assertContains(response, "&lt;<ins>script</ins>&gt;<ins>alert(1)</ins>")
    assertContains(response, "1 line added")


def test_json_diff_page_by_path(client):
    old = ArtifactFactory(key="r", type="result", data={"acc": 0.9, "p": {"d": 6}})
    new = ArtifactFactory(key="r", type="result", data={"acc": 0.95, "p": {"d": 6}})
    response = client.get(diff_url("r", old.pk, new.pk))
    assertContains(response, "<code>$.acc</code>", html=True)
    assertContains(response, "<del>0.9</del>", html=True)
    assertContains(response, "<ins>0.95</ins>", html=True)
    assertContains(response, "1 unchanged")


def test_diff_page_paginates_large_table_diffs(client):
    old = ArtifactFactory(key="big", type="table", data={"n": list(range(450))})
    new = ArtifactFactory(key="big", type="table", data={"n": [i + 1 for i in range(450)]})
    response = client.get(diff_url("big", old.pk, new.pk, page=3))
    assertContains(response, "Changes 401–450 of 450")
    assert response.content.count(b'<tr class="row-changed">') == 50


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("a=nope&b={b}", 400, "a must be a version id"),
        ("a={a}&b=" + str(uuid.UUID(int=1)), 404, "No artifact with id"),
        ("a={a}&b={other}", 400, "is not a version of k"),
    ],
)
def test_bad_diff_requests_answer_4xx_with_a_message(client, query, status, message):
    a = ArtifactFactory(key="k")
    b = ArtifactFactory(key="k")
    other = ArtifactFactory(key="other")
    response = client.get("/artifacts/key/k/diff/?" + query.format(a=a.pk, b=b.pk, other=other.pk))
    assert response.status_code == status
    assertContains(response, message, status_code=status)
    assertContains(response, 'role="alert"', status_code=status)


def test_diff_of_unknown_key_is_404(client):
    assert client.get("/artifacts/key/nope/diff/?a=1&b=2").status_code == 404


# --------------------------------------------------------------------------- trend chart --


def test_key_page_has_an_accessible_trend_chart_and_compare_form(client):
    versions = [
        ArtifactFactory(key="loss", type="table", data=[{"x": 1}], metadata={"loss": str(v)})
        for v in (0.9, 0.6, 0.4)
    ]
    response = client.get("/artifacts/key/loss/")
    body = response.content.decode()
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert 'role="group"' in svg
    assert 'aria-labelledby="trend-title trend-desc"' in svg
    assert '<title id="trend-title">Metadata “loss” across versions of loss</title>' in svg
    assert "<desc id=" in svg
    links = re.findall(r'<a class="trend-point" href="([^"]+)" aria-label="([^"]+)">', svg)
    assert [href for href, _ in links] == [f"/artifacts/artifact/{v.pk}/" for v in versions]
    assert links[0][1].startswith("Version 1 · ")
    assert links[0][1].endswith(" · 0.9")
    assert svg.count("<circle") == 3
    assert "<polyline" in svg
    assert "<script" not in body.split("</head>")[1]  # no JS drawing the chart
    assertContains(response, '<option value="meta:loss" selected>', html=False)
    assertContains(response, 'action="/artifacts/key/loss/diff/"')
    assertContains(response, f'<option value="{versions[1].pk}" selected>v2 · ', html=False)


def test_trend_partial_for_htmx_and_redirect_without(client):
    ArtifactFactory(key="p", progress=True, data=20)
    ArtifactFactory(key="p", progress=True, data=70)
    response = client.get("/artifacts/key/p/trend/?series=progress", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.content.decode().startswith('<div id="trend"')
    assert response.content.count(b"<circle") == 2
    response = client.get("/artifacts/key/p/trend/?series=progress")
    assert response.status_code == 302
    assert response["Location"] == "/artifacts/key/p/?series=progress#trend"
    bad = client.get("/artifacts/key/p/trend/?series=bogus", headers={"HX-Request": "true"})
    assert bad.status_code == 400
    assertContains(bad, "Unknown series", status_code=400)


def test_key_without_numbers_says_so(client):
    ArtifactFactory(key="notes", data="# hi")
    ArtifactFactory(key="notes", data="# hello")
    assertContains(client.get("/artifacts/key/notes/"), "carries a number to chart")


def test_single_version_key_has_no_trend_or_compare(client):
    ArtifactFactory(key="once", data="# only")
    response = client.get("/artifacts/key/once/")
    assertNotContains(response, "Compare versions")
    assertNotContains(response, 'id="trend-heading"')


def test_version_page_links_a_diff_with_the_previous_version(client):
    old = ArtifactFactory(key="k", data="# one")
    new = ArtifactFactory(key="k", data="# two")
    response = client.get(f"/artifacts/artifact/{new.pk}/")
    assertContains(response, f'href="/artifacts/key/k/diff/?a={old.pk}&amp;b={new.pk}"')
    assertNotContains(client.get(f"/artifacts/artifact/{old.pk}/"), "Compare with previous")

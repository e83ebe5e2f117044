"""Each renderer on real HTML: tables, markdown, links, images, progress, JSON, downloads."""

import json

import pytest
from pytest_django.asserts import assertContains, assertNotContains

from artifacts_app import rendering, services
from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.mark.parametrize(
    "data",
    [
        {"name": ["ada", "bob"], "score": [3, None]},
        [{"name": "ada", "score": 3}, {"name": "bob", "score": None}],
        '[{"name": "ada", "score": 3}, {"name": "bob", "score": NaN}]',
        '{"name": ["ada", "bob"], "score": [3, null]}',
    ],
)
def test_table_shapes_render_header_and_rows(client, data):
    artifact = services.artifact_create(key="t", type="table", data=data)
    response = client.get(f"/artifacts/artifact/{artifact.pk}/")
    assertContains(response, "<td>ada</td>", html=True)
    assertContains(response, "<td>3</td>", html=True)
    assertContains(response, "<tr><td>bob</td><td></td></tr>", html=True)  # None/NaN: empty cell
    assertContains(response, ">score<")


def test_list_of_lists_gets_numbered_columns():
    columns, rows = rendering.table_columns_rows([[1, 2], [3]])
    assert columns == ["0", "1"]
    assert rows == [[1, 2], [3, None]]


def test_table_partial_sorts_filters_and_pages(client):
    rows = [{"n": i, "word": f"w{i}"} for i in range(60)]
    artifact = services.artifact_create(key="big", type="table", data=rows)
    first = client.get(f"/artifacts/artifact/{artifact.pk}/table/", headers=HX)
    assert first.content.lstrip().startswith(f'<div id="table-{artifact.pk}"'.encode())
    assertContains(first, "Rows 1–25 of 60")
    descending = client.get(f"/artifacts/artifact/{artifact.pk}/table/?sort=n&dir=desc", headers=HX)
    body = descending.content.decode()
    assert body.index("<td>59</td>") < body.index("<td>58</td>")
    assertContains(descending, 'aria-sort="descending"')
    page3 = client.get(f"/artifacts/artifact/{artifact.pk}/table/?sort=n&table_page=3", headers=HX)
    assertContains(page3, "Rows 51–60 of 60")
    assertContains(page3, "<td>w59</td>", html=True)
    filtered = client.get(f"/artifacts/artifact/{artifact.pk}/table/?filter=w1", headers=HX)
    assertContains(filtered, "of 11 (filtered from 60)")
    assert (
        client.get(f"/artifacts/artifact/{artifact.pk}/table/?table_page=abc&sort=x").status_code
        == 200
    )


def test_numeric_sort_is_numeric(client):
    artifact = services.artifact_create(key="nums", type="table", data='{"v": [10, 9, 100, NaN]}')
    body = client.get(f"/artifacts/artifact/{artifact.pk}/table/?sort=v").content.decode()
    assert body.index("<td>9</td>") < body.index("<td>10</td>") < body.index("<td>100</td>")


def test_table_downloads(client):
    artifact = services.artifact_create(
        key="dl", type="table", data='{"a": [1, null], "b": ["x", "y"]}'
    )
    csv_response = client.get(f"/artifacts/artifact/{artifact.pk}/download.csv")
    assert csv_response["Content-Type"].startswith("text/csv")
    assert csv_response.content.decode().splitlines() == ["a,b", "1,x", ",y"]
    assert 'filename="dl.csv"' in csv_response["Content-Disposition"]
    as_json = client.get(f"/artifacts/artifact/{artifact.pk}/download.json")
    assert json.loads(as_json.content) == [{"a": 1, "b": "x"}, {"a": None, "b": "y"}]
    assert client.get(f"/artifacts/artifact/{artifact.pk}/download.md").status_code == 404


def test_markdown_is_rendered_and_sanitised(client):
    hostile = "# Title\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2)) <img src=x onerror=alert(3)>\n\n| a | b |\n|---|---|\n| <b onclick=z>1</b> | 2 |"
    artifact = services.artifact_create(
        key="md", type="markdown", data=hostile, description="<iframe src=//evil></iframe>**d**"
    )
    response = client.get(f"/artifacts/artifact/{artifact.pk}/")
    body = response.content.decode()
    assertContains(response, "<h1>Title</h1>", html=True)
    assertContains(response, "<strong>d</strong>", html=True)
    assert "<script>alert" not in body
    assert 'href="javascript:' not in body
    assert "<img src=x onerror" not in body
    assert "<b onclick" not in body
    assert "<iframe" not in body
    assertContains(response, "<th>a</th>", html=True)
    md = client.get(f"/artifacts/artifact/{artifact.pk}/download.md")
    assert md.content.decode() == hostile


def test_markdown_code_is_escaped_once():
    html = rendering.markdown_to_html("```\na < b & c\n```")
    assert "a &lt; b &amp; c" in html


def test_link_artifact_as_prefect_sends_it(client):
    artifact = services.artifact_create(
        key="l", type="markdown", data="[Docs](https://example.com/docs)"
    )
    response = client.get(f"/artifacts/artifact/{artifact.pk}/")
    assertContains(
        response,
        '<a href="https://example.com/docs" rel="noopener noreferrer nofollow" target="_blank">Docs</a>',
        html=True,
    )


def test_unsafe_link_is_not_clickable(client):
    artifact = services.artifact_create(
        key="l", type="markdown", data="[Click](javascript:alert(1))"
    )
    response = client.get(f"/artifacts/artifact/{artifact.pk}/")
    assertNotContains(response, 'href="javascript:')


def test_image_renders_lazy_with_alt_and_original_link(client):
    artifact = services.artifact_create(
        key="img", type="image", data="https://example.com/a.png", description="A chart"
    )
    response = client.get(f"/artifacts/artifact/{artifact.pk}/")
    assertContains(response, 'src="https://example.com/a.png"')
    assertContains(response, 'loading="lazy"')
    assertContains(response, 'alt="A chart"')
    assertContains(response, "Open original")


def test_progress_partial_polls_until_100_then_286(client):
    artifact = ArtifactFactory(key="bar", progress=True)
    services.artifact_update(artifact_id=artifact.pk, data=30)
    polling = client.get(f"/artifacts/artifact/{artifact.pk}/progress/", headers=HX)
    assert polling.status_code == 200
    assertContains(polling, 'hx-trigger="every 2s"')
    assertContains(polling, '<progress value="30.0" max="100"')
    services.artifact_update(artifact_id=artifact.pk, data=100)
    done = client.get(f"/artifacts/artifact/{artifact.pk}/progress/", headers=HX)
    assert done.status_code == 286
    assert b"hx-trigger" not in done.content
    assertContains(done, '<progress value="100.0" max="100"', status_code=286)


def test_progress_never_renders_less_than_shown(client):
    artifact = ArtifactFactory(key="bar", progress=True)
    services.artifact_update(artifact_id=artifact.pk, data=40)
    response = client.get(f"/artifacts/artifact/{artifact.pk}/progress/?shown=55", headers=HX)
    assertContains(response, '<progress value="55.0" max="100"')
    response = client.get(f"/artifacts/artifact/{artifact.pk}/progress/?shown=junk", headers=HX)
    assertContains(response, '<progress value="40.0" max="100"')


def test_progress_partial_only_for_progress(client):
    other = ArtifactFactory(key="md")
    assert client.get(f"/artifacts/artifact/{other.pk}/progress/").status_code == 404


def test_other_types_render_pretty_json(client):
    artifact = services.artifact_create(
        key="r", type="result", data={"accuracy": 0.9, "tags": ["<b>"]}
    )
    response = client.get(f"/artifacts/artifact/{artifact.pk}/")
    assertContains(response, "&quot;accuracy&quot;: 0.9")
    assertContains(response, "&lt;b&gt;")

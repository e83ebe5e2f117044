"""Each renderer on real HTML: tables, markdown, links, images, progress, JSON, downloads."""

import json

import pytest
from pytest_django.asserts import assertContains, assertNotContains

from artifacts_app import rendering, services
from artifacts_app.models import Artifact
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


def _without_summary(artifact):
    Artifact.objects.filter(pk=artifact.pk).update(table_summary=None)
    return Artifact.objects.get(pk=artifact.pk)


WIDE = "x" * 2000  # 25 rows of such cells pass TABLE_SUMMARY_MAX_BYTES: only some are kept


@pytest.mark.parametrize(
    "data",
    [
        {"n": list(range(60)), "name": [f"row {i}" for i in range(60)]},
        [{"n": i, "name": f"row {i}", **({"late": True} if i == 59 else {})} for i in range(60)],
        json.dumps([[i, None, [i]] if i % 2 else [i] for i in range(60)]),
        [{"n": i, "text": WIDE} for i in range(60)],
        [{"n": 1}, {"n": 2}],
        [],
    ],
    ids=["dict-of-lists", "list-of-objects", "string-list-of-lists", "wide", "short", "empty"],
)
@pytest.mark.parametrize("page_size", [10, 25])
def test_a_tables_stored_summary_shows_what_parsing_it_shows(data, page_size):
    """rendering.table_summary, written with each version, answers the card and the first pages
    exactly as parsing the whole table does (columns found in the last row included), and the
    parse keeps the columns in the order they were sent, which PostgreSQL's jsonb does not."""
    stored = services.artifact_create(key="t", type="table", data=data)
    assert stored.table_summary is not None
    stored = Artifact.objects.get(pk=stored.pk)
    columns, rows = rendering.normalised_table(stored)
    assert columns == rendering.table_columns_rows(data)[0] == rendering.table_columns(stored)
    for page in (1, 2, 3):
        shown = rendering.table_page(stored, page=page, page_size=page_size)
        first = (page - 1) * page_size if (page - 1) * page_size < len(rows) else 0
        assert (shown.columns, shown.rows) == (columns, rows[first : first + page_size])
        assert (shown.total_rows, shown.matching_rows) == (len(rows), len(rows))
    assert rendering.preview_text(stored) == f"{len(rows):,} rows × {len(columns)} columns"
    assert rendering.artifact_kind(stored) == "table"
    # A version without a summary (written before they were stored) shows the same table.
    parsed = _without_summary(services.artifact_create(key="t", type="table", data=data))
    assert rendering.preview_text(parsed) == rendering.preview_text(stored)
    assert sorted(rendering.normalised_table(parsed)[0]) == sorted(columns)


def test_a_tables_summary_follows_its_data_and_other_types_have_none():
    table = services.artifact_create(key="t", type="table", data=[{"a": i} for i in range(30)])
    assert table.table_summary["total"] == 30
    assert len(table.table_summary["rows"]) == rendering.TABLE_PAGE_SIZE
    services.artifact_update(artifact_id=table.pk, data=[{"b": 1, "c": 2}])
    table.refresh_from_db()
    assert table.table_summary == {"columns": ["b", "c"], "total": 1, "rows": []}
    services.artifact_update(artifact_id=table.pk, data="not a table")
    table.refresh_from_db()
    assert table.table_summary == {}
    assert rendering.artifact_kind(table) == "json"
    assert services.artifact_create(key="m", type="markdown", data="# hi").table_summary is None


def test_a_table_string_nested_deeper_than_python_parses_is_shown_as_json(client, api_client):
    """A string is stored as sent; one holding JSON nested 100,000 deep is not a table (Python's
    parser gives up), and neither the write nor its page fail."""
    deep = "[" * 100_000 + "]" * 100_000
    response = api_client.post(
        "/api/artifacts/", {"key": "deep", "type": "table", "data": deep}, format="json"
    )
    assert response.status_code == 201, response.content[:300]
    artifact = Artifact.objects.get(key="deep")
    assert artifact.table_summary == {}
    for version in (artifact, _without_summary(artifact)):
        assert rendering.artifact_kind(version) == "json"
        assert rendering.misfit_note(version) == "not a table: shown as JSON"
    assertContains(client.get(f"/artifacts/artifact/{artifact.pk}/"), "not a table")


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

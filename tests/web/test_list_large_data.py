"""The artifacts list does not load a large `data` column when the preview is already known."""

import json
import secrets

import pytest
from pytest_django.asserts import assertContains, assertNotContains

from artifacts_app.models import LIST_DATA_MAX_BYTES, Artifact
from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db


def _big_rows(count=10000):
    # random names: still over the limit after PostgreSQL compresses it
    rows = [{"row": i, "name": secrets.token_hex(16), "score": i / 7} for i in range(count)]
    assert len(json.dumps(rows)) > 4 * LIST_DATA_MAX_BYTES
    return rows


def test_a_large_tables_card_comes_from_its_stored_summary(client, django_assert_num_queries):
    """A table's columns, size and first page are written with it (rendering.table_summary):
    the list shows a 10,000-row table's card without fetching or parsing its data, even the
    first time a process shows it."""
    ArtifactFactory(key="big", type="table", data=json.dumps(_big_rows()))
    ArtifactFactory(key="small", data="# small report")
    for _ in range(2):
        with django_assert_num_queries(4):  # count, the page, the versions per key, flow names
            response = client.get("/artifacts/")
        assertContains(response, "10,000 rows × 3 columns")
        assertContains(response, "small report")


def test_a_large_table_without_a_summary_is_parsed_once(client, django_assert_num_queries):
    """A version written before summaries were stored (or by a bulk insert) is read and parsed
    on its first view, then shown from the process's cache."""
    big = ArtifactFactory(key="big", type="table", data=json.dumps(_big_rows()))
    Artifact.objects.filter(pk=big.pk).update(table_summary=None)
    # count, the page, the versions per key, the flow names, the big table's data (cold cache)
    with django_assert_num_queries(5):
        response = client.get("/artifacts/")
    assertContains(response, "10,000 rows × 3 columns")
    with django_assert_num_queries(4):  # the parsed table is cached: its data is not fetched
        response = client.get("/artifacts/")
    assertContains(response, "10,000 rows × 3 columns")


def test_small_data_comes_with_the_page(client, django_assert_num_queries):
    ArtifactFactory(key="progress", type="progress", data=42.0)
    ArtifactFactory(key="empty", type="custom", data=None)
    with django_assert_num_queries(4):  # count, the page, the versions per key, flow names
        response = client.get("/artifacts/")
    assertContains(response, "42%")


def _big_table(rows=10000):
    data = json.dumps(_big_rows(rows))
    return ArtifactFactory(key="big", type="table", data=data), data


def test_a_large_tables_pages_load_its_data_once_per_process(client, django_assert_num_queries):
    """The artifact page and its htmx table pages do not decode a big `data` on every request:
    the parsed table and the raw view's head (cut in SQL) are cached per version."""
    big, data = _big_table()
    # cold: the artifact, 2 neighbours, its version number, the raw view's head (cut once); the
    # first page of rows is the stored summary's
    with django_assert_num_queries(5):
        response = client.get(f"/artifacts/artifact/{big.pk}/")
    assertContains(response, "Rows 1–25 of 10,000")
    with django_assert_num_queries(4):
        response = client.get(f"/artifacts/artifact/{big.pk}/")
    assertContains(response, "Rows 1–25 of 10,000")
    head = response.content.decode().split('<pre class="json"><code>', 1)[1]
    assert head.startswith("&quot;[{\\&quot;row\\&quot;: 0, \\&quot;name\\&quot;: ")
    assertContains(response, "20,000 characters of the stored JSON; download the full data")
    with django_assert_num_queries(2):  # the artifact, its data (parsed once)
        response = client.get(f"/artifacts/artifact/{big.pk}/table/?table_page=400")
    assertContains(response, f"<td>{json.loads(data)[9999]['name']}</td>", html=False)
    with django_assert_num_queries(1):
        response = client.get(f"/artifacts/artifact/{big.pk}/table/?table_page=399")
    assertContains(response, f"<td>{json.loads(data)[9974]['name']}</td>", html=False)


def test_small_data_is_shown_whole_and_pretty(client):
    small = ArtifactFactory(key="small", type="result", data={"a": [1, 2]})
    response = client.get(f"/artifacts/artifact/{small.pk}/")
    assertContains(response, "&quot;a&quot;: [\n    1,")
    assertNotContains(response, "characters of the stored JSON")


def test_the_key_count_is_bounded_but_every_page_stays_reachable(client, monkeypatch):
    """At 100,000 keys the list does not count them all on every view: it counts as far as the
    page asked for needs (at least COUNT_BOUND), says "N+" and still offers the next page."""
    from artifacts_app.web import views

    monkeypatch.setattr(views, "COUNT_BOUND", 10)
    for i in range(60):
        ArtifactFactory(key=f"k-{i:02d}")
    first = client.get("/artifacts/")
    assertContains(first, "<strong>50+</strong> keys", html=False)
    assertContains(first, "<span>Page 1</span>", html=False)
    assertContains(first, "Next →")
    second = client.get("/artifacts/?page=2")
    assertContains(second, "<strong>60</strong> keys", html=False)
    assertContains(second, "Page 2 of 3")
    third = client.get("/artifacts/?page=3")
    assertContains(third, "k-00")
    assertNotContains(third, "Next →")

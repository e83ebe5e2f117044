"""The artifacts list does not load a large `data` column when the preview is already known."""

import json
import secrets

import pytest
from pytest_django.asserts import assertContains, assertNotContains

from artifacts_app.models import LIST_DATA_MAX_BYTES
from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db


def test_large_table_is_previewed_once_then_not_loaded(client, django_assert_num_queries):
    # random names: still over the limit after PostgreSQL compresses it
    rows = [{"row": i, "name": secrets.token_hex(16), "score": i / 7} for i in range(10000)]
    data = json.dumps(rows)
    assert len(data) > 4 * LIST_DATA_MAX_BYTES
    ArtifactFactory(key="big", type="table", data=data)
    ArtifactFactory(key="small", data="# small report")
    # count, the page, the versions per key, the flow names, the big table's data (cold cache)
    with django_assert_num_queries(5):
        response = client.get("/artifacts/")
    assertContains(response, "10,000 rows × 3 columns")
    assertContains(response, "small report")
    with django_assert_num_queries(4):  # the parsed table is cached: its data is not fetched
        response = client.get("/artifacts/")
    assertContains(response, "10,000 rows × 3 columns")
    assertContains(response, "small report")


def test_small_data_comes_with_the_page(client, django_assert_num_queries):
    ArtifactFactory(key="progress", type="progress", data=42.0)
    ArtifactFactory(key="empty", type="custom", data=None)
    with django_assert_num_queries(4):  # count, the page, the versions per key, flow names
        response = client.get("/artifacts/")
    assertContains(response, "42%")


def _big_table(rows=10000):
    # random names: still over the limit after PostgreSQL compresses it
    data = json.dumps([{"row": i, "name": secrets.token_hex(16)} for i in range(rows)])
    assert len(data) > 4 * LIST_DATA_MAX_BYTES
    return ArtifactFactory(key="big", type="table", data=data), data


def test_a_large_tables_pages_load_its_data_once_per_process(client, django_assert_num_queries):
    """The artifact page and its htmx table pages do not decode a big `data` on every request:
    the parsed table and the raw view's head (cut in SQL) are cached per version."""
    big, data = _big_table()
    # cold: the artifact, 2 neighbours, its version number, its data (parsed once), the raw
    # view's head (cut once)
    with django_assert_num_queries(6):
        response = client.get(f"/artifacts/artifact/{big.pk}/")
    assertContains(response, "Rows 1–25 of 10,000")
    with django_assert_num_queries(4):
        response = client.get(f"/artifacts/artifact/{big.pk}/")
    assertContains(response, "Rows 1–25 of 10,000")
    head = response.content.decode().split('<pre class="json"><code>', 1)[1]
    assert head.startswith("&quot;[{\\&quot;row\\&quot;: 0, \\&quot;name\\&quot;: ")
    assertContains(response, "20,000 characters of the stored JSON; download the full data")
    with django_assert_num_queries(1):
        response = client.get(f"/artifacts/artifact/{big.pk}/table/?table_page=400")
    assertContains(response, f"<td>{json.loads(data)[9999]['name']}</td>", html=False)


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

"""The artifacts list does not load a large `data` column when the preview is already known."""

import json
import secrets

import pytest
from pytest_django.asserts import assertContains

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
    with django_assert_num_queries(3):  # count, the page, the big table's data (cold cache)
        response = client.get("/artifacts/")
    assertContains(response, "10000 rows × 3 columns")
    assertContains(response, "# small report")
    with django_assert_num_queries(2):  # the parsed table is cached: its data is not fetched
        response = client.get("/artifacts/")
    assertContains(response, "10000 rows × 3 columns")
    assertContains(response, "# small report")


def test_small_data_comes_with_the_page(client, django_assert_num_queries):
    ArtifactFactory(key="progress", type="progress", data=42.0)
    ArtifactFactory(key="empty", type="custom", data=None)
    with django_assert_num_queries(2):
        response = client.get("/artifacts/")
    assertContains(response, "42%")

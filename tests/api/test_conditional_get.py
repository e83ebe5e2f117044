"""`GET /api/artifacts/{key}/latest` carries an ETag of the version it answers; a client that
sends it back (If-None-Match) gets a 304 until the key's latest version changes or is updated."""

import pytest

from artifacts_app import services

pytestmark = pytest.mark.django_db


def test_latest_answers_304_until_the_latest_version_changes(anon_client):
    first = services.artifact_create(key="polled", type="progress", data=10.0)
    answer = anon_client.get("/api/artifacts/polled/latest")
    assert answer.status_code == 200
    etag = answer["ETag"]
    assert answer.json()["id"] == str(first.pk)

    again = anon_client.get("/api/artifacts/polled/latest", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag

    services.artifact_update(artifact_id=first.pk, data=20.0)  # updated in place
    changed = anon_client.get("/api/artifacts/polled/latest", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.json()["data"] == 20.0
    assert changed["ETag"] != etag

    second = services.artifact_create(key="polled", type="progress", data=0.0)  # a new version
    newer = anon_client.get("/api/artifacts/polled/latest", HTTP_IF_NONE_MATCH=changed["ETag"])
    assert newer.status_code == 200
    assert newer.json()["id"] == str(second.pk)
    assert (
        anon_client.get("/api/artifacts/polled/latest", HTTP_IF_NONE_MATCH='"other"').status_code
        == 200
    )


def test_stored_json_comes_back_as_it_was_sent(anon_client):
    table = '[{"a": 1, "b": "\\u00e9"}]'  # a table as Prefect sends it: a JSON string
    services.artifact_create(
        key="kept", type="table", data=table, metadata={"run": "caf\u00e9", "n": "1"}
    )
    services.artifact_create(key="nested", type="result", data={"x": [1, 2.5, None, True]})
    latest = anon_client.get("/api/artifacts/kept/latest").json()
    assert latest["data"] == table
    assert latest["metadata_"] == {"run": "caf\u00e9", "n": "1"}
    rows = anon_client.post("/api/artifacts/filter", {}, format="json").json()
    assert {row["key"]: row["data"] for row in rows} == {
        "kept": table,
        "nested": {"x": [1, 2.5, None, True]},
    }
    keys = anon_client.post("/api/artifacts/latest/filter", {}, format="json").json()
    assert {row["key"]: row["metadata_"] for row in keys}["kept"] == {"run": "caf\u00e9", "n": "1"}

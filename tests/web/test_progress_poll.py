"""The dashboard's progress poll is a conditional GET: a bar that has not moved costs a 304."""

import pytest

from artifacts_app import services

pytestmark = pytest.mark.django_db


def test_an_unchanged_bar_answers_304_and_a_moved_one_200(client):
    bar = services.artifact_create(key="poll", type="progress", data=30.0)
    url = f"/artifacts/artifact/{bar.pk}/progress/?shown=30"
    first = client.get(url, headers={"HX-Request": "true"})
    assert first.status_code == 200
    assert "no-cache" in first["Cache-Control"]
    etag = first["ETag"]
    same = client.get(url, headers={"HX-Request": "true", "If-None-Match": etag})
    assert same.status_code == 304
    assert same.content == b""
    services.artifact_update(artifact_id=bar.pk, data=60.0)
    moved = client.get(url, headers={"HX-Request": "true", "If-None-Match": etag})
    assert moved.status_code == 200
    assert moved["ETag"] != etag
    assert b"60" in moved.content


def test_a_finished_bar_always_stops_the_polling(client):
    bar = services.artifact_create(key="done", type="progress", data=100.0)
    url = f"/artifacts/artifact/{bar.pk}/progress/"
    first = client.get(url, headers={"HX-Request": "true"})
    assert first.status_code == 286
    again = client.get(url, headers={"HX-Request": "true", "If-None-Match": first["ETag"]})
    assert again.status_code == 286

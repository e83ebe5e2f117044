"""Concurrent writers through the HTTP API of a real server process (uvicorn, as `make run`):
nothing lost, counters exact, progress never goes backwards for a reader."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from artifacts_app import services
from artifacts_app.models import Artifact, ArtifactCollection

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS = 50


def _parallel(count, fn):
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_50_concurrent_writers_of_one_key_lose_nothing(server_process, user):
    _, token = services.token_create(user=user)

    def create(i):
        with httpx.Client(timeout=60) as client:
            response = client.post(
                f"{server_process}/api/artifacts/",
                json={"key": "hot-key", "type": "markdown", "data": f"v{i}"},
                headers={"Authorization": f"Bearer {token}"},
            )
        return response.status_code, response.json().get("id")

    results = _parallel(WRITERS, create)
    assert [status for status, _ in results] == [201] * WRITERS
    versions = list(Artifact.objects.for_key("hot-key"))
    assert len(versions) == WRITERS
    assert {str(v.id) for v in versions} == {artifact_id for _, artifact_id in results}
    assert ArtifactCollection.objects.get(key="hot-key").latest_id == versions[0].id
    assert len({v.created for v in versions}) == WRITERS  # a strict order of versions


def test_50_concurrent_increments_end_exact(server_process, user):
    _, token = services.token_create(user=user)
    bar = services.artifact_create(key="bar", type="progress", data=0)

    def bump(_):
        with httpx.Client(timeout=60) as client:
            return client.post(
                f"{server_process}/api/artifacts/{bar.pk}/progress",
                json={"increment": 1},
                headers={"Authorization": f"Bearer {token}"},
            ).status_code

    assert _parallel(WRITERS, bump) == [200] * WRITERS
    bar.refresh_from_db()
    assert bar.data == WRITERS


def test_concurrent_progress_patches_never_go_backwards_for_a_reader(server_process, user):
    """Ordering: writes to one artifact apply one at a time and each gets a strictly later
    `updated`; a reader that keeps the newest `updated` it has seen (as the dashboard does) never
    sees an older state, and equal `updated` always means the same value."""
    _, token = services.token_create(user=user)
    bar = services.artifact_create(key="bar", type="progress", data=0)
    headers = {"Authorization": f"Bearer {token}"}
    stop = threading.Event()
    observed: list[tuple[str, float]] = []

    def reader():
        with httpx.Client(timeout=60) as client:
            while not stop.is_set():
                body = client.get(f"{server_process}/api/artifacts/{bar.pk}").json()
                observed.append((body["updated"], body["data"]))

    thread = threading.Thread(target=reader)
    thread.start()

    def patch(i):
        with httpx.Client(timeout=60) as client:
            return client.patch(
                f"{server_process}/api/artifacts/{bar.pk}",
                json={"data": float(i % 101)},
                headers=headers,
            ).status_code

    try:
        statuses = _parallel(30, patch)
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join(30)
    assert statuses == [204] * 30
    stamps = [stamp for stamp, _ in observed]
    assert stamps == sorted(stamps)  # one reader's view only moves forward
    by_stamp: dict[str, set] = {}
    for stamp, value in observed:
        by_stamp.setdefault(stamp, set()).add(value)
    assert all(len(values) == 1 for values in by_stamp.values())
    final = Artifact.objects.get(pk=bar.pk)
    assert observed[-1][1] == final.data  # the last write applied is what readers end on


def test_concurrent_validation_answers_each_request_about_its_own_body(server_process, user):
    """Validation state is per request: 40 bodies at once, good and bad ones mixed, each answered
    about itself (the write serializers copy their fields per instance)."""
    _, token = services.token_create(user=user)
    bad_field = ["key", "metadata_", "flow_run_id", "bogus"]

    def body(i):
        if i % 2 == 0:
            return {"key": f"good-{i}", "type": "markdown", "data": f"v{i}", "description": f"d{i}"}
        field = bad_field[(i // 2) % len(bad_field)]
        value = {"key": "Not Valid", "metadata_": [1], "flow_run_id": "nope", "bogus": 1}[field]
        return {"key": f"bad-{i}", "data": i, field: value}

    def send(i):
        with httpx.Client(timeout=60) as client:
            response = client.post(
                f"{server_process}/api/artifacts/",
                json=body(i),
                headers={"Authorization": f"Bearer {token}"},
            )
        return i, response.status_code, response.json()

    for i, status, answer in _parallel(40, send):
        if i % 2 == 0:
            assert status == 201, (i, answer)
            assert (answer["key"], answer["description"]) == (f"good-{i}", f"d{i}")
        else:
            assert status == 422, (i, answer)
            assert list(answer["errors"]) == [bad_field[(i // 2) % len(bad_field)]], (i, answer)
    assert sorted(Artifact.objects.values_list("key", flat=True)) == sorted(
        f"good-{i}" for i in range(0, 40, 2)
    )

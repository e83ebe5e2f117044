import datetime as dt
import threading
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from artifacts_app import services
from artifacts_app.models import Artifact, ArtifactCollection, SearchDocument
from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db


def test_create_points_collection_at_newest_version():
    first = ArtifactFactory(key="loss")
    second = ArtifactFactory(key="loss")
    collection = ArtifactCollection.objects.get(key="loss")
    assert collection.latest_id == second.id
    assert second.created > first.created
    assert collection.updated == second.created
    assert list(Artifact.objects.for_key("loss")) == [second, first]


def test_unkeyed_artifacts_have_no_collection():
    ArtifactFactory(key=None)
    assert ArtifactCollection.objects.count() == 0
    assert Artifact.objects.unkeyed().count() == 1


def test_create_rejects_bad_key_and_writes_nothing():
    with pytest.raises(ValidationError) as excinfo:
        services.artifact_create(key="Bad Key", type="markdown", data="x")
    assert "lowercase letters, numbers, and dashes" in str(excinfo.value)
    assert Artifact.objects.count() == 0


@pytest.mark.parametrize(
    ("type_", "data"),
    [
        ("progress", 101),
        ("progress", -1),
        ("progress", "fifty"),
        ("progress", True),
        ("image", "javascript:alert(1)"),
        ("image", "data:image/png;base64,xx"),
        ("table", "not json"),
        ("table", {"a": [1, 2], "b": [1]}),
        ("table", [1, 2, 3]),
        ("table", 5),
        ("markdown", {"not": "a string"}),
    ],
)
def test_create_keeps_data_its_type_cannot_render(type_, data):
    """Any JSON for any type, as Prefect's server: the dashboard decides at render time."""
    artifact = services.artifact_create(key="k", type=type_, data=data)
    artifact.refresh_from_db()
    assert artifact.data == data
    assert ArtifactCollection.objects.get(key="k").latest_id == artifact.pk


def test_data_is_stored_exactly_as_received():
    as_string = '{"a": [1, null]}'
    artifact = services.artifact_create(key="t", type="table", data=as_string)
    artifact.refresh_from_db()
    assert artifact.data == as_string


def test_metadata_values_are_cut_at_500_characters():
    artifact = services.artifact_create(
        type="result", data=1, metadata={"long": "x" * 600, "short": "y"}
    )
    assert artifact.metadata == {"long": "x" * 500 + "...", "short": "y"}


def test_metadata_must_map_strings_to_strings():
    with pytest.raises(ValidationError):
        services.artifact_create(type="result", data=1, metadata={"n": 1})


def test_update_changes_only_given_fields_and_moves_updated():
    artifact = ArtifactFactory(progress=True, description="d")
    before = artifact.updated
    services.artifact_update(artifact_id=artifact.id, data=50)
    artifact.refresh_from_db()
    assert artifact.data == 50
    assert artifact.description == "d"
    assert artifact.updated > before
    services.artifact_update(artifact_id=artifact.id)
    again = Artifact.objects.get(pk=artifact.pk)
    assert again.updated > artifact.updated


def test_update_keeps_any_json_and_refuses_what_is_not_json():
    artifact = ArtifactFactory(progress=True)
    services.artifact_update(artifact_id=artifact.id, data=250)
    artifact.refresh_from_db()
    assert artifact.data == 250
    with pytest.raises(ValidationError):
        services.artifact_update(artifact_id=artifact.id, data=float("nan"))
    artifact.refresh_from_db()
    assert artifact.data == 250


@pytest.mark.django_db(transaction=True)
def test_an_update_outside_a_transaction_moves_updated_past_a_later_clock():
    """As the server calls it (no outer transaction; a progress value is then one
    UPDATE): `updated` moves strictly forward even when the stored one is ahead of this clock,
    a progress value touches no search document, other types' data is indexed."""
    bar = services.artifact_create(key="bar", type="progress", data=1, description="loading")
    ahead = timezone.now() + dt.timedelta(hours=1)
    Artifact.objects.filter(pk=bar.pk).update(updated=ahead)
    services.artifact_update(artifact_id=bar.pk, data=2.5)
    bar.refresh_from_db()
    assert (bar.data, bar.updated) == (2.5, ahead + dt.timedelta(microseconds=1))
    services.artifact_update(artifact_id=bar.pk)
    assert Artifact.objects.get(pk=bar.pk).updated == ahead + dt.timedelta(microseconds=2)
    assert "loading" in SearchDocument.objects.get(artifact_id=bar.pk).title
    report = services.artifact_create(key="report", type="markdown", data="alpha")
    services.artifact_update(artifact_id=report.pk, data="omega")
    assert "omega" in SearchDocument.objects.get(artifact_id=report.pk).body
    with pytest.raises(services.ArtifactNotFound):
        services.artifact_update(artifact_id=uuid.uuid4(), data=3)


def test_update_unknown_artifact_raises_not_found():
    with pytest.raises(services.ArtifactNotFound):
        services.artifact_update(artifact_id=uuid.uuid4(), description="x")
    with pytest.raises(services.ArtifactNotFound):
        services.artifact_update(artifact_id=uuid.uuid4(), data="x")


def test_progress_increment_clamps():
    artifact = ArtifactFactory(progress=True)
    assert services.progress_set(artifact_id=artifact.id, increment=60).data == 60
    assert services.progress_set(artifact_id=artifact.id, increment=60).data == 100
    assert services.progress_set(artifact_id=artifact.id, increment=-500).data == 0
    assert services.progress_set(artifact_id=artifact.id, value=42).data == 42


def test_progress_increment_only_on_progress_artifacts():
    artifact = ArtifactFactory()
    with pytest.raises(ValidationError):
        services.progress_set(artifact_id=artifact.id, increment=1)


def test_deleting_latest_repoints_to_next_newest():
    first = ArtifactFactory(key="k")
    second = ArtifactFactory(key="k")
    third = ArtifactFactory(key="k")
    services.artifact_delete(artifact_id=third.id)
    collection = ArtifactCollection.objects.get(key="k")
    assert collection.latest_id == second.id
    services.artifact_delete(artifact_id=first.id)  # not the latest: pointer unchanged
    collection.refresh_from_db()
    assert collection.latest_id == second.id
    services.artifact_delete(artifact_id=second.id)
    assert not ArtifactCollection.objects.filter(key="k").exists()


def test_delete_unknown_raises_not_found():
    with pytest.raises(services.ArtifactNotFound):
        services.artifact_delete(artifact_id=uuid.uuid4())


def test_delete_key_removes_every_version_and_collection():
    for _ in range(3):
        ArtifactFactory(key="gone")
    keep = ArtifactFactory(key="kept")
    assert services.artifact_delete_key(key="gone") == 3
    assert not Artifact.objects.filter(key="gone").exists()
    assert list(ArtifactCollection.objects.values_list("key", flat=True)) == ["kept"]
    assert Artifact.objects.get() == keep
    with pytest.raises(services.ArtifactNotFound):
        services.artifact_delete_key(key="gone")


def _run_threads(count, target):
    errors = []
    barrier = threading.Barrier(count)

    def worker(i):
        try:
            barrier.wait()
            target(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("writers", [20])
def test_concurrent_creates_of_one_key_keep_every_version(writers):
    errors = _run_threads(
        writers,
        lambda i: services.artifact_create(key="busy", type="markdown", data=f"v{i}"),
    )
    assert errors == []
    versions = list(Artifact.objects.for_key("busy"))
    assert len(versions) == writers
    collection = ArtifactCollection.objects.get(key="busy")
    assert collection.latest_id == versions[0].id
    assert len({v.created for v in versions}) == writers


@pytest.mark.django_db(transaction=True)
def test_concurrent_increments_are_exact():
    artifact = services.artifact_create(key="bar", type="progress", data=0)
    errors = _run_threads(20, lambda i: services.progress_set(artifact_id=artifact.id, increment=1))
    assert errors == []
    artifact.refresh_from_db()
    assert artifact.data == 20


def test_nan_in_native_data_is_rejected():
    with pytest.raises(ValidationError) as excinfo:
        services.artifact_create(key="n", type="result", data={"x": float("nan")})
    assert "NaN" in str(excinfo.value)
    assert not Artifact.objects.exists()

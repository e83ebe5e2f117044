import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from artifacts_app import services
from artifacts_app.models import Artifact, ArtifactCollection
from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db


def versions(key, count):
    return [ArtifactFactory(key=key) for _ in range(count)]


def age(artifact, days):
    Artifact.objects.filter(pk=artifact.pk).update(created=timezone.now() - dt.timedelta(days=days))


def remaining(key):
    return list(Artifact.objects.for_key(key).values_list("pk", flat=True))


def test_keep_last_keeps_the_newest_versions_of_every_key():
    a = versions("alpha", 5)
    b = versions("beta", 2)
    report = services.artifact_prune(keep_last=3)
    assert remaining("alpha") == [v.pk for v in reversed(a[2:])]
    assert remaining("beta") == [v.pk for v in reversed(b)]
    assert report.deleted == 2
    assert report.keys == {"alpha": 2}
    assert ArtifactCollection.objects.get(key="alpha").latest_id == a[-1].pk


def test_ttl_drops_old_versions_including_unkeyed_ones():
    old, new = versions("alpha", 2)
    age(old, 40)
    unkeyed_old = ArtifactFactory(key=None)
    age(unkeyed_old, 40)
    unkeyed_new = ArtifactFactory(key=None)
    report = services.artifact_prune(ttl_days=30)
    assert remaining("alpha") == [new.pk]
    assert set(Artifact.objects.filter(key__isnull=True).values_list("pk", flat=True)) == {
        unkeyed_new.pk
    }
    assert report.keys == {"alpha": 1, None: 1}


def test_pinned_versions_are_never_pruned():
    first, *_ = versions("alpha", 4)
    Artifact.objects.filter(pk=first.pk).update(pinned=True)
    age(first, 400)
    services.artifact_prune(keep_last=1, ttl_days=1)
    assert len(remaining("alpha")) == 2
    assert first.pk in remaining("alpha")


def test_overrides_by_exact_key_and_glob():
    versions("nightly-a", 5)
    versions("nightly-b", 5)
    versions("keep-me", 5)
    versions("other", 5)
    overrides = {
        "nightly-*": {"keep_last": 2},
        "nightly-b": {"keep_last": 4},
        "keep-me": {"keep_last": None},
    }
    services.artifact_prune(keep_last=3, overrides=overrides)
    assert len(remaining("nightly-a")) == 2
    assert len(remaining("nightly-b")) == 4  # exact key wins over the glob
    assert len(remaining("keep-me")) == 5  # override switches retention off
    assert len(remaining("other")) == 3  # default


def test_override_names_only_what_it_changes():
    policy = services.retention_policy_for(
        "x", services.RetentionPolicy(keep_last=3, ttl_days=9), {"x": {"ttl_days": 2}}
    )
    assert policy == services.RetentionPolicy(keep_last=3, ttl_days=2)


def test_dry_run_writes_nothing_and_lists_what_would_go():
    a = versions("alpha", 4)
    before = Artifact.objects.count()
    with CaptureQueriesContext(connection) as queries:
        report = services.artifact_prune(keep_last=1, dry_run=True)
    assert Artifact.objects.count() == before
    assert not [
        q
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("DELETE", "UPDATE", "INSERT"))
    ]
    assert report.deleted == 3
    assert set(report.ids) == {v.pk for v in a[:3]}


def test_collection_repoints_when_the_latest_is_pruned_and_goes_with_the_last():
    pinned, newest = versions("alpha", 2)
    Artifact.objects.filter(pk=pinned.pk).update(pinned=True)
    for artifact in (pinned, newest):
        age(artifact, 10)
    gone = versions("beta", 2)
    for artifact in gone:
        age(artifact, 10)
    report = services.artifact_prune(ttl_days=5)
    collection = ArtifactCollection.objects.get(key="alpha")
    assert collection.latest_id == pinned.pk
    assert collection.type == pinned.type
    assert not ArtifactCollection.objects.filter(key="beta").exists()
    assert report.collections_repointed == 1
    assert report.collections_removed == 1


def test_prunes_in_batches_of_the_given_size():
    versions("alpha", 8)
    with CaptureQueriesContext(connection) as queries:
        report = services.artifact_prune(keep_last=1, batch_size=3)
    assert report.deleted == 7
    assert report.batches == 3
    deletes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith('DELETE FROM "ARTIFACTS_APP_ARTIFACT"')
    ]
    assert len(deletes) == 3  # one short DELETE per batch: 3 + 3 + 1 ids
    assert len(remaining("alpha")) == 1


def test_versions_created_during_the_run_are_kept():
    versions("alpha", 3)
    report = services.artifact_prune(keep_last=1, now=timezone.now() - dt.timedelta(days=1))
    assert report.deleted == 0


def test_command_dry_run_prints_and_keeps(settings):
    settings.ARTIFACTS_RETENTION_KEEP_LAST = 2
    settings.ARTIFACTS_RETENTION_OVERRIDES = {}
    versions("alpha", 5)
    out = io.StringIO()
    call_command("prune_artifacts", "--dry-run", stdout=out)
    assert "Would delete 3 version(s) of alpha" in out.getvalue()
    assert len(remaining("alpha")) == 5
    out = io.StringIO()
    call_command("prune_artifacts", stdout=out)
    assert "Deleted 3 artifact(s)" in out.getvalue()
    assert len(remaining("alpha")) == 2


def test_command_without_retention_does_nothing(settings):
    settings.ARTIFACTS_RETENTION_KEEP_LAST = 0
    settings.ARTIFACTS_RETENTION_TTL_DAYS = 0
    settings.ARTIFACTS_RETENTION_OVERRIDES = {}
    versions("alpha", 3)
    out = io.StringIO()
    call_command("prune_artifacts", stdout=out)
    assert "nothing to do" in out.getvalue()
    assert len(remaining("alpha")) == 3


def test_overrides_setting_is_validated(monkeypatch):
    import importlib

    import artifacts_app.settings as module

    try:
        monkeypatch.setenv("ARTIFACTS_RETENTION_OVERRIDES", json.dumps({"x": {"keep": 1}}))
        with pytest.raises(ValueError, match="ARTIFACTS_RETENTION_OVERRIDES"):
            importlib.reload(module)
        monkeypatch.setenv("ARTIFACTS_RETENTION_OVERRIDES", json.dumps({"x": {"keep_last": 1}}))
        assert importlib.reload(module).ARTIFACTS_RETENTION_OVERRIDES == {"x": {"keep_last": 1}}
    finally:
        monkeypatch.delenv("ARTIFACTS_RETENTION_OVERRIDES")
        importlib.reload(module)


def test_staff_pin_versions_in_admin_and_prune_keeps_them(client, staff_user):
    first, *_ = versions("alpha", 3)
    client.force_login(staff_user)
    response = client.post(
        "/admin/artifacts_app/artifact/",
        {"action": "pin", "_selected_action": [str(first.pk)]},
    )
    assert response.status_code == 302
    assert Artifact.objects.get(pk=first.pk).pinned
    services.artifact_prune(keep_last=1)
    assert len(remaining("alpha")) == 2
    assert first.pk in remaining("alpha")
    client.post(
        "/admin/artifacts_app/artifact/",
        {"action": "unpin", "_selected_action": [str(first.pk)]},
    )
    assert not Artifact.objects.get(pk=first.pk).pinned

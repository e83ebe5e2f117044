import io

import pytest
from django.core.management import call_command

from artifacts_app.models import ApiToken, Artifact, ArtifactCollection, hash_token

pytestmark = pytest.mark.django_db


def test_create_api_token_prints_token_alone_on_last_line(django_user_model):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "robot", stdout=out, stderr=err)
    raw = out.getvalue().strip().splitlines()[-1]
    assert raw.startswith("art_")
    assert " " not in raw
    token = ApiToken.objects.get(user__username="robot")
    assert token.digest == hash_token(raw)
    assert raw not in token.digest
    assert django_user_model.objects.filter(username="robot").exists()


def test_seed_demo_creates_every_type_and_versions():
    call_command("seed_demo", stdout=io.StringIO())
    types = set(Artifact.objects.values_list("type", flat=True))
    assert {"table", "markdown", "image", "progress", "result"} <= types
    assert Artifact.objects.filter(key="model-loss").count() >= 3
    assert Artifact.objects.filter(task_run_id__isnull=False).exists()
    assert Artifact.objects.filter(key__isnull=True).exists()
    for collection in ArtifactCollection.objects.with_latest():
        assert collection.latest == Artifact.objects.for_key(collection.key).first()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "skipping" in out.getvalue()

import io

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

from artifacts_app.models import ApiToken, Artifact, ArtifactCollection, Run, hash_token

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
    # What the dashboard can do: pages of keys, a long history, a big table, named runs.
    assert ArtifactCollection.objects.count() >= 60
    assert Artifact.objects.filter(key="daily-revenue").count() == 30
    assert len(Artifact.objects.get(key="orders-export").data) == 2500
    assert types >= {"table", "markdown", "image", "progress", "result", "html", None}
    flows = {}
    for run in Run.objects.flow_runs():
        flows.setdefault(run.flow_name, []).append(run.name)
    assert set(flows) == {"nightly-etl", "train-model"}
    # The image artifact shows without internet: it points at a chart in our static files.
    image = Artifact.objects.get(key="throughput-chart").data
    assert image == "http://127.0.0.1:8000/static/artifacts/demo/throughput.svg"
    assert finders.find("artifacts/demo/throughput.svg")
    assert all(len(names) >= 3 and all(names) for names in flows.values())
    task_runs = Run.objects.filter(kind="task")
    assert task_runs.count() >= 10
    assert not task_runs.filter(name="").exists()
    # Every artifact's runs have names.
    run_ids = set(Artifact.objects.values_list("flow_run_id", flat=True))
    run_ids |= set(Artifact.objects.values_list("task_run_id", flat=True))
    run_ids.discard(None)
    assert Run.objects.filter(id__in=run_ids, name="").count() == 0
    assert Run.objects.filter(id__in=run_ids).count() == len(run_ids)
    count = Artifact.objects.count()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "skipping" in out.getvalue()
    assert Artifact.objects.count() == count

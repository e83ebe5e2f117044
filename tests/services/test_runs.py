"""Run records: one upsert (services.run_upsert) for every source; artifacts note their runs."""

import datetime as dt
import urllib.request
import uuid

import pytest

from artifacts_app import services
from artifacts_app.models import FLOW_RUN, TASK_RUN, Run, short_id
from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db

# Time-ordered ids share their first characters.
FLOW = uuid.UUID("0190f1e4-0000-7000-8000-000000000001")
OTHER_FLOW = uuid.UUID("0190f1e4-0000-7000-8000-000000000002")
TASK = uuid.UUID("0190f1e4-0000-7000-8000-000000000003")


def test_upsert_inserts_then_changes_only_what_is_given():
    start = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    written = services.run_upsert(
        runs=[
            {"id": FLOW, "kind": FLOW_RUN, "name": "crimson-tiger", "flow_name": "nightly-etl"},
            {"id": str(TASK), "kind": TASK_RUN, "name": "load-1", "flow_run_id": str(FLOW)},
        ]
    )
    assert written == 2
    # A source that knows less (no names) erases nothing; one that knows more adds it.
    assert services.run_upsert(runs=[{"id": FLOW, "kind": FLOW_RUN}]) == 0
    assert services.run_upsert(runs=[{"id": FLOW, "kind": FLOW_RUN, "name": None}]) == 0
    assert (
        services.run_upsert(
            runs=[{"id": FLOW, "kind": FLOW_RUN, "start_time": start, "state": "COMPLETED"}]
        )
        == 1
    )
    flow = Run.objects.get(pk=FLOW)
    assert (flow.name, flow.flow_name, flow.start_time, flow.state) == (
        "crimson-tiger",
        "nightly-etl",
        start,
        "COMPLETED",
    )
    assert flow.label == "nightly-etl / crimson-tiger"
    task = Run.objects.get(pk=TASK)
    assert (task.kind, task.flow_run_id, task.label) == (TASK_RUN, FLOW, "load-1")
    # The same facts again write nothing.
    assert services.run_upsert(runs=[{"id": FLOW, "kind": FLOW_RUN, "name": "crimson-tiger"}]) == 0


def test_upsert_refuses_an_unknown_kind():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.run_upsert(runs=[{"id": FLOW, "kind": "deployment"}])
    assert not Run.objects.exists()


def test_artifacts_note_their_runs_without_overwriting_names():
    services.run_upsert(runs=[{"id": FLOW, "kind": FLOW_RUN, "name": "crimson-tiger"}])
    ArtifactFactory(key="report", flow_run_id=FLOW, task_run_id=TASK)
    ArtifactFactory(key=None, flow_run_id=OTHER_FLOW)
    ArtifactFactory(key="report", flow_run_id=FLOW)
    assert Run.objects.get(pk=FLOW).name == "crimson-tiger"
    task = Run.objects.get(pk=TASK)
    assert (task.kind, task.flow_run_id) == (TASK_RUN, FLOW)
    assert Run.objects.get(pk=OTHER_FLOW).kind == FLOW_RUN
    assert set(Run.objects.flow_runs().values_list("id", flat=True)) == {FLOW, OTHER_FLOW}


def test_short_id_tells_time_ordered_ids_apart():
    assert short_id(FLOW) != short_id(OTHER_FLOW)
    assert short_id(FLOW) == "000000000001"
    assert Run(id=OTHER_FLOW, kind=FLOW_RUN).label == "000000000002"


def test_prefect_server_fixture_answers(prefect_server):
    with urllib.request.urlopen(f"{prefect_server.api_url}/health", timeout=5) as answer:
        assert answer.read() == b"true"
    with urllib.request.urlopen(f"{prefect_server.api_url}/admin/version", timeout=5) as answer:
        assert answer.read() == b'"3.9.1"'


def test_migration_backfills_runs_of_older_artifacts():
    import importlib

    from django.apps import apps

    from artifacts_app.models import Artifact

    ArtifactFactory(key="a", flow_run_id=FLOW, task_run_id=TASK)
    ArtifactFactory(key="b", flow_run_id=FLOW)
    ArtifactFactory(key="c", flow_run_id=OTHER_FLOW)
    first = Artifact.objects.filter(flow_run_id=FLOW).order_by("created").first().created
    Run.objects.all().delete()  # as before migration 0004
    migration = importlib.import_module("artifacts_app.migrations.0008_backfill_runs")
    migration.backfill(apps, None)
    migration.backfill(apps, None)  # running it again changes nothing
    assert set(Run.objects.flow_runs().values_list("id", flat=True)) == {FLOW, OTHER_FLOW}
    assert Run.objects.get(pk=FLOW).created == first
    task = Run.objects.get(pk=TASK)
    assert (task.kind, task.flow_run_id) == (TASK_RUN, FLOW)

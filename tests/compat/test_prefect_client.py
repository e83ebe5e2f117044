"""Prefect's own client (prefect==3.9.1 in .venv-prefect) against our server over HTTP."""

import json
import os
import subprocess
import tempfile

import pytest

from artifacts_app import services
from artifacts_app.models import Artifact, ArtifactCollection, Run
from tests.conftest import ROOT

PREFECT_PYTHON = ROOT / ".venv-prefect" / "bin" / "python"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not PREFECT_PYTHON.exists() and not os.environ.get("REQUIRE_PREFECT"),
        reason="no .venv-prefect (make prefect-venv); REQUIRE_PREFECT=1 makes this a failure",
    ),
]


def run_prefect(script: str, env: dict, timeout: int = 400) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as home:
        return subprocess.run(
            [
                str(PREFECT_PYTHON),
                "-W",
                "ignore::ResourceWarning",
                str(ROOT / "tests" / "compat" / script),
            ],
            env={
                **os.environ,
                "PREFECT_HOME": home,
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                # The flow test starts Prefect's ephemeral server: on a busy 2-core machine it
                # needs more than the default 20 s to come up.
                "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
                **env,
            },
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )


def test_every_prefect_artifact_call_works(server_process, user):
    _, token = services.token_create(user=user, name="prefect")
    done = run_prefect(
        "prefect_script.py", {"PREFECT_API_URL": f"{server_process}/api", "PREFECT_API_KEY": token}
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["warnings"] == []  # no complaint about events, version or connection

    table = Artifact.objects.get(pk=report["table"])
    assert table.type == "table"
    assert json.loads(table.data) == [{"a": 1, "b": None}]  # NaN -> null, sent as a JSON string
    link = Artifact.objects.get(pk=report["link"])
    assert (link.type, link.data) == ("markdown", "[Example](https://example.com)")
    progress = Artifact.objects.get(pk=report["progress"])
    assert (progress.data, progress.description) == (55.0, "halfway")
    assert Artifact.objects.get(pk=report["aprogress"]).data == 99.0
    assert report["get"]["id"] == report["table"]
    assert report["get_or_create_existing"] == [report["table"], False]
    assert report["get_or_create_new"][1] is True
    assert Artifact.objects.get(pk=report["get_or_create_new"][0]).type == "result"
    assert report["read_tables"] == ["compat-atable", "compat-table"]
    assert report["read_by_key"] == [report["markdown"]]
    assert "compat-explicit" in report["latest_keys"]
    assert not ArtifactCollection.objects.filter(
        key="compat-explicit"
    ).exists()  # deleted by the client
    assert not Artifact.objects.filter(pk=report["deleted"]).exists()
    assert report["aget"] == report["amarkdown"]
    assert (
        ArtifactCollection.objects.get(key="compat-alink").latest_id
        == Artifact.objects.get(pk=report["alink"]).pk
    )
    assert len(report["latest_ids"]) == ArtifactCollection.objects.count() + 1


def test_prefect_flow_posts_through_our_client_with_run_ids(server_process, user):
    """A real Prefect flow (ephemeral Prefect server) using OUR client: run ids come from
    Prefect's run context."""
    _, token = services.token_create(user=user, name="flow")
    env = {
        "ARTIFACTS_API_URL": f"{server_process}/api",
        "ARTIFACTS_API_TOKEN": token,
        "PREFECT_API_URL": "",
    }
    done = run_prefect("prefect_flow.py", env)
    assert done.returncode == 0, done.stderr[-3000:]
    ids = json.loads(done.stdout.strip().splitlines()[-1])
    flow_art = Artifact.objects.get(key="flow-summary")
    task_art = Artifact.objects.get(key="task-table")
    assert str(flow_art.flow_run_id) == ids["flow_run_id"]
    assert flow_art.task_run_id is None
    assert str(task_art.flow_run_id) == ids["flow_run_id"]
    assert str(task_art.task_run_id) == ids["task_run_id"]
    # Names from Prefect's run context, through our extension route.
    flow_run = Run.objects.get(pk=ids["flow_run_id"])
    assert (flow_run.kind, flow_run.flow_name, flow_run.name) == (
        "flow",
        "compat-pipeline",
        "compat-run-1",
    )
    assert flow_run.start_time is not None
    task_run = Run.objects.get(pk=ids["task_run_id"])
    assert (task_run.kind, task_run.name, str(task_run.flow_run_id)) == (
        "task",
        "crunch-numbers",
        ids["flow_run_id"],
    )

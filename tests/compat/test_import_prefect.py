"""`manage.py import_prefect` against a live Prefect 3.9.1 server (the `prefect_server` fixture),
seeded through Prefect's own client: every artifact arrives as Prefect answers it, field by
field, through our API; latest per key agrees; a second import writes nothing; run pages name
the flow and task runs; `--follow` picks up a new version."""

import datetime as dt
import io
import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from artifacts_app.models import Artifact, ArtifactCollection, Run
from tests.conftest import ROOT, database_url
from tests.prefect_server import PREFECT_PYTHON, prefect_env
from tests.processes import stop_process

pytestmark = pytest.mark.django_db(transaction=True)

FIELDS = ("id", "key", "type", "description", "data", "metadata_", "flow_run_id", "task_run_id")


def seed(server, what: str) -> dict:
    done = subprocess.run(
        [str(PREFECT_PYTHON), str(ROOT / "tests" / "compat" / "prefect_seed.py"), what],
        env=prefect_env(server.home, PREFECT_API_URL=server.api_url),
        capture_output=True,
        text=True,
        timeout=400,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def seeded(prefect_server):
    return prefect_server, seed(prefect_server, "initial")


def prefect_artifacts(server) -> list[dict]:
    return httpx.post(
        f"{server.api_url}/artifacts/filter", json={"sort": "ID_DESC", "limit": 200}, timeout=30
    ).json()


def run_import(*args) -> str:
    out = io.StringIO()
    call_command("import_prefect", *args, stdout=out)
    return out.getvalue()


def when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def test_import_copies_every_artifact_as_prefect_answers_it(seeded):
    server, report = seeded
    output = run_import(server.api_url)
    theirs = prefect_artifacts(server)
    assert len(theirs) == 19
    assert f"refused {report['refused']} (key 'too-big')" in output
    assert f"refused {report['refused_nul']} (key 'nul-data')" in output
    assert "Done: 19 artifacts read" in output
    assert "17 new, 0 updated, 0 unchanged, 2 refused; 2 runs named." in output
    api = APIClient()
    for artifact in theirs:
        answer = api.get(f"/api/artifacts/{artifact['id']}")
        if artifact["id"] in (report["refused"], report["refused_nul"]):
            assert answer.status_code == 404  # reported and skipped, nothing half-written
            continue
        assert answer.status_code == 200, artifact
        ours = answer.json()
        for name in FIELDS:
            assert ours[name] == artifact[name], (name, artifact)
        for name in ("created", "updated"):
            assert when(ours[name]) == when(artifact[name]), (name, artifact)
    assert {a.type for a in Artifact.objects.all()} == {
        "markdown", "table", "progress", "image", "result", "html", None,
    }  # fmt: skip
    assert Artifact.objects.filter(key__isnull=True).count() == 4

    # The latest version of every key is Prefect's latest.
    collections = httpx.post(
        f"{server.api_url}/artifacts/latest/filter", json={"limit": 200}, timeout=30
    ).json()
    # too-big and nul-data were refused
    assert len(collections) == ArtifactCollection.objects.count() + 2
    for collection in collections:
        if collection["key"] in ("too-big", "nul-data"):
            continue
        ours = api.get(f"/api/artifacts/{collection['key']}/latest").json()
        assert ours["id"] == collection["latest_id"], collection["key"]
        assert ours["data"] == collection["data"]

    # Runs by name: the flow run and task run of the flow Prefect ran.
    flow_run = Run.objects.get(pk=report["flow_run_id"])
    assert (flow_run.kind, flow_run.flow_name, flow_run.name) == ("flow", "seed-flow", "seed-run")
    assert flow_run.state == "Completed"
    assert flow_run.start_time is not None
    task_run = Run.objects.get(pk=report["task_run_id"])
    assert (task_run.kind, task_run.name, str(task_run.flow_run_id)) == (
        "task",
        "seed-task-run",
        report["flow_run_id"],
    )
    from django.test import Client

    page = Client().get(f"/runs/flow-run/{report['flow_run_id']}/").content.decode()
    assert "seed-flow / seed-run" in page
    assert "seed-task-run" in page
    assert "flow-summary" in page
    index = Client().get("/runs/").content.decode()
    assert "seed-run" in index

    # A second import writes nothing.
    before = list(Artifact.objects.order_by("id").values_list("id", "updated"))
    again = run_import(server.api_url)
    assert "0 new, 0 updated, 17 unchanged, 2 refused; 0 runs named." in again
    assert list(Artifact.objects.order_by("id").values_list("id", "updated")) == before

    # An interrupted import resumes: what is missing here is written, the rest left alone.
    from artifacts_app import services

    gone = [a["id"] for a in theirs if a["key"] == "report"][:2]
    for artifact_id in gone:
        services.artifact_delete(artifact_id=artifact_id)
    resumed = run_import(server.api_url)
    assert "2 new, 0 updated, 15 unchanged, 2 refused" in resumed
    assert list(Artifact.objects.order_by("id").values_list("id", "updated")) == before
    assert api.get("/api/artifacts/report/latest").json()["data"] == "# Report 2"

    # Changed in Prefect since: updated here; a dry run counts it first and writes nothing.
    target = next(a for a in theirs if a["key"] == "docs")
    patched = httpx.patch(
        f"{server.api_url}/artifacts/{target['id']}",
        json={"data": "[Docs v2](https://example.com/v2)", "description": "moved"},
        timeout=30,
    )
    assert patched.status_code == 204
    dry = run_import(server.api_url, "--dry-run")
    assert "Would write: 19 artifacts read" in dry
    assert "0 new, 1 updated, 16 unchanged" in dry
    assert Artifact.objects.get(pk=target["id"]).description is None
    run_import(server.api_url)
    changed = Artifact.objects.get(pk=target["id"])
    assert (changed.data, changed.description) == ("[Docs v2](https://example.com/v2)", "moved")
    fresh = httpx.get(f"{server.api_url}/artifacts/{target['id']}", timeout=30).json()
    assert when(api.get(f"/api/artifacts/{target['id']}").json()["updated"]) == when(
        fresh["updated"]
    )

    # --since: only what was updated since then is read.
    since = run_import(server.api_url, "--since", fresh["updated"])
    assert "Done: 1 artifacts read" in since


def start_follow(api_url: str) -> subprocess.Popen:
    """`import_prefect URL --follow --interval 1` as a subprocess on the test database (stop it
    by PID)."""
    command = [
        sys.executable,
        "manage.py",
        "import_prefect",
        api_url,
        "--follow",
        "--interval",
        "1",
    ]
    return subprocess.Popen(
        command,
        env={**os.environ, "DATABASE_URL": database_url()},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_follow_picks_up_a_new_version(seeded):
    server, _ = seeded
    run_import(server.api_url)
    process = start_follow(server.api_url)
    try:
        new_id = seed(server, "more")["new"]
        deadline = time.monotonic() + 90
        while not Artifact.objects.filter(pk=new_id).exists():
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "--follow did not pick up the new version"
            time.sleep(0.5)
        latest = APIClient().get("/api/artifacts/report/latest").json()
        assert latest["id"] == new_id
        assert latest["data"] == "# Report 3"
    finally:
        stop_process(process, wait=20)
    assert process.returncode == 0
    assert "1 new" in process.stdout.read()


def test_unreachable_prefect_is_a_clear_error():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="127.0.0.1:9"):
        call_command("import_prefect", "http://127.0.0.1:9/api", stdout=io.StringIO())


def _prefect_create(url: str, body: dict) -> dict:
    """POST to Prefect's own server, which answers 5xx now and then while its SQLite database is
    busy with its background services: a few tries, then a failure that says what it answered."""
    for _ in range(5):
        response = httpx.post(url, json=body, timeout=30)
        if response.status_code in (200, 201):
            return response.json()
        time.sleep(1)
    raise AssertionError(f"Prefect answered {response.status_code}: {response.text[:500]}")


def test_names_are_looked_up_on_first_sight(prefect_server, api_client, settings):
    """ARTIFACTS_PREFECT_API_URL: a run first seen in an artifact gets its names from Prefect."""
    base = prefect_server.api_url
    flow = _prefect_create(f"{base}/flows/", {"name": "lookup-flow"})
    flow_run = _prefect_create(f"{base}/flow_runs/", {"flow_id": flow["id"], "name": "lookup-run"})
    task_run = _prefect_create(
        f"{base}/task_runs/",
        {"flow_run_id": flow_run["id"], "task_key": "k", "dynamic_key": "0", "name": "lookup-task"},
    )
    settings.ARTIFACTS_PREFECT_API_URL = base
    body = {"key": "looked-up", "type": "markdown", "data": "x", "task_run_id": task_run["id"]}
    body["flow_run_id"] = flow_run["id"]
    assert api_client.post("/api/artifacts/", body, format="json").status_code == 201
    named = Run.objects.get(pk=flow_run["id"])
    assert (named.flow_name, named.name) == ("lookup-flow", "lookup-run")
    assert Run.objects.get(pk=task_run["id"]).name == "lookup-task"


def test_a_prefect_that_is_down_never_blocks_a_write(api_client, settings):
    import uuid

    settings.ARTIFACTS_PREFECT_API_URL = "http://127.0.0.1:9/api"  # nothing listens
    flow_run_id = str(uuid.uuid4())
    body = {"key": "k", "type": "markdown", "data": "x", "flow_run_id": flow_run_id}
    assert api_client.post("/api/artifacts/", body, format="json").status_code == 201
    run = Run.objects.get(pk=flow_run_id)
    assert run.name == ""
    retry_at = run.lookup_retry_at
    assert retry_at is not None  # the failure is remembered (in the database, for every worker)
    assert api_client.post("/api/artifacts/", body, format="json").status_code == 201
    assert Run.objects.get(pk=flow_run_id).lookup_retry_at == retry_at  # not asked again yet


def test_a_server_with_an_auth_string():
    """A self-hosted Prefect with PREFECT_SERVER_API_AUTH_STRING: refused without it (a clear
    error, nothing written), imported with --auth-string (or PREFECT_API_AUTH_STRING)."""
    import base64

    from django.core.management.base import CommandError

    from tests.prefect_server import require_prefect_venv, start_prefect_server, stop_prefect_server

    require_prefect_venv()
    server = start_prefect_server(PREFECT_SERVER_API_AUTH_STRING="admin:s3cret")
    try:
        basic = base64.b64encode(b"admin:s3cret").decode()
        made = httpx.post(
            f"{server.api_url}/artifacts/",
            json={"key": "guarded", "type": "markdown", "data": "# behind auth"},
            headers={"Authorization": f"Basic {basic}"},
            timeout=30,
        )
        assert made.status_code == 201, made.text
        with pytest.raises(CommandError, match="401"):
            run_import(server.api_url)
        assert not Artifact.objects.exists()
        output = run_import(server.api_url, "--auth-string", "admin:s3cret")
        assert "1 new" in output
        assert Artifact.objects.get(pk=made.json()["id"]).data == "# behind auth"
    finally:
        stop_prefect_server(server.process)
        import shutil

        shutil.rmtree(server.home, ignore_errors=True)


def test_follow_outlives_a_prefect_restart():
    """--follow keeps going while Prefect's server is away: each poll says so and waits for the
    next (a poll is idempotent, so nothing is lost)."""
    import shutil

    from tests.prefect_server import require_prefect_venv, start_prefect_server, stop_prefect_server

    require_prefect_venv()
    server = start_prefect_server()
    process = start_follow(server.api_url)
    try:
        deadline = time.monotonic() + 60
        while not process.stdout.readline().startswith("Done:"):
            assert time.monotonic() < deadline
        stop_prefect_server(server.process)
        line = process.stdout.readline()
        assert "trying again in 1 s" in line, line
        assert process.poll() is None
    finally:
        stop_process(process, wait=20)
        stop_prefect_server(server.process)
        shutil.rmtree(server.home, ignore_errors=True)
    assert process.returncode == 0


def test_any_server_speaking_prefects_artifact_api_imports_without_names(tmp_path):
    """Another artifacts-dashboard (its own database) speaks Prefect's artifact routes but has
    no run routes: its artifacts are copied, the import says names are not available."""
    import uuid

    from tests.conftest import start_uvicorn

    source_db = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": source_db}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    token = subprocess.run(
        [sys.executable, "manage.py", "create_api_token", "importer"],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    process, base = start_uvicorn(source_db)
    try:
        flow_run_id = str(uuid.uuid4())
        headers = {"Authorization": f"Bearer {token}"}
        made = [
            httpx.post(
                f"{base}/api/artifacts/",
                json={"key": "elsewhere", "type": "markdown", "data": f"# v{n}",
                      "flow_run_id": flow_run_id},
                headers=headers,
                timeout=30,
            ).json()["id"]
            for n in range(3)
        ]  # fmt: skip
        output = run_import(f"{base}/api")
    finally:
        stop_process(process)
    assert "run names not available from this server" in output
    assert "3 new" in output
    assert set(map(str, Artifact.objects.values_list("id", flat=True))) == set(made)
    assert APIClient().get("/api/artifacts/elsewhere/latest").json()["id"] == made[-1]
    assert Run.objects.get(pk=flow_run_id).name == ""

"""The Python client against a live server on 127.0.0.1 (pytest-django's live_server)."""

import json
import math
import os
import subprocess
import sys
import uuid

import pytest

from artifacts_app import client as c
from artifacts_app import services
from artifacts_app.models import Artifact, ArtifactCollection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(live_server, user, monkeypatch):
    _, token = services.token_create(user=user, name="client")
    monkeypatch.setenv("ARTIFACTS_API_URL", f"{live_server.url}/api")
    monkeypatch.setenv("ARTIFACTS_API_TOKEN", token)
    monkeypatch.delenv("ARTIFACTS_FLOW_RUN_ID", raising=False)
    monkeypatch.delenv("ARTIFACTS_TASK_RUN_ID", raising=False)
    for name in ("ARTIFACTS_FLOW_NAME", "ARTIFACTS_FLOW_RUN_NAME", "ARTIFACTS_TASK_RUN_NAME"):
        monkeypatch.delenv(name, raising=False)
    return {"url": f"{live_server.url}/api", "token": token}


def test_client_imports_without_django():
    code = "import sys, artifacts_app.client; print('django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_create_helpers_send_prefects_wire_format(api):
    table_id = c.create_table_artifact({"a": [1.5, math.nan]}, key="tbl", description="numbers")
    assert isinstance(table_id, uuid.UUID)
    table = Artifact.objects.get(pk=table_id)
    assert table.type == "table"
    assert table.data == '{"a": [1.5, null]}'
    link = Artifact.objects.get(
        pk=c.create_link_artifact("https://example.com", "Example", key="lnk")
    )
    assert (link.type, link.data) == ("markdown", "[Example](https://example.com)")
    bare = Artifact.objects.get(pk=c.create_link_artifact("https://example.com/x"))
    assert bare.data == "[https://example.com/x](https://example.com/x)"
    image = Artifact.objects.get(pk=c.create_image_artifact("https://example.com/a.png", key="img"))
    assert (image.type, image.data) == ("image", "https://example.com/a.png")
    md = Artifact.objects.get(pk=c.create_markdown_artifact("# Title", key="md"))
    assert (md.type, md.data) == ("markdown", "# Title")


def test_progress_is_clamped_with_a_warning(api):
    with pytest.warns(UserWarning, match="clamped"):
        pid = c.create_progress_artifact(150, key="bar")
    assert Artifact.objects.get(pk=pid).data == 100.0
    c.update_progress_artifact(pid, 20, description="now 20")
    bar = Artifact.objects.get(pk=pid)
    assert (bar.data, bar.description) == (20.0, "now 20")
    assert c.increment_progress(pid, 5) == 25.0
    with pytest.warns(UserWarning, match="clamped"):
        c.update_progress_artifact(pid, 150)  # as Prefect's client: clamped, never refused
    assert Artifact.objects.get(pk=pid).data == 100.0
    c.update_progress_artifact(pid, math.nan)  # pydantic's JSON mode sends NaN as null
    assert Artifact.objects.get(pk=pid).data is None


def test_get_and_get_or_create(api):
    assert c.Artifact.get("nothing") is None
    first, created = c.Artifact.get_or_create(
        "thing", description="d", data={"x": 1}, type="result"
    )
    assert created is True
    assert first.data == '{"x": 1}'  # a generic artifact's data goes as JSON text, as Prefect
    again, created = c.Artifact.get_or_create("thing", data={"y": 2})
    assert (again.id, created) == (first.id, False)
    assert c.Artifact.get("thing").id == first.id


def test_update_helpers_change_data_in_place(api):
    tid = c.create_table_artifact([{"a": 1}], key="t")
    c.update_table_artifact(tid, [{"a": 2}])
    assert Artifact.objects.get(pk=tid).data == '[{"a": 2}]'
    mid = c.create_markdown_artifact("old", key="m")
    c.update_markdown_artifact(mid, "new", description="edited")
    assert Artifact.objects.get(pk=mid).data == "new"
    lid = c.create_link_artifact("https://a.example", key="l")
    c.update_link_artifact(lid, "https://b.example", link_text="B")
    assert Artifact.objects.get(pk=lid).data == "[B](https://b.example)"
    iid = c.create_image_artifact("https://a.example/1.png", key="i")
    c.update_image_artifact(iid, "https://a.example/2.png")
    assert Artifact.objects.get(pk=iid).data == "https://a.example/2.png"
    assert Artifact.objects.count() == 4


def test_delete_by_key_and_id(api):
    a = c.create_markdown_artifact("1", key="gone")
    c.create_markdown_artifact("2", key="gone")
    keep = c.create_markdown_artifact("3", key="kept")
    assert c.delete_artifact(artifact_id=keep) == 1
    assert c.delete_artifact(key="gone") == 2
    assert not Artifact.objects.filter(pk=a).exists()
    with pytest.raises(c.ArtifactNotFound):
        c.delete_artifact(key="gone")
    with pytest.raises(TypeError):
        c.delete_artifact()


def test_errors_are_clear(api, monkeypatch):
    with pytest.raises(c.ValidationError, match="lowercase letters"):
        c.create_markdown_artifact("x", key="Not Valid")
    with pytest.raises(c.ValidationError, match="metadata_"):
        c.Artifact(type="result", data=1, metadata_={"n": 1}).create()
    with pytest.raises(c.ArtifactNotFound):
        c.update_progress_artifact(uuid.uuid4(), 5)
    monkeypatch.setenv("ARTIFACTS_API_TOKEN", "art_wrong")
    with pytest.raises(c.AuthenticationError):
        c.create_markdown_artifact("x")
    assert Artifact.objects.count() == 0


def test_unreachable_server_raises_after_retries(monkeypatch):
    monkeypatch.setenv("ARTIFACTS_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("ARTIFACTS_API_RETRIES", "1")
    with pytest.raises(c.ServerError, match="Cannot reach"):
        c.create_markdown_artifact("x")


def test_run_ids_from_environment(api, monkeypatch):
    flow, task = uuid.uuid4(), uuid.uuid4()
    monkeypatch.setenv("ARTIFACTS_FLOW_RUN_ID", str(flow))
    monkeypatch.setenv("ARTIFACTS_TASK_RUN_ID", str(task))
    artifact = Artifact.objects.get(pk=c.create_markdown_artifact("x", key="run"))
    assert (artifact.flow_run_id, artifact.task_run_id) == (flow, task)


def test_run_names_from_environment_are_sent_once(api, monkeypatch):
    from artifacts_app.models import Run

    flow, task = uuid.uuid4(), uuid.uuid4()
    monkeypatch.setenv("ARTIFACTS_FLOW_RUN_ID", str(flow))
    monkeypatch.setenv("ARTIFACTS_TASK_RUN_ID", str(task))
    monkeypatch.setenv("ARTIFACTS_FLOW_NAME", "nightly-etl")
    monkeypatch.setenv("ARTIFACTS_FLOW_RUN_NAME", "crimson-tiger")
    monkeypatch.setenv("ARTIFACTS_TASK_RUN_NAME", "load-1")
    sent = []
    original = c.ArtifactsClient.send

    def spy(self, request):
        sent.append(request.path)
        return original(self, request)

    monkeypatch.setattr(c.ArtifactsClient, "send", spy)
    c.create_markdown_artifact("x", key="named")
    c.create_markdown_artifact("y", key="named")
    assert sent == ["ext/runs", "artifacts/", "artifacts/"]  # the names go once per run
    flow_run, task_run = Run.objects.get(pk=flow), Run.objects.get(pk=task)
    assert (flow_run.flow_name, flow_run.name) == ("nightly-etl", "crimson-tiger")
    assert (task_run.name, task_run.flow_run_id) == ("load-1", flow)


def test_names_failing_never_stop_the_artifact(api, monkeypatch, settings):
    """A server without the route (or refusing the names) still gets the artifact."""
    flow = uuid.uuid4()
    monkeypatch.setenv("ARTIFACTS_FLOW_RUN_ID", str(flow))
    monkeypatch.setenv("ARTIFACTS_FLOW_RUN_NAME", "x" * 600)  # the server refuses it: 422
    artifact = Artifact.objects.get(pk=c.create_markdown_artifact("x", key="still-made"))
    assert artifact.flow_run_id == flow


def test_explicit_client(live_server, user):
    _, token = services.token_create(user=user)
    with c.ArtifactsClient(api_url=f"{live_server.url}/api", api_token=token) as client:
        aid = c.create_markdown_artifact("explicit", key="exp", client=client)
    assert Artifact.objects.get(pk=aid).key == "exp"


async def test_async_twins(api):
    tid = await c.acreate_table_artifact([[1, 2], [3, 4]], key="atable")
    pid = await c.acreate_progress_artifact(10, key="abar")
    await c.aupdate_progress_artifact(pid, 40)
    assert await c.aincrement_progress(pid, 1) == 41.0
    lid = await c.acreate_link_artifact("https://example.com", key="alink")
    iid = await c.acreate_image_artifact("https://example.com/a.png", key="aimg")
    mid = await c.acreate_markdown_artifact("*hi*", key="amd")
    got = await c.Artifact.aget("amd")
    assert got.id == mid
    made, created = await c.Artifact.aget_or_create("amd")
    assert (made.id, created) == (mid, False)
    # sync names called inside a running loop dispatch to the async twin, as Prefect's do
    other = await c.create_markdown_artifact("dispatched", key="amd")
    assert await c.adelete_artifact(key="amd") == 2
    assert other != mid
    from asgiref.sync import sync_to_async

    keys = await sync_to_async(
        lambda: sorted(ArtifactCollection.objects.values_list("key", flat=True))
    )()
    assert keys == ["abar", "aimg", "alink", "atable"]
    assert {tid, pid, lid, iid}


def run_cli(api, *args, stdin: str | None = None):
    env = {**os.environ, "ARTIFACTS_API_URL": api["url"], "ARTIFACTS_API_TOKEN": api["token"]}
    return subprocess.run(
        [sys.executable, "-m", "artifacts_app.client.cli", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_create_ls_inspect_delete(api, tmp_path):
    csv_file = tmp_path / "scores.csv"
    csv_file.write_text("name,score\nada,3\nbob,5\n")
    made = run_cli(api, "create", "table", str(csv_file), "--key", "scores")
    assert made.returncode == 0, made.stderr
    table = Artifact.objects.get(pk=made.stdout.strip())
    assert json.loads(table.data) == [{"name": "ada", "score": "3"}, {"name": "bob", "score": "5"}]
    md = run_cli(api, "create", "markdown", "-", "--key", "notes", stdin="# From stdin\n")
    assert Artifact.objects.get(pk=md.stdout.strip()).data == "# From stdin\n"
    assert run_cli(api, "create", "progress", "42", "--key", "bar").returncode == 0
    assert run_cli(api, "create", "link", "https://example.com", "--text", "Ex").returncode == 0
    listing = run_cli(api, "ls")
    assert "scores" in listing.stdout
    assert "notes" in listing.stdout
    as_json = json.loads(run_cli(api, "ls", "--json", "--type", "table").stdout)
    assert [row["key"] for row in as_json] == ["scores"]
    inspected = json.loads(run_cli(api, "inspect", "scores").stdout)
    assert inspected["id"] == str(table.id)
    assert len(inspected["versions"]) == 1
    gone = run_cli(api, "delete", "scores")
    assert gone.returncode == 0
    assert not Artifact.objects.filter(key="scores").exists()


def test_cli_errors_are_one_line(api):
    missing = run_cli(api, "inspect", "no-such-key")
    assert missing.returncode == 1
    assert missing.stderr.strip().count("\n") == 0
    assert "404" in missing.stderr
    bad = run_cli(api, "create", "progress", "5", "--key", "Not Valid")
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    assert run_cli(api, "--help").returncode == 0
    assert run_cli(api, "create", "table", "--help").returncode == 0

"""Every route from each side: no token, bad token, unknown id, bad body, happy path."""

import uuid

import pytest

from artifacts_app.models import Artifact, ArtifactCollection
from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db

MISSING = "00000000-0000-4000-8000-000000000000"


def test_health_version_and_csrf_token(anon_client):
    assert anon_client.get("/api/health").json() is True
    assert anon_client.get("/api/admin/version").json().startswith("3.")
    response = anon_client.get("/api/csrf-token?client=abc")
    assert response.status_code == 422
    assert response.json()["detail"] == "CSRF protection is disabled."


@pytest.mark.parametrize("path", ["/api/artifacts/", "/api/artifacts"])
def test_create_returns_201_and_prefect_shape(api_client, path):
    body = {
        "key": "nightly",
        "type": "table",
        "description": "d",
        "data": '[{"a": 1}]',
        "metadata_": {"rows": "1"},
        "flow_run_id": str(uuid.uuid4()),
        "task_run_id": None,
    }
    response = api_client.post(path, body, format="json")
    assert response.status_code == 201, response.content
    got = response.json()
    assert set(got) == {
        "id",
        "created",
        "updated",
        "key",
        "type",
        "description",
        "data",
        "metadata_",
        "flow_run_id",
        "task_run_id",
    }
    assert got["data"] == '[{"a": 1}]'  # stored and answered exactly as sent
    assert got["metadata_"] == {"rows": "1"}
    assert Artifact.objects.get(pk=got["id"]).key == "nightly"


def test_create_needs_a_token(anon_client):
    response = anon_client.post("/api/artifacts/", {"type": "markdown", "data": "x"}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Artifact.objects.exists()


def test_create_with_bad_token_is_401(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer art_not-a-real-token")
    response = anon_client.post("/api/artifacts/", {"type": "markdown", "data": "x"}, format="json")
    assert response.status_code == 401
    assert not Artifact.objects.exists()


def test_revoked_token_is_401(api_client, token):
    from artifacts_app.models import ApiToken

    ApiToken.objects.update(revoked=True)
    response = api_client.post("/api/artifacts/", {"type": "markdown", "data": "x"}, format="json")
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"key": "Bad Key", "type": "markdown", "data": "x"}, "key"),
        ({"type": "markdown", "data": "x", "surprise": 1}, "surprise"),
        ({"type": "markdown", "data": "x", "metadata_": {"n": 1}}, "metadata_"),
        ({"type": "markdown", "data": "x", "metadata_": "text"}, "metadata_"),
        ({"type": "markdown", "data": "x", "flow_run_id": "nope"}, "flow_run_id"),
        ({"type": ["list"], "data": "x"}, "type"),
    ],
)
def test_create_rejects_bad_input_naming_the_field(api_client, body, field):
    response = api_client.post("/api/artifacts/", body, format="json")
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert not Artifact.objects.exists()


def test_key_message_is_prefects(api_client):
    response = api_client.post("/api/artifacts/", {"key": "UPPER", "data": 1}, format="json")
    assert "Artifact key must only contain lowercase letters, numbers, and dashes." in str(
        response.json()
    )


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"null", b'"text"', b"1e999999"])
def test_malformed_bodies_are_4xx(api_client, raw):
    response = api_client.generic("POST", "/api/artifacts/", raw, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert not Artifact.objects.exists()


def test_metadata_values_are_cut(api_client):
    response = api_client.post(
        "/api/artifacts/", {"data": 1, "metadata_": {"m": "x" * 700}}, format="json"
    )
    assert response.json()["metadata_"]["m"] == "x" * 500 + "..."


def test_type_may_be_null(api_client):
    response = api_client.post(
        "/api/artifacts/", {"key": "untyped", "data": {"a": 1}}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["type"] is None


def test_body_over_the_cap_is_413(api_client, settings):
    settings.ARTIFACTS_MAX_BODY_BYTES = 1000
    response = api_client.post(
        "/api/artifacts/", {"type": "markdown", "data": "x" * 2000}, format="json"
    )
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert not Artifact.objects.exists()


@pytest.mark.parametrize("suffix", ["", "/"])
def test_read_by_id(anon_client, suffix):
    artifact = ArtifactFactory(table=True)
    response = anon_client.get(f"/api/artifacts/{artifact.id}{suffix}")
    assert response.status_code == 200
    assert response.json()["id"] == str(artifact.id)
    assert response.json()["data"] == artifact.data


@pytest.mark.parametrize("ident", [MISSING, "not-a-uuid"])
def test_read_unknown_is_404(anon_client, ident):
    response = anon_client.get(f"/api/artifacts/{ident}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Artifact not found."}


def test_reads_need_login_when_not_public(anon_client, api_client, settings):
    settings.ARTIFACTS_PUBLIC_READ = False
    artifact = ArtifactFactory()
    assert anon_client.get(f"/api/artifacts/{artifact.id}").status_code == 401
    assert anon_client.post("/api/artifacts/filter", {}, format="json").status_code == 401
    assert api_client.get(f"/api/artifacts/{artifact.id}").status_code == 200


@pytest.mark.parametrize("suffix", ["", "/"])
def test_latest_by_key_returns_the_version_itself(anon_client, suffix):
    ArtifactFactory(key="loss")
    newest = ArtifactFactory(key="loss")
    response = anon_client.get(f"/api/artifacts/loss/latest{suffix}")
    assert response.status_code == 200
    assert response.json()["id"] == str(newest.id)
    assert response.json()["key"] == "loss"
    assert "latest_id" not in response.json()
    assert anon_client.get("/api/artifacts/nope/latest").status_code == 404


@pytest.mark.parametrize("suffix", ["", "/"])
def test_patch_updates_only_sent_fields(api_client, suffix):
    artifact = ArtifactFactory(progress=True, description="keep")
    response = api_client.patch(
        f"/api/artifacts/{artifact.id}{suffix}", {"data": 55.5}, format="json"
    )
    assert response.status_code == 204
    artifact.refresh_from_db()
    assert artifact.data == 55.5
    assert artifact.description == "keep"


def test_empty_patch_still_moves_updated(api_client):
    artifact = ArtifactFactory()
    assert api_client.patch(f"/api/artifacts/{artifact.id}", {}, format="json").status_code == 204
    assert Artifact.objects.get(pk=artifact.pk).updated > artifact.updated


def test_patch_from_each_side(anon_client, api_client):
    artifact = ArtifactFactory(progress=True)
    assert (
        anon_client.patch(f"/api/artifacts/{artifact.id}", {"data": 5}, format="json").status_code
        == 401
    )
    assert (
        api_client.patch(f"/api/artifacts/{MISSING}", {"data": 5}, format="json").status_code == 404
    )
    extra = api_client.patch(f"/api/artifacts/{artifact.id}", {"key": "x"}, format="json")
    assert extra.status_code == 422
    assert "key" in extra.json()["errors"]
    assert Artifact.objects.get(pk=artifact.pk).data == 0.0
    # Any JSON for any type, as Prefect's server: the dashboard shows it clamped
    odd = api_client.patch(f"/api/artifacts/{artifact.id}", {"data": 500}, format="json")
    assert odd.status_code == 204
    assert Artifact.objects.get(pk=artifact.pk).data == 500


@pytest.mark.parametrize(
    ("type_", "data"),
    [
        ("table", 1),
        ("table", "{not json"),
        ("table", {"new": "data"}),
        ("table", [1, "a", None]),
        ("markdown", 2),
        ("markdown", {"a": [1]}),
        ("progress", 150),
        ("progress", -5),
        ("progress", "half"),
        ("image", "javascript:alert(1)"),
        ("image", 42),
        ("link", {"link": "vbscript:x"}),
        ("html", ["<b>"]),
        ("made-up", {"x": 1}),
        ("table", None),
    ],
)
def test_any_json_data_for_any_type_on_create_and_patch(api_client, type_, data):
    """Prefect's server keeps `data` as any JSON for any type; so do we (render time decides)."""
    created = api_client.post("/api/artifacts/", {"type": type_, "data": data}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["data"] == data
    artifact_id = created.json()["id"]
    table = ArtifactFactory(type="table")
    patched = api_client.patch(f"/api/artifacts/{table.id}", {"data": data}, format="json")
    assert patched.status_code == 204, patched.content
    assert api_client.get(f"/api/artifacts/{table.id}").json()["data"] == data
    assert api_client.get(f"/api/artifacts/{artifact_id}").json()["data"] == data


@pytest.mark.parametrize("suffix", ["", "/"])
def test_delete_repoints_latest(api_client, anon_client, suffix):
    older = ArtifactFactory(key="k")
    newer = ArtifactFactory(key="k")
    assert anon_client.delete(f"/api/artifacts/{newer.id}{suffix}").status_code == 401
    assert api_client.delete(f"/api/artifacts/{newer.id}{suffix}").status_code == 204
    assert api_client.get("/api/artifacts/k/latest").json()["id"] == str(older.id)
    assert api_client.delete(f"/api/artifacts/{newer.id}").status_code == 404


def test_delete_by_key(api_client, anon_client):
    for _ in range(3):
        ArtifactFactory(key="old")
    assert anon_client.delete("/api/artifacts/key/old").status_code == 401
    response = api_client.delete("/api/artifacts/key/old")
    assert response.status_code == 200
    assert response.json() == {"deleted": 3}
    assert not ArtifactCollection.objects.exists()
    assert api_client.delete("/api/artifacts/key/old").status_code == 404


def test_progress_increment_route(api_client, anon_client):
    artifact = ArtifactFactory(progress=True)
    url = f"/api/artifacts/{artifact.id}/progress"
    assert anon_client.post(url, {"increment": 1}, format="json").status_code == 401
    assert api_client.post(url, {"increment": 30}, format="json").json()["data"] == 30
    assert api_client.post(url, {"increment": 90}, format="json").json()["data"] == 100
    assert api_client.post(url, {"value": 12.5}, format="json").json()["data"] == 12.5
    assert api_client.post(url, {}, format="json").status_code == 422
    assert api_client.post(url, {"increment": 1, "value": 2}, format="json").status_code == 422
    assert api_client.post(url, {"increment": "x"}, format="json").status_code == 422
    other = ArtifactFactory()
    assert (
        api_client.post(
            f"/api/artifacts/{other.id}/progress", {"increment": 1}, format="json"
        ).status_code
        == 422
    )
    assert (
        api_client.post(
            f"/api/artifacts/{MISSING}/progress", {"increment": 1}, format="json"
        ).status_code
        == 404
    )


def test_plain_list_with_query_filters(anon_client):
    ArtifactFactory(key="a", table=True)
    ArtifactFactory(key="a", table=True)
    ArtifactFactory(key="b")
    response = anon_client.get("/api/artifacts/?key=a&limit=1")
    body = response.json()
    assert body["count"] == 2
    assert len(body["results"]) == 1
    assert body["next"]
    assert anon_client.get("/api/artifacts/?type=markdown").json()["count"] == 1
    oldest_first = anon_client.get("/api/artifacts/?ordering=created").json()["results"]
    assert [r["key"] for r in oldest_first] == ["a", "a", "b"]
    assert anon_client.get("/api/artifacts/?flow_run_id=bad").status_code == 422


def test_schema_and_docs_are_served(anon_client):
    schema = anon_client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/artifacts/filter" in schema.content
    assert anon_client.get("/api/docs/").status_code == 200

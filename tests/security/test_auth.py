"""Every write route refuses requests without a valid token; private reads need credentials."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from artifacts_app.models import ApiToken, Artifact, hash_token
from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db


def write_routes(artifact):
    return [
        ("post", "/api/artifacts/", {"type": "markdown", "data": "x"}),
        ("patch", f"/api/artifacts/{artifact.pk}", {"data": 5}),
        ("delete", f"/api/artifacts/{artifact.pk}", None),
        ("delete", f"/api/artifacts/key/{artifact.key}", None),
        ("post", f"/api/artifacts/{artifact.pk}/progress", {"increment": 1}),
    ]


@pytest.mark.parametrize(
    "header", [None, "Bearer art_forged", "Bearer ", "Token abc", "Basic Zm9vOmJhcg=="]
)
def test_every_write_route_needs_a_valid_token(anon_client, header):
    artifact = ArtifactFactory(key="guarded", progress=True)
    if header:
        anon_client.credentials(HTTP_AUTHORIZATION=header)
    for method, url, body in write_routes(artifact):
        response = getattr(anon_client, method)(url, body, format="json")
        assert response.status_code in (401, 403), (method, url, response.status_code)
    artifact.refresh_from_db()
    assert artifact.data == 0.0
    assert Artifact.objects.count() == 1


def test_tokens_are_stored_hashed_and_revocable(api_client, token):
    stored = ApiToken.objects.get()
    assert stored.digest == hash_token(token)
    assert token not in {stored.digest, stored.hint, stored.name}
    assert api_client.post("/api/artifacts/", {"data": 1}, format="json").status_code == 201
    stored.revoked = True
    stored.save()
    assert api_client.post("/api/artifacts/", {"data": 1}, format="json").status_code == 401


def test_token_use_is_recorded_at_most_once_a_minute(api_client, user):
    stored = ApiToken.objects.get()
    assert stored.last_used is None
    assert api_client.get("/api/artifacts/").status_code == 200
    stored.refresh_from_db()
    first = stored.last_used
    assert first is not None
    assert (timezone.now() - first).total_seconds() < 60
    assert api_client.get("/api/artifacts/").status_code == 200
    stored.refresh_from_db()
    assert stored.last_used == first  # within the minute: not written again
    ApiToken.objects.filter(pk=stored.pk).update(last_used=first - dt.timedelta(minutes=2))
    assert api_client.get("/api/artifacts/").status_code == 200
    stored.refresh_from_db()
    assert stored.last_used > first
    # the request ran as the token's own user
    response = api_client.post("/api/artifacts/", {"data": 1}, format="json")
    assert response.status_code == 201


def test_inactive_user_token_is_refused(api_client, user):
    user.is_active = False
    user.save()
    assert api_client.post("/api/artifacts/", {"data": 1}, format="json").status_code == 401


def test_private_mode_guards_every_read(anon_client, api_client, client, settings):
    settings.ARTIFACTS_PUBLIC_READ = False
    artifact = ArtifactFactory(key="secret", table=True, flow_run_id=uuid.uuid4())
    api_reads = [
        ("get", f"/api/artifacts/{artifact.pk}"),
        ("get", "/api/artifacts/secret/latest"),
        ("get", "/api/artifacts/"),
        ("post", "/api/artifacts/filter"),
        ("post", "/api/artifacts/count"),
        ("post", "/api/artifacts/latest/filter"),
        ("post", "/api/artifacts/latest/count"),
    ]
    for method, url in api_reads:
        assert getattr(anon_client, method)(url, {}, format="json").status_code == 401, url
        assert getattr(api_client, method)(url, {}, format="json").status_code == 200, url
    pages = [
        "/artifacts/",
        "/artifacts/key/secret/",
        f"/artifacts/artifact/{artifact.pk}/",
        f"/artifacts/artifact/{artifact.pk}/table/",
        f"/artifacts/artifact/{artifact.pk}/download.csv",
        f"/runs/flow-run/{artifact.flow_run_id}/",
    ]
    for url in pages:
        assert client.get(url).status_code == 302, url


def test_revoking_in_admin_takes_effect_at_once(api_client, token, client, staff_user):
    """Tokens are looked up on every request: a revocation needs nothing cleared (the same with
    two server processes over real HTTP: test_revocation_and_shared_limits.py)."""
    assert api_client.post("/api/artifacts/", {"data": 1}, format="json").status_code == 201
    client.force_login(staff_user)
    stored = ApiToken.objects.get(digest=hash_token(token))
    response = client.post(
        "/admin/artifacts_app/apitoken/",
        {"action": "revoke", "_selected_action": [stored.pk]},
    )
    assert response.status_code == 302
    assert api_client.post("/api/artifacts/", {"data": 1}, format="json").status_code == 401

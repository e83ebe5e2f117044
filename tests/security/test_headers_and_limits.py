"""Security headers, the deploy checklist, throttles, the login lockout, body caps."""

import os
import subprocess
import sys

import pytest
from django.core.cache import cache

from tests.conftest import ROOT
from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db

PRODUCTION_ENV = {  # the README's Deploy section
    "DJANGO_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-key-0123456789",
    "DJANGO_ALLOWED_HOSTS": "artifacts.example.com",
    "DJANGO_STATIC_MANIFEST": "1",
    "DJANGO_SECURE_SSL_REDIRECT": "1",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
    "DJANGO_BEHIND_PROXY": "1",
    "REDIS_URL": "redis://127.0.0.1:6379/0",  # only read by the check here, never connected to
}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_pages_send_csp_and_security_headers(client):
    artifact = ArtifactFactory(key="k")
    for url in ["/artifacts/", "/artifacts/key/k/", f"/artifacts/artifact/{artifact.pk}/"]:
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp
        assert "object-src 'none'" in csp
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert b"<script>" not in response.content  # no inline script at all


def test_every_answer_carries_the_site_policy_and_views_can_change_theirs(client, settings):
    from csp.utils import build_policy

    artifact = ArtifactFactory(key="k")
    site = build_policy()
    for url in ["/artifacts/", "/api/artifacts/k/latest", f"/api/artifacts/{artifact.pk}"]:
        assert client.get(url)["Content-Security-Policy"] == site
    assert client.get("/api/artifacts/nope/latest")["Content-Security-Policy"] == site  # 404
    docs = client.get("/api/docs/")["Content-Security-Policy"]  # a view with its own update
    assert "'unsafe-inline'" in docs.split("script-src")[1].split(";")[0]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert client.get("/api/artifacts/k/latest")["Content-Security-Policy"] == "default-src 'none'"


def check_deploy(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_the_readme_production_settings():
    readme = (ROOT / "README.md").read_text()
    for name in PRODUCTION_ENV:
        assert name in readme, f"README's deploy section must mention {name}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(PRODUCTION_ENV)
    done = check_deploy(env)
    assert done.returncode == 0, done.stdout + done.stderr
    insecure = check_deploy({**env, "DJANGO_SECRET_KEY": "django-insecure-dev-only"})
    assert insecure.returncode != 0  # the check can fail: the dev key is flagged
    unshared = check_deploy({**env, "REDIS_URL": ""})
    assert unshared.returncode != 0  # throttles only in each worker's memory
    assert "artifacts.W001" in unshared.stderr + unshared.stdout


def test_anonymous_api_traffic_is_throttled_with_retry_after(anon_client, settings):
    settings.ARTIFACTS_THROTTLE_ANON = "3/minute"
    for _ in range(3):
        assert anon_client.get("/api/artifacts/").status_code == 200
    limited = anon_client.get("/api/artifacts/")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    assert "throttled" in limited.json()["detail"].lower()


def test_token_traffic_is_throttled_per_token(api_client, settings):
    settings.ARTIFACTS_THROTTLE_USER = "2/minute"
    body = {"type": "markdown", "data": "x"}
    assert api_client.post("/api/artifacts/", body, format="json").status_code == 201
    assert api_client.post("/api/artifacts/", body, format="json").status_code == 201
    limited = api_client.post("/api/artifacts/", body, format="json")
    assert limited.status_code == 429
    assert "Retry-After" in limited


def test_admin_login_locks_out_after_repeated_failures(client, staff_user, settings):
    settings.ARTIFACTS_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        response = client.post("/admin/login/", {"username": "staff", "password": "wrong"})
        assert response.status_code == 200
    locked = client.post("/admin/login/", {"username": "staff", "password": "pw-staff-123"})
    assert locked.status_code == 429
    assert locked["Retry-After"]
    cache.clear()
    assert (
        client.post("/admin/login/", {"username": "staff", "password": "pw-staff-123"}).status_code
        == 302
    )


def test_pagination_is_capped(anon_client):
    assert (
        anon_client.post("/api/artifacts/filter", {"limit": 201}, format="json").status_code == 422
    )
    assert anon_client.get("/api/artifacts/?limit=100000").status_code == 200
    ArtifactFactory.create_batch(3)
    assert len(anon_client.get("/api/artifacts/?limit=2").json()["results"]) == 2

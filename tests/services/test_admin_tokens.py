"""Admin for daily use (issue 14, item 11): changelists that fit, token status in words, a new
token shown once with a copy button (no inline script), and `make run`'s demo token reused
instead of a new valid token on every run."""

import io
import re

import pytest
from django.core.management import call_command

from artifacts_app import services
from artifacts_app.models import ApiToken, hash_token
from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db


def test_token_list_says_active_or_revoked_in_words(client, staff_user, user):
    client.force_login(staff_user)
    active, _ = services.token_create(user=user, name="ci")
    gone, _ = services.token_create(user=user, name="old")
    services.token_revoke(token_ids=[gone.pk])
    html = client.get("/admin/artifacts_app/apitoken/").content.decode()
    assert '<span class="token-status active">Active</span>' in html
    assert '<span class="token-status revoked">Revoked</span>' in html
    assert "icon-no.svg" not in html  # no red ✖ on a token that works
    assert "icon-yes.svg" not in html
    assert "artifacts/admin.css" in html
    assert "never" in html  # last used


def test_new_token_is_shown_once_with_a_copy_button(client, staff_user, user):
    client.force_login(staff_user)
    response = client.post(
        "/admin/artifacts_app/apitoken/add/",
        {"user": user.pk, "name": "laptop", "revoked": ""},
        follow=True,
    )
    html = response.content.decode()
    raw = re.search(
        r'id="new-api-token" class="new-token-value" type="text" readonly value="([^"]+)"', html
    ).group(1)
    assert ApiToken.objects.get(name="laptop").digest == hash_token(raw)
    assert f"{raw[:12]}… ({user.username})" in html  # Django's "was added" names the hint
    assert (
        '<button type="button" class="button" data-copy-target="new-api-token">Copy</button>'
        in html
    )
    assert "artifacts/permalink.js" in html  # the copy behaviour, from a static file
    assert "<script>" not in html.replace('<script src="', "")  # no inline script
    again = client.get("/admin/artifacts_app/apitoken/").content.decode()
    assert raw not in again  # shown once


def test_artifact_changelist_columns_are_compact(client, staff_user):
    import uuid

    client.force_login(staff_user)
    run = uuid.UUID("0190f1e4-0000-7000-8000-00000000d3e0")
    ArtifactFactory(key="k", flow_run_id=run)
    ArtifactFactory(key=None)
    html = client.get("/admin/artifacts_app/artifact/").content.decode()
    assert f'<span title="{run}">0190f1e4…d3e0</span>' in html
    assert re.search(r'<td class="field-created_at">\d{4}-\d\d-\d\d \d\d:\d\d</td>', html)
    assert "icon-no.svg" not in html  # "not pinned" is not an error
    assert 'id="nav-sidebar"' not in html


def test_make_runs_demo_token_is_reused_not_multiplied(tmp_path):
    kept = tmp_path / ".demo-token"

    def run():
        out = io.StringIO()
        call_command(
            "create_api_token",
            "demo",
            name="make run",
            keep_in=str(kept),
            stdout=out,
            stderr=io.StringIO(),
        )
        return out.getvalue().strip().splitlines()[-1]

    first = run()
    assert run() == first
    assert run() == first
    assert ApiToken.objects.active().filter(user__username="demo").count() == 1
    assert kept.read_text().strip() == first
    assert kept.stat().st_mode & 0o777 == 0o600
    # Revoked in admin (or the file lost): the next run rotates to one new valid token.
    services.token_revoke(token_ids=ApiToken.objects.values_list("pk", flat=True))
    second = run()
    assert second != first
    kept.unlink()
    third = run()
    assert third != second
    active = ApiToken.objects.active().filter(user__username="demo", name="make run")
    assert [t.digest for t in active] == [hash_token(third)]

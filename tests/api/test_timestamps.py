"""One timestamp form in every API answer, Prefect's server's: `2026-12-01T10:23:07.531926Z`
(UTC, `Z`, microseconds when there are any; `2026-12-01T10:23:07Z` when there are none)."""

import datetime as dt
import re

import pytest

from artifacts_app import services
from artifacts_app.models import Artifact, ArtifactCollection

pytestmark = pytest.mark.django_db

FORM = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")


def stamps(value) -> list[str]:
    found = []
    if isinstance(value, dict):
        for name, item in value.items():
            if name in ("created", "updated"):
                found.append(item)
            else:
                found += stamps(item)
    elif isinstance(value, list):
        for item in value:
            found += stamps(item)
    return found


def test_every_answer_has_prefects_timestamp_form(api_client):
    created = api_client.post(
        "/api/artifacts/", {"key": "k", "type": "progress", "data": 1}, format="json"
    )
    artifact_id = created.json()["id"]
    services.artifact_create(type="result", data=1)
    answers = [
        created,
        api_client.get(f"/api/artifacts/{artifact_id}"),
        api_client.get("/api/artifacts/k/latest"),
        api_client.get("/api/artifacts/"),
        api_client.post("/api/artifacts/filter", {}, format="json"),
        api_client.post("/api/artifacts/latest/filter", {}, format="json"),
        api_client.post(f"/api/artifacts/{artifact_id}/progress", {"increment": 1}, format="json"),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.content
        found = stamps(answer.json())
        assert found, answer.content
        for stamp in found:
            assert FORM.match(stamp), (answer.request["PATH_INFO"], stamp)


def test_whole_seconds_have_no_fraction_as_in_prefect(api_client):
    """pydantic (Prefect's server) leaves out `.000000`; so do we."""
    artifact = services.artifact_create(key="whole", type="markdown", data="x")
    whole = dt.datetime(2026, 12, 1, 10, 23, 7, tzinfo=dt.UTC)
    Artifact.objects.filter(pk=artifact.pk).update(created=whole, updated=whole)
    ArtifactCollection.objects.filter(key="whole").update(created=whole, updated=whole)
    part = dt.datetime(2026, 12, 1, 10, 23, 7, 531926, tzinfo=dt.UTC)
    other = services.artifact_create(type="markdown", data="y")
    Artifact.objects.filter(pk=other.pk).update(created=part, updated=part)
    assert api_client.get(f"/api/artifacts/{artifact.pk}").json()["created"] == (
        "2026-12-01T10:23:07Z"
    )
    assert api_client.get("/api/artifacts/whole/latest").json()["updated"] == (
        "2026-12-01T10:23:07Z"
    )
    rows = api_client.post("/api/artifacts/filter", {"sort": "CREATED_DESC"}, format="json").json()
    assert {row["created"] for row in rows} == {
        "2026-12-01T10:23:07Z",
        "2026-12-01T10:23:07.531926Z",
    }
    latest = api_client.post("/api/artifacts/latest/filter", {}, format="json").json()
    assert latest[0]["created"] == "2026-12-01T10:23:07Z"
    listed = api_client.get("/api/artifacts/").json()["results"]
    assert "2026-12-01T10:23:07.531926Z" in {row["created"] for row in listed}


def test_rows_written_before_the_input_check_are_answered_repaired(api_client, on_postgres):
    """A lone surrogate in a JSON column of a row written before jsoncheck existed (SQLite
    stored it as a `\\ud800` escape; PostgreSQL's jsonb never took one) is answered as U+FFFD,
    never a 500."""
    artifact = services.artifact_create(key="legacy", type="markdown", data="x")
    if on_postgres:
        pytest.skip("PostgreSQL's jsonb refuses lone surrogates: no such rows there")
    Artifact.objects.filter(pk=artifact.pk).update(data="a\ud800b", metadata={"m": "\udfff"})
    answer = api_client.get(f"/api/artifacts/{artifact.pk}")
    assert answer.status_code == 200
    assert (answer.json()["data"], answer.json()["metadata_"]) == ("a\ufffdb", {"m": "\ufffd"})
    assert api_client.get("/api/artifacts/legacy/latest").status_code == 200
    assert api_client.get("/api/artifacts/").status_code == 200
    assert api_client.post("/api/artifacts/filter", {}, format="json").status_code == 200

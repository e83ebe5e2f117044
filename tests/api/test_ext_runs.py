"""`POST /api/ext/runs` (ours, beyond Prefect's API): run names, token-authenticated, validated."""

import uuid

import pytest

from artifacts_app.models import Run

pytestmark = pytest.mark.django_db
URL = "/api/ext/runs"
FLOW, TASK = uuid.uuid4(), uuid.uuid4()


def test_names_are_recorded_and_a_second_call_changes_nothing(api_client):
    body = {
        "runs": [
            {"id": str(FLOW), "kind": "flow", "name": "crimson-tiger", "flow_name": "etl",
             "start_time": "2026-12-01T10:00:00Z"},
            {"id": str(TASK), "kind": "task", "name": "load-1", "flow_run_id": str(FLOW)},
        ]
    }  # fmt: skip
    answer = api_client.post(URL, body, format="json")
    assert (answer.status_code, answer.json()) == (200, {"written": 2})
    assert api_client.post(URL, body, format="json").json() == {"written": 0}
    flow = Run.objects.get(pk=FLOW)
    assert (flow.name, flow.flow_name, flow.start_time.isoformat()) == (
        "crimson-tiger",
        "etl",
        "2026-12-01T10:00:00+00:00",
    )
    # null or absent keeps what was known
    nulls = {"runs": [{"id": str(FLOW), "kind": "flow", "name": None, "state": "COMPLETED"}]}
    assert api_client.post(URL + "/", nulls, format="json").json() == {"written": 1}
    flow.refresh_from_db()
    assert (flow.name, flow.state) == ("crimson-tiger", "COMPLETED")
    assert Run.objects.get(pk=TASK).flow_run_id == FLOW


def test_needs_a_token(anon_client):
    body = {"runs": [{"id": str(FLOW), "kind": "flow", "name": "x"}]}
    answer = anon_client.post(URL, body, format="json")
    assert answer.status_code == 401
    assert not Run.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "runs"),
        ({"runs": []}, "runs"),
        ({"runs": "x"}, "runs"),
        ({"runs": [{"id": "nope", "kind": "flow"}]}, "runs.0.id"),
        ({"runs": [{"id": str(FLOW), "kind": "deployment"}]}, "runs.0.kind"),
        ({"runs": [{"id": str(FLOW), "kind": "flow", "name": "x" * 501}]}, "runs.0.name"),
        ({"runs": [{"id": str(FLOW), "kind": "flow", "colour": "red"}]}, "runs.0.colour"),
        ({"runs": [{"id": str(FLOW), "kind": "flow", "name": "a\x00b"}]}, "runs.0.name"),
        ({"runs": [{"id": str(FLOW), "kind": "flow", "start_time": "soon"}]}, "runs.0.start_time"),
        ({"runs": [{"id": str(FLOW), "kind": "flow"}], "extra": 1}, "extra"),
        ({"runs": [{"id": str(uuid.uuid4()), "kind": "flow"}] * 101}, "runs"),
    ],
)
def test_bad_input_is_a_422_that_writes_nothing(api_client, body, field):
    answer = api_client.post(URL, body, format="json")
    assert answer.status_code == 422, answer.content
    assert any(name.startswith(field) for name in answer.json()["errors"]), answer.json()
    assert not Run.objects.exists()


def test_not_json_is_refused(api_client):
    answer = api_client.post(URL, "{", content_type="application/json")
    assert answer.status_code == 422
    assert not Run.objects.exists()

"""Schemathesis against our OpenAPI schema, in process: generated requests for every artifact
route must never produce a 5xx, and every documented response must match the schema."""

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from artifacts_app.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application).include(
    path_regex="^/api/artifacts"
)
STATS = {"examples": 0, "server_errors": 0}


@pytest.fixture(scope="module", autouse=True)
def _report():
    # The WSGI app is called in process: keep the test's database connection open across
    # requests, as Django's test client does.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    print(f"\nfuzz: {STATS['examples']} examples, {STATS['server_errors']} server errors")


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_never_errors_and_matches_schema(case, token):
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    STATS["examples"] += 1
    if response.status_code >= 500:
        STATS["server_errors"] += 1
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])


# Hostile values mixed into the generated requests' shapes: each operation with a body gets
# every field replaced by each of them (and the filter bodies their nested values); each must
# be a documented 4xx that matches the schema, and nothing may be written.
HOSTILE_VALUES = [
    "\ud800",  # a lone surrogate (json.dumps sends it as the escape "\ud800")
    "a\udfffb",
    "nul\x00",
    -1234567890123456789012,
    2**64,
    float("nan"),
    float("inf"),
    json.loads("[" * 101 + "1" + "]" * 101),  # deeper than the bound
    {"\x00": "v"},
    {"\ud800": "v"},
]  # fmt: skip
HOSTILE_FIELDS = {
    "post /api/artifacts/": ["key", "type", "description", "data", "metadata_"],
    "patch /api/artifacts/{artifact_id}/": ["data", "description", "metadata_"],
    "post /api/artifacts/{artifact_id}/progress/": ["increment", "value"],
    "post /api/artifacts/filter/": ["offset", "limit", "artifacts.key.any_", "artifacts.type.not_any_"],
    "post /api/artifacts/latest/filter/": ["offset", "artifacts.key.like_"],
    "post /api/artifacts/count/": ["artifacts.key.any_", "task_runs.id.any_"],
    "post /api/artifacts/latest/count/": ["artifacts.type.any_"],
}  # fmt: skip


def _set(body: dict, dotted: str, value) -> dict:
    *parents, last = dotted.split(".")
    node = body
    for name in parents:
        node = node.setdefault(name, {})
    node[last] = [value] if last.endswith("any_") else value
    return body


def _hostile_cases():
    for operation in schema.get_all_operations():
        operation = operation.ok()
        name = f"{operation.method} {operation.path}"
        for field in HOSTILE_FIELDS.get(name, []):
            for n, value in enumerate(HOSTILE_VALUES):
                yield pytest.param(operation, field, value, id=f"{name}:{field}:{n}")


@pytest.mark.django_db
@pytest.mark.parametrize(("operation", "field", "value"), list(_hostile_cases()))
def test_hostile_values_in_every_body_are_documented_4xx(operation, field, value, token):
    from artifacts_app.models import Artifact

    bar = Artifact.objects.create(type="progress", data=5.0)
    before = Artifact.objects.count()
    body = _set(
        {"data": 1} if operation.path == "/api/artifacts/" else {},
        field,
        value,
    )
    if "progress" in operation.path and field == "value":
        body = {"value": value}
    raw = json.dumps(body).encode()  # NaN and Infinity as their tokens, surrogates as escapes
    case = operation.Case(
        body=raw, path_parameters={"artifact_id": str(bar.pk)}, media_type="application/json"
    )
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    STATS["examples"] += 1
    # Every hostile value is refused for what it is (not for an unknown field)
    assert "Extra inputs" not in response.text, (field, response.text[:200])
    assert 400 <= response.status_code < 500, (
        field,
        value,
        response.status_code,
        response.text[:200],
    )
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
    assert Artifact.objects.count() == before
    assert Artifact.objects.get(pk=bar.pk).data == 5.0

"""Schemathesis against our OpenAPI schema, in process: generated requests for every artifact
route must never produce a 5xx, and every documented response must match the schema."""

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

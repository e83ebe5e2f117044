"""Prefect 3.9.1's own client against Prefect's real server AND ours, the same calls, the answers
compared (without ids and timestamps): data of any shape for any type on create and PATCH,
`Artifact(type=...).create()`, `update_progress_artifact(id, 150)`, and `read_artifacts` /
`read_latest_artifacts` / counts with `type.not_any_`, `key.like_`, `key.exists_`."""

import json

import pytest

from artifacts_app import services
from tests.compat.test_prefect_client import run_prefect

pytestmark = pytest.mark.django_db(transaction=True)

# Refusals both servers make with the same status (the rest of "statuses" is reported only;
# README's "Differences from Prefect's server" lists the deliberate ones)
SAME_STATUS = [
    "create:invalid-json",
    "create:non-utf8",
    "create:unknown-field",
    "create:bad-key",
    "create:metadata-not-strings",
    "filter:limit-201",
    "filter:task_runs.id.not_any_",
    "filter:artifacts.description",
    "filter:accept application/xml",  # JSON whatever Accept says (200), not 406
    "filter:accept text/html",
    "filter:accept text/csv;q=1, application/json;q=0",
]


def report(env: dict) -> dict:
    done = run_prefect("prefect_semantics.py", env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_prefects_client_gets_the_same_answers_from_both_servers(
    prefect_server, server_process, user
):
    theirs = report({"PREFECT_API_URL": prefect_server.api_url})
    _, token = services.token_create(user=user, name="semantics")
    ours = report({"PREFECT_API_URL": f"{server_process}/api", "PREFECT_API_KEY": token})
    print("\nPrefect's statuses:", json.dumps(theirs["statuses"], sort_keys=True))
    print("Our statuses:     ", json.dumps(ours["statuses"], sort_keys=True))
    their_statuses, our_statuses = theirs.pop("statuses"), ours.pop("statuses")
    assert sorted(theirs) == sorted(ours)
    for name in sorted(theirs):
        assert ours[name] == theirs[name], name
    # the cases the issue names, spelled out
    assert theirs["create:table-data-1"]["data"] == 1
    assert theirs["create:markdown-data-2"]["data"] == 2
    assert theirs["update_progress_artifact-150"]["data"] == 100.0  # the client clamps
    assert theirs["patch-table-new-data"]["data"] == {"new": "data"}
    not_tables = theirs["read_artifacts:type.not_any_[table]"]
    assert None not in {r["type"] for r in not_tables["rows"]}  # NOT IN leaves out NULL
    for name in SAME_STATUS:
        assert our_statuses[name] == their_statuses[name], name
    for name, status in our_statuses.items():
        assert isinstance(status, int), (name, status)
        assert 200 <= status < 500, (name, status)  # never a 5xx from us

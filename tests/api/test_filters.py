"""Prefect's filter, latest-filter and count bodies."""

import uuid

import pytest

from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()]


@pytest.fixture
def runs():
    flow_a, flow_b, task = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    made = {
        "t1": ArtifactFactory(key="sales", table=True, flow_run_id=flow_a, task_run_id=task),
        "t2": ArtifactFactory(key="sales", table=True, flow_run_id=flow_b),
        "m1": ArtifactFactory(key="report", flow_run_id=flow_a),
        "p1": ArtifactFactory(key="bar", progress=True),
        "u1": ArtifactFactory(key=None, type=None, data={"x": 1}),
    }
    return made, flow_a, flow_b, task


def test_filter_defaults_to_id_desc_bare_list(anon_client, runs):
    made, *_ = runs
    response = anon_client.post("/api/artifacts/filter", {}, format="json")
    assert isinstance(response.json(), list)
    assert ids(response) == sorted((str(a.id) for a in made.values()), reverse=True)


def test_filter_accepts_prefect_client_dump_with_nulls(anon_client, runs):
    made, *_ = runs
    body = {
        "artifacts": {
            "operator": "and_",
            "id": None,
            "key": {"any_": ["sales"], "like_": None, "exists_": None},
            "flow_run_id": None,
            "task_run_id": None,
            "type": None,
        },
        "flow_runs": None,
        "task_runs": None,
        "sort": "CREATED_DESC",
        "limit": None,
        "offset": 0,
    }
    assert ids(anon_client.post("/api/artifacts/filter/", body, format="json")) == [
        str(made["t2"].id),
        str(made["t1"].id),
    ]


def test_type_any_and_not_any(anon_client, runs):
    made, *_ = runs
    tables = anon_client.post(
        "/api/artifacts/filter", {"artifacts": {"type": {"any_": ["table"]}}}, format="json"
    )
    assert set(ids(tables)) == {str(made["t1"].id), str(made["t2"].id)}
    not_tables = anon_client.post(
        "/api/artifacts/filter",
        {"artifacts": {"type": {"not_any_": ["table", "progress"]}}},
        format="json",
    )
    # Prefect's SQL `type NOT IN (...)` is never true for NULL: an untyped artifact is left out
    assert set(ids(not_tables)) == {str(made["m1"].id)}
    everything = anon_client.post(
        "/api/artifacts/filter", {"artifacts": {"type": {"not_any_": []}}}, format="json"
    )
    assert len(ids(everything)) == 5  # Prefect: `if self.not_any_:`, an empty list is no condition
    nothing = anon_client.post(
        "/api/artifacts/filter", {"artifacts": {"type": {"any_": []}}}, format="json"
    )
    assert ids(nothing) == []  # `IN ()` is false
    latest = anon_client.post(
        "/api/artifacts/latest/filter",
        {"artifacts": {"type": {"not_any_": ["table"]}}},
        format="json",
    )
    assert sorted(r["key"] for r in latest.json()) == ["bar", "report"]
    count = anon_client.post(
        "/api/artifacts/count", {"artifacts": {"type": {"not_any_": ["table"]}}}, format="json"
    )
    assert count.json() == 2


@pytest.mark.parametrize(
    ("like", "keys"),
    [
        ("AL", {"sales"}),
        ("s%s", {"sales"}),  # % is a wildcard, as in Prefect's ILIKE
        ("r_p", {"report"}),  # so is _
        ("b%r", {"bar"}),
        ("%", {"sales", "report", "bar"}),  # keyed only: NULL never matches LIKE
        ("", {"sales", "report", "bar", None}),  # an empty like_ is no condition
        ("zzz", set()),
    ],
)
def test_key_like_is_prefects_ilike(anon_client, runs, like, keys):
    response = anon_client.post(
        "/api/artifacts/filter", {"artifacts": {"key": {"like_": like}}}, format="json"
    )
    assert response.status_code == 200
    assert {row["key"] for row in response.json()} == keys
    latest = anon_client.post(
        "/api/artifacts/latest/filter", {"artifacts": {"key": {"like_": like}}}, format="json"
    )
    assert {row["key"] for row in latest.json()} == keys - {None}


def test_key_like_and_exists(anon_client, runs):
    made, *_ = runs
    like = anon_client.post(
        "/api/artifacts/filter", {"artifacts": {"key": {"like_": "AL"}}}, format="json"
    )
    assert set(ids(like)) == {str(made["t1"].id), str(made["t2"].id)}
    unkeyed = anon_client.post(
        "/api/artifacts/filter", {"artifacts": {"key": {"exists_": False}}}, format="json"
    )
    assert ids(unkeyed) == [str(made["u1"].id)]


def test_or_operator(anon_client, runs):
    made, *_ = runs
    body = {
        "artifacts": {"operator": "or_", "key": {"any_": ["bar"]}, "type": {"any_": ["markdown"]}}
    }
    assert set(ids(anon_client.post("/api/artifacts/filter", body, format="json"))) == {
        str(made["p1"].id),
        str(made["m1"].id),
    }


def test_run_filters(anon_client, runs):
    made, flow_a, _, task = runs
    by_flow = anon_client.post(
        "/api/artifacts/filter", {"flow_runs": {"id": {"any_": [str(flow_a)]}}}, format="json"
    )
    assert set(ids(by_flow)) == {str(made["t1"].id), str(made["m1"].id)}
    by_field = anon_client.post(
        "/api/artifacts/filter",
        {"artifacts": {"flow_run_id": {"any_": [str(flow_a)]}}},
        format="json",
    )
    assert set(ids(by_field)) == set(ids(by_flow))
    by_task = anon_client.post(
        "/api/artifacts/filter", {"task_runs": {"id": {"any_": [str(task)]}}}, format="json"
    )
    assert ids(by_task) == [str(made["t1"].id)]
    unsupported = anon_client.post(
        "/api/artifacts/filter", {"flow_runs": {"name": {"any_": ["x"]}}}, format="json"
    )
    assert unsupported.status_code == 422
    assert "flow_runs.name" in unsupported.json()["errors"]
    # Prefect keeps the artifacts whose run EXISTS: a run filter leaves out artifacts without one
    with_a_run = anon_client.post("/api/artifacts/filter", {"flow_runs": {}}, format="json")
    assert set(ids(with_a_run)) == {str(made[n].id) for n in ("t1", "t2", "m1")}
    not_a = anon_client.post(
        "/api/artifacts/filter",
        {"flow_runs": {"operator": "and_", "id": {"any_": None, "not_any_": [str(flow_a)]}}},
        format="json",
    )
    assert ids(not_a) == [str(made["t2"].id)]
    with_a_task = anon_client.post(
        "/api/artifacts/count", {"task_runs": {"id": None}}, format="json"
    )
    assert with_a_task.json() == 1
    # Prefect's TaskRunFilterId has no not_any_ (extra fields are refused)
    refused = anon_client.post(
        "/api/artifacts/filter", {"task_runs": {"id": {"not_any_": [str(task)]}}}, format="json"
    )
    assert refused.status_code == 422
    assert "task_runs.id.not_any_" in refused.json()["errors"]
    # Prefect's ArtifactFilter has no description filter
    described = anon_client.post(
        "/api/artifacts/filter", {"artifacts": {"description": {"like_": "x"}}}, format="json"
    )
    assert described.status_code == 422


@pytest.mark.parametrize("sort", ["CREATED_DESC", "UPDATED_DESC", "ID_DESC", "KEY_DESC", "KEY_ASC"])
def test_pages_never_repeat_or_skip(anon_client, sort):
    for i in range(7):
        ArtifactFactory(key=f"k{i % 2}")
    seen = []
    for offset in range(0, 7, 2):
        page = anon_client.post(
            "/api/artifacts/filter", {"sort": sort, "limit": 2, "offset": offset}, format="json"
        )
        seen += ids(page)
    assert len(seen) == 7
    assert len(set(seen)) == 7


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"limit": 201}, "limit"),
        ({"limit": -1}, "limit"),
        ({"offset": -1}, "offset"),
        ({"limit": "ten"}, "limit"),
        ({"sort": "RANDOM"}, "sort"),
        ({"sort": ["ID_DESC"]}, "sort"),  # found by the fuzzer: once a 500
        ({"artifacts": {"weird": 1}}, "artifacts.weird"),
        ({"artifacts": {"id": {"any_": ["not-a-uuid"]}}}, "artifacts.id.any_"),
        ({"artifacts": {"key": {"any_": "sales"}}}, "artifacts.key.any_"),
        ({"artifacts": {"operator": "xor_"}}, "artifacts.operator"),
        ({"extra": True}, "extra"),
    ],
)
def test_bad_filter_bodies_are_422(anon_client, body, field):
    response = anon_client.post("/api/artifacts/filter", body, format="json")
    assert response.status_code == 422
    assert field in response.json()["errors"]


def test_counts(anon_client, runs):
    assert anon_client.post("/api/artifacts/count", {}, format="json").json() == 5
    assert (
        anon_client.post(
            "/api/artifacts/count/", {"artifacts": {"key": {"any_": ["sales"]}}}, format="json"
        ).json()
        == 2
    )
    assert anon_client.post("/api/artifacts/latest/count", {}, format="json").json() == 3
    assert (
        anon_client.post(
            "/api/artifacts/latest/count",
            {"artifacts": {"type": {"any_": ["table"]}}},
            format="json",
        ).json()
        == 1
    )


def test_latest_filter_lists_collections(anon_client, runs):
    made, *_ = runs
    response = anon_client.post("/api/artifacts/latest/filter", {"sort": "KEY_ASC"}, format="json")
    rows = response.json()
    assert [r["key"] for r in rows] == ["bar", "report", "sales"]
    sales = rows[2]
    assert sales["latest_id"] == str(made["t2"].id)
    assert sales["data"] == made["t2"].data
    assert set(sales) >= {
        "id",
        "created",
        "updated",
        "key",
        "latest_id",
        "type",
        "metadata_",
        "flow_run_id",
    }
    by_latest = anon_client.post(
        "/api/artifacts/latest/filter/",
        {"artifacts": {"latest_id": {"any_": [str(made["t2"].id)]}}},
        format="json",
    )
    assert [r["key"] for r in by_latest.json()] == ["sales"]
    assert (
        anon_client.post("/api/artifacts/latest/filter", {"limit": 1000}, format="json").status_code
        == 422
    )

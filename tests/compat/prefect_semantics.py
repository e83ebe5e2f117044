"""Run with Prefect's own client (in .venv-prefect) against a server (Prefect's or ours); prints a
JSON report of what the server answered, without ids and timestamps, so that two servers'
reports can be compared as they are.

Env: PREFECT_API_URL, PREFECT_API_KEY (ours only). The server's database must start empty."""

import asyncio
import json
import logging
import sys
import uuid
import warnings

import httpx
from prefect import artifacts as pa
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import ArtifactCreate, ArtifactUpdate
from prefect.client.schemas.filters import (
    ArtifactCollectionFilter,
    ArtifactCollectionFilterKey,
    ArtifactCollectionFilterType,
    ArtifactFilter,
    ArtifactFilterId,
    ArtifactFilterKey,
    ArtifactFilterType,
)

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)

DROPPED = {"id", "created", "updated", "latest_id"}


def row(artifact) -> dict:
    dumped = artifact.model_dump(mode="json")
    return {name: value for name, value in dumped.items() if name not in DROPPED}


def rows(artifacts) -> list:
    return sorted((row(a) for a in artifacts), key=lambda r: json.dumps(r, sort_keys=True))


async def read_one(client, artifact_id) -> dict:
    found = await client.read_artifacts(
        artifact_filter=ArtifactFilter(id=ArtifactFilterId(any_=[artifact_id]))
    )
    return row(found[0])


async def main() -> dict:
    out: dict = {}
    async with get_client() as client:
        # Data of any shape for any type (issue: our server once refused these with a 422)
        made = {}
        for name, create in {
            "table-data-1": ArtifactCreate(key="k", type="table", data=1),
            "markdown-data-2": ArtifactCreate(key="md", type="markdown", data=2),
            "progress-150": ArtifactCreate(key="bar", type="progress", data=150),
            "progress-minus-5": ArtifactCreate(type="progress", data=-5),
            "image-not-a-url": ArtifactCreate(key="img", type="image", data="not a url"),
            "untyped": ArtifactCreate(key="untyped", data={"x": 1}),
            "unkeyed-result": ArtifactCreate(type="result", data=3),
            "sales-2024": ArtifactCreate(key="sales-2024", type="table", data=[{"a": 1}]),
            "sales-report": ArtifactCreate(key="sales-report", type="markdown", data="# s"),
            "salesx": ArtifactCreate(key="salesx", type=None, data=None),
        }.items():
            response = await client.create_artifact(artifact=create)
            made[name] = response.id
            out[f"create:{name}"] = row(response)
        # Artifact(type=...).create(), sync and async
        created = await pa.Artifact(type="progress", key="prog-obj", data=150).acreate()
        out["Artifact.acreate"] = row(created)
        out["Artifact.acreate:read"] = await read_one(client, created.id)
        # update_progress_artifact(id, 150): Prefect's client clamps (a warning), never refuses
        bar = await pa.acreate_progress_artifact(10, key="prog")
        await pa.aupdate_progress_artifact(bar, 150)
        out["update_progress_artifact-150"] = await read_one(client, bar)
        # PATCH a table with {"new": "data"}
        await client.update_artifact(made["sales-2024"], ArtifactUpdate(data={"new": "data"}))
        out["patch-table-new-data"] = await read_one(client, made["sales-2024"])
        # Filters, as Prefect's SQL: NULLs included
        filters = {
            "type.not_any_[table]": ArtifactFilter(type=ArtifactFilterType(not_any_=["table"])),
            "type.not_any_[]": ArtifactFilter(type=ArtifactFilterType(not_any_=[])),
            "type.any_[]": ArtifactFilter(type=ArtifactFilterType(any_=[])),
            "type.any_[progress]": ArtifactFilter(type=ArtifactFilterType(any_=["progress"])),
            "key.like_[sales]": ArtifactFilter(key=ArtifactFilterKey(like_="sales")),
            "key.like_[SALES]": ArtifactFilter(key=ArtifactFilterKey(like_="SALES")),
            "key.like_[s%s]": ArtifactFilter(key=ArtifactFilterKey(like_="s%s")),
            "key.like_[sales_]": ArtifactFilter(key=ArtifactFilterKey(like_="sales_")),
            "key.like_[s%-]": ArtifactFilter(key=ArtifactFilterKey(like_="s%-")),
            "key.like_[es_r]": ArtifactFilter(key=ArtifactFilterKey(like_="es_r")),
            "key.like_[]": ArtifactFilter(key=ArtifactFilterKey(like_="")),
            "key.exists_[true]": ArtifactFilter(key=ArtifactFilterKey(exists_=True)),
            "key.exists_[false]": ArtifactFilter(key=ArtifactFilterKey(exists_=False)),
            "or_": ArtifactFilter(
                operator="or_",
                key=ArtifactFilterKey(any_=["md"]),
                type=ArtifactFilterType(not_any_=["markdown", "table"]),
            ),
        }
        for name, artifact_filter in filters.items():
            found = await client.read_artifacts(artifact_filter=artifact_filter)
            out[f"read_artifacts:{name}"] = {"count": len(found), "rows": rows(found)}
        latest_filters = {
            "type.not_any_[table]": ArtifactCollectionFilter(
                type=ArtifactCollectionFilterType(not_any_=["table"])
            ),
            "key.like_[sales]": ArtifactCollectionFilter(
                key=ArtifactCollectionFilterKey(like_="sales")
            ),
            "key.exists_[true]": ArtifactCollectionFilter(
                key=ArtifactCollectionFilterKey(exists_=True)
            ),
        }
        for name, collection_filter in latest_filters.items():
            found = await client.read_latest_artifacts(artifact_filter=collection_filter)
            out[f"read_latest_artifacts:{name}"] = {"count": len(found), "rows": rows(found)}
        for route in ("/artifacts/count", "/artifacts/latest/count"):
            body = {"artifacts": {"type": {"not_any_": ["table"]}}}
            out[f"count:{route}"] = (await client._client.post(route, json=body)).json()
    out["statuses"] = statuses()
    return out


def statuses() -> dict:
    """Status codes for bodies either server may refuse (reported; compared where both answer
    with a documented rule)."""
    import os

    headers = {"Content-Type": "application/json"}
    if os.environ.get("PREFECT_API_KEY"):
        headers["Authorization"] = f"Bearer {os.environ['PREFECT_API_KEY']}"
    base = os.environ["PREFECT_API_URL"].rstrip("/")
    bodies = {
        "invalid-json": b'{"data": ',
        "non-utf8": '{"data": "caf\u00e9"}'.encode("latin-1"),
        "unknown-field": b'{"data": 1, "surprise": 1}',
        "bad-key": b'{"key": "Bad Key", "data": 1}',
        "metadata-not-strings": b'{"data": 1, "metadata_": {"n": 1}}',
        "lone-surrogate": b'{"type": "markdown", "data": "\\ud800"}',
        "nul": b'{"type": "markdown", "data": "a\\u0000b"}',
        "int-2**64": b'{"data": 18446744073709551616}',
        "nan": b'{"data": NaN}',
        "data-nested-1100": b'{"data": ' + b"[" * 1100 + b"]" * 1100 + b"}",
    }
    out = {}

    def post(path: str, body: bytes, **more):
        try:
            with httpx.Client(timeout=60) as http:
                answer = http.post(f"{base}{path}", content=body, headers={**headers, **more})
                return answer.status_code
        except httpx.HTTPError as exc:  # a server that drops the connection
            return f"no answer ({type(exc).__name__})"

    for name, body in bodies.items():
        out[f"create:{name}"] = post("/artifacts/", body)
    filters = {
        "offset-2**63": b'{"offset": 9223372036854775808}',
        "limit-201": b'{"limit": 201}',
        "filter-nested-1000": b'{"artifacts": ' + b"[" * 1000 + b"]" * 1000 + b"}",
        "key.any_-surrogate": b'{"artifacts": {"key": {"any_": ["\\ud800"]}}}',
        "task_runs.id.not_any_": (
            b'{"task_runs": {"id": {"not_any_": ["' + str(uuid.uuid4()).encode() + b'"]}}}'
        ),
        "artifacts.description": b'{"artifacts": {"description": {"like_": "x"}}}',
    }
    for name, body in filters.items():
        out[f"filter:{name}"] = post("/artifacts/filter", body)
    nothing = b'{"artifacts": {"key": {"any_": ["no-such-key"]}}}'  # not the rows above
    for accept in ("application/xml", "text/html", "text/csv;q=1, application/json;q=0"):
        out[f"filter:accept {accept}"] = post("/artifacts/filter", nothing, Accept=accept)
    return out


if __name__ == "__main__":
    json.dump(asyncio.run(main()), sys.stdout, sort_keys=True)

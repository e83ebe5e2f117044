"""Seeds a Prefect server through Prefect's own client (run in .venv-prefect by the import tests).

Env: PREFECT_API_URL (Prefect's server). Argument: "initial" (keys with versions, unkeyed
artifacts, every type, metadata, a flow and a task with names, a row our server refuses) or
"more" (one more version of a key). Prints a JSON report."""

import asyncio
import json
import sys
import warnings

from prefect import artifacts as pa
from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import ArtifactCreate
from prefect.runtime import flow_run, task_run

warnings.filterwarnings("ignore")


@task(task_run_name="seed-task-run")
def seed_task() -> str:
    pa.create_table_artifact([{"step": "load", "rows": 10}], key="task-table")
    pa.create_markdown_artifact("made in a task, unkeyed")
    return str(task_run.id)


@flow(name="seed-flow", flow_run_name="seed-run")
def seed_flow() -> dict:
    task_run_id = seed_task()
    pa.create_markdown_artifact("# Flow summary", key="flow-summary", description="from the flow")
    return {"flow_run_id": str(flow_run.id), "task_run_id": task_run_id}


async def raw(**fields) -> str:
    async with get_client() as client:
        return str((await client.create_artifact(ArtifactCreate(**fields))).id)


def initial() -> dict:
    out = {}
    for n in range(3):
        pa.create_markdown_artifact(f"# Report {n}", key="report", description=f"version {n}")
    pa.create_table_artifact([{"a": 1, "b": 2}], key="metrics")
    pa.create_table_artifact({"a": [1, 2], "b": [3, 4]}, key="metrics")
    pa.create_table_artifact([[1, 2], [3, 4]], key="metrics")
    pa.create_link_artifact("https://example.com/docs", link_text="Docs", key="docs")
    pa.create_image_artifact("https://example.com/chart.png", key="chart")
    bar = pa.create_progress_artifact(10.0, key="training", description="epochs")
    pa.update_progress_artifact(bar, 60.0)
    pa.create_markdown_artifact("unkeyed report")
    pa.create_table_artifact([{"x": 1}])
    out["result"] = asyncio.run(
        raw(key="answer", type="result", data={"value": 42}, metadata_={"model": "v1"})
    )
    out["html"] = asyncio.run(raw(key="page", type="html", data="<p>hi</p>", description="h"))
    out["untyped"] = asyncio.run(raw(data={"anything": [1, "two"]}))
    # Our server refuses integers beyond 64 bits (it could not answer them again): reported.
    out["refused"] = asyncio.run(raw(key="too-big", type="result", data={"n": 2**70}))
    # ... and NUL characters in JSON (PostgreSQL cannot store them; Prefect's SQLite can).
    out["refused_nul"] = asyncio.run(raw(key="nul-data", type="result", data={"s": "a\u0000b"}))
    out.update(seed_flow())
    return out


def more() -> dict:
    return {"new": str(pa.create_markdown_artifact("# Report 3", key="report"))}


if __name__ == "__main__":
    print(json.dumps(initial() if sys.argv[1] == "initial" else more()))

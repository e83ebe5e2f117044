"""A Prefect flow and task publishing to our dashboard with our client (run by the compat test)."""

import json

from prefect import flow, task
from prefect.runtime import flow_run, task_run

from artifacts_app.client import create_markdown_artifact, create_table_artifact


@task(task_run_name="crunch-numbers")
def crunch() -> str:
    create_table_artifact([{"rows": 3}], key="task-table", description="from a task")
    return str(task_run.id)


@flow(name="compat-pipeline", flow_run_name="compat-run-1")
def pipeline() -> dict:
    task_run_id = crunch()
    create_markdown_artifact("# Flow done", key="flow-summary")
    return {"flow_run_id": str(flow_run.id), "task_run_id": task_run_id}


if __name__ == "__main__":
    print(json.dumps(pipeline()))

"""Run with Prefect's own client (in .venv-prefect) against our server; prints a JSON report.

Env: PREFECT_API_URL (our /api), PREFECT_API_KEY (our token). Exercises every prefect.artifacts
function, sync and async, an explicit PrefectClient, and the client's read/delete calls."""

import asyncio
import json
import logging
import sys
import warnings

from prefect import artifacts as pa
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, ArtifactFilterType
from prefect.client.schemas.sorting import ArtifactSort

captured: list[str] = []


class Capture(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.WARNING:
            captured.append(f"{record.name}: {record.getMessage()}")


logging.getLogger().addHandler(Capture())
logging.getLogger("prefect").addHandler(Capture())
warnings.filterwarnings("ignore", category=FutureWarning)  # artifacts outside a run: expected
warnings.simplefilter("always")


def main() -> dict:
    out: dict = {}
    out["table"] = str(
        pa.create_table_artifact([{"a": 1, "b": float("nan")}], key="compat-table", description="t")
    )
    out["markdown"] = str(pa.create_markdown_artifact("# Hello", key="compat-md"))
    out["link"] = str(
        pa.create_link_artifact("https://example.com", link_text="Example", key="compat-link")
    )
    out["image"] = str(pa.create_image_artifact("https://example.com/a.png", key="compat-image"))
    progress = pa.create_progress_artifact(10.0, key="compat-progress")
    out["progress"] = str(progress)
    pa.update_progress_artifact(progress, 55.0, description="halfway")
    got = pa.Artifact.get("compat-table")
    out["get"] = {"id": str(got.id), "data": got.data, "key": got.key}
    again, created = pa.Artifact.get_or_create("compat-table", data={"x": 1})
    out["get_or_create_existing"] = [str(again.id), created]
    fresh, created = pa.Artifact.get_or_create(
        "compat-new", description="new", data={"x": 1}, type="result"
    )
    out["get_or_create_new"] = [str(fresh.id), created]

    async def run_async():
        result = {}
        result["atable"] = str(await pa.acreate_table_artifact({"c": [1, 2]}, key="compat-atable"))
        result["amarkdown"] = str(await pa.acreate_markdown_artifact("*async*", key="compat-amd"))
        result["aimage"] = str(
            await pa.acreate_image_artifact("https://example.com/b.png", key="compat-aimage")
        )
        aprog = await pa.acreate_progress_artifact(1.0, key="compat-aprogress")
        await pa.aupdate_progress_artifact(aprog, 99.0)
        result["aprogress"] = str(aprog)
        async with get_client() as client:
            made = await pa.Artifact(
                type="result", key="compat-explicit", data={"ok": True}
            ).acreate(client=client)
            result["explicit"] = str(made.id)
            result["alink"] = str(
                await pa.acreate_link_artifact(
                    "https://example.org", link_text="Org", key="compat-alink", client=client
                )
            )
            tables = await client.read_artifacts(
                artifact_filter=ArtifactFilter(type=ArtifactFilterType(any_=["table"])),
                sort=ArtifactSort.CREATED_DESC,
                limit=10,
            )
            result["read_tables"] = sorted(a.key for a in tables)
            by_key = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["compat-md"]))
            )
            result["read_by_key"] = [str(a.id) for a in by_key]
            latest = await client.read_latest_artifacts(limit=50)
            result["latest_keys"] = sorted(a.key for a in latest)
            result["latest_ids"] = sorted(str(a.latest_id) for a in latest)
            await client.delete_artifact(made.id)
            result["deleted"] = str(made.id)
        result["aget"] = str((await pa.Artifact.aget("compat-amd")).id)
        return result

    out.update(asyncio.run(run_async()))
    return out


if __name__ == "__main__":
    report = main()
    report["warnings"] = captured
    json.dump(report, sys.stdout)

"""`prefect.artifacts`' interface (Prefect 3), posting to our API.

Every operation is written once, as a plan: a generator that yields HTTP requests and receives
their answers. `_run` drives a plan with the sync client, `_arun` with the async one, so each
function and its `a`-prefixed twin behave identically. As Prefect's `async_dispatch`, a sync
function called from inside a running event loop returns its async twin's coroutine (so
`await create_table_artifact(...)` works in async code); pass `_sync=True` to force blocking."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import math
import os
import uuid
import warnings
from collections.abc import Generator
from dataclasses import dataclass, fields
from typing import Any

from .transport import ArtifactsClient, AsyncArtifactsClient, Request

Plan = Generator[Request, Any, Any]


# ------------------------------------------------------------------------------ plumbing --


def _run(plan: Plan, client=None):
    own = client is None
    client = client or ArtifactsClient()
    try:
        answer = None
        while True:
            answer = client.send(plan.send(answer))
    except StopIteration as stop:
        return stop.value
    finally:
        if own:
            client.close()


async def _arun(plan: Plan, client=None):
    own = client is None
    client = client or AsyncArtifactsClient()
    try:
        answer = None
        while True:
            request = plan.send(answer)
            answer = client.send(request)
            if asyncio.iscoroutine(answer):
                answer = await answer
    except StopIteration as stop:
        return stop.value
    finally:
        if own:
            await client.aclose()


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def async_dispatch(async_fn):
    """Make a sync function return `async_fn`'s coroutine when called inside a running loop."""

    def decorator(sync_fn):
        @functools.wraps(sync_fn)
        def wrapper(*args, _sync: bool | None = None, **kwargs):
            if _sync is not True and _in_event_loop():
                return async_fn(*args, **kwargs)
            return sync_fn(*args, **kwargs)

        wrapper.aio = async_fn
        return wrapper

    return decorator


def _parse_uuid(value):
    return uuid.UUID(str(value)) if value else None


def _parse_time(value):
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


@dataclass
class ArtifactResponse:
    """An artifact as the server answered it (Prefect's `ArtifactResponse` fields)."""

    id: uuid.UUID
    created: dt.datetime | None = None
    updated: dt.datetime | None = None
    key: str | None = None
    type: str | None = None
    description: str | None = None
    data: Any = None
    metadata_: dict[str, str] | None = None
    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None

    @classmethod
    def from_json(cls, body: dict) -> ArtifactResponse:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in body.items() if k in known}
        for name in ("id", "flow_run_id", "task_run_id"):
            values[name] = _parse_uuid(values.get(name))
        for name in ("created", "updated"):
            values[name] = _parse_time(values.get(name))
        return cls(**values)


def run_ids() -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """(flow_run_id, task_run_id): from ARTIFACTS_FLOW_RUN_ID / ARTIFACTS_TASK_RUN_ID, else from
    Prefect's run context when this code runs inside a Prefect flow or task."""
    flow_run_id, task_run_id, _ = run_context()
    return flow_run_id, task_run_id


def _iso(value) -> str | None:
    return value.isoformat() if isinstance(value, dt.datetime) else None


def run_context() -> tuple[uuid.UUID | None, uuid.UUID | None, list[dict]]:
    """(flow_run_id, task_run_id, runs): the run ids, and what is known of those runs' names for
    the server's `POST /api/ext/runs`. From ARTIFACTS_FLOW_RUN_ID / ARTIFACTS_TASK_RUN_ID with
    ARTIFACTS_FLOW_NAME / ARTIFACTS_FLOW_RUN_NAME / ARTIFACTS_TASK_RUN_NAME, else from Prefect's
    run context inside a Prefect flow or task (Prefect is optional)."""
    flow_run_id = _parse_uuid(os.environ.get("ARTIFACTS_FLOW_RUN_ID"))
    task_run_id = _parse_uuid(os.environ.get("ARTIFACTS_TASK_RUN_ID"))
    if flow_run_id or task_run_id:
        runs = []
        flow_name = os.environ.get("ARTIFACTS_FLOW_NAME")
        flow_run_name = os.environ.get("ARTIFACTS_FLOW_RUN_NAME")
        task_run_name = os.environ.get("ARTIFACTS_TASK_RUN_NAME")
        if flow_run_id and (flow_name or flow_run_name):
            runs.append(
                {"id": flow_run_id, "kind": "flow", "name": flow_run_name, "flow_name": flow_name}
            )
        if task_run_id and task_run_name:
            runs.append(
                {"id": task_run_id, "kind": "task", "name": task_run_name,
                 "flow_run_id": flow_run_id}
            )  # fmt: skip
        return flow_run_id, task_run_id, runs
    try:  # only when Prefect is installed; never required
        from prefect.context import FlowRunContext, TaskRunContext
    except Exception:  # noqa: BLE001 - Prefect absent or broken: no run context
        return None, None, []
    runs = []
    task_ctx = TaskRunContext.get()
    flow_ctx = FlowRunContext.get()
    flow_run = flow_ctx.flow_run if flow_ctx is not None else None
    if task_ctx is not None:
        task_run = task_ctx.task_run
        flow_run_id, task_run_id = task_run.flow_run_id, task_run.id
        runs.append(
            {"id": task_run.id, "kind": "task", "name": task_run.name,
             "flow_run_id": task_run.flow_run_id, "start_time": _iso(task_run.start_time)}
        )  # fmt: skip
    elif flow_run is not None:
        flow_run_id = flow_run.id
    if flow_run is not None and flow_run.id == flow_run_id:
        flow = getattr(flow_ctx, "flow", None)
        runs.append(
            {"id": flow_run.id, "kind": "flow", "name": flow_run.name,
             "flow_name": getattr(flow, "name", None), "start_time": _iso(flow_run.start_time)}
        )  # fmt: skip
    return flow_run_id, task_run_id, runs


_names_sent: set = set()  # (run id, name) sent by this process: each run's names go once


def _names_plan(runs: list[dict]) -> Plan:
    """Send run names the server has not had from this process (best effort: a server without
    the route, or any failure, never stops the artifact)."""
    fresh = [run for run in runs if (run["id"], run.get("name")) not in _names_sent]
    if not fresh:
        return
    body = {
        "runs": [
            {name: _jsonable(value) for name, value in run.items() if value is not None}
            for run in fresh
        ]
    }
    answer = yield Request("POST", "ext/runs", json=body, best_effort=True)
    if answer is not None:
        if len(_names_sent) > 10_000:  # a long-lived worker: forget old runs
            _names_sent.clear()
        _names_sent.update((run["id"], run.get("name")) for run in fresh)


def _jsonable(value):
    return str(value) if isinstance(value, uuid.UUID) else value


# ----------------------------------------------------------------------------- artifacts --


@dataclass(kw_only=True)
class Artifact:
    """An artifact to create. Same fields as Prefect's `Artifact`: type, key, description, data."""

    type: str | None = None
    key: str | None = None
    description: str | None = None
    data: Any = None
    metadata_: dict[str, str] | None = None
    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None

    def format(self):
        """The `data` sent on the wire (Prefect sends a generic artifact's data as JSON text)."""
        return json.dumps(self.data)

    def _payload(self, flow_run_id=None, task_run_id=None) -> dict:
        body = {
            "type": self.type,
            "key": self.key,
            "description": self.description,
            "data": self.format(),
            "flow_run_id": _jsonable(self.flow_run_id or flow_run_id),
            "task_run_id": _jsonable(self.task_run_id or task_run_id),
        }
        if self.metadata_ is not None:
            body["metadata_"] = self.metadata_
        return body

    def _create_plan(self) -> Plan:
        flow_run_id, task_run_id, runs = run_context()
        if (self.flow_run_id or flow_run_id) == flow_run_id and runs:
            yield from _names_plan(runs)
        body = yield Request("POST", "artifacts/", json=self._payload(flow_run_id, task_run_id))
        return ArtifactResponse.from_json(body)

    def create(
        self, client: ArtifactsClient | None = None, _sync: bool | None = None
    ) -> ArtifactResponse:
        if _sync is not True and _in_event_loop():
            return self.acreate(client)
        return _run(self._create_plan(), client)

    async def acreate(self, client=None) -> ArtifactResponse:
        return await _arun(self._create_plan(), client)

    @staticmethod
    def _get_plan(key: str | None) -> Plan:
        if not key:
            return None
        body = yield Request("GET", f"artifacts/{key}/latest", ok_404=True)
        return ArtifactResponse.from_json(body) if body else None

    @classmethod
    def get(
        cls, key: str | None = None, client=None, _sync: bool | None = None
    ) -> ArtifactResponse | None:
        """The latest version of `key`, or None."""
        if _sync is not True and _in_event_loop():
            return cls.aget(key, client)
        return _run(cls._get_plan(key), client)

    @classmethod
    async def aget(cls, key: str | None = None, client=None) -> ArtifactResponse | None:
        return await _arun(cls._get_plan(key), client)

    @classmethod
    def _get_or_create_plan(cls, key, description, data, kwargs) -> Plan:
        existing = yield from cls._get_plan(key)
        if existing:
            return existing, False
        created = yield from cls(
            key=key, description=description, data=data, **kwargs
        )._create_plan()
        return created, True

    @classmethod
    def get_or_create(
        cls,
        key: str | None = None,
        description: str | None = None,
        data: Any = None,
        client=None,
        _sync: bool | None = None,
        **kwargs: Any,
    ) -> tuple[ArtifactResponse, bool]:
        """(artifact, created): the latest version of `key`, or a new artifact made from the rest."""
        if _sync is not True and _in_event_loop():
            return cls.aget_or_create(key, description, data, client, **kwargs)
        return _run(cls._get_or_create_plan(key, description, data, kwargs), client)

    @classmethod
    async def aget_or_create(
        cls,
        key: str | None = None,
        description: str | None = None,
        data: Any = None,
        client=None,
        **kwargs: Any,
    ) -> tuple[ArtifactResponse, bool]:
        return await _arun(cls._get_or_create_plan(key, description, data, kwargs), client)


def _sanitize(item):
    """NaN -> None, recursively (Prefect's TableArtifact._sanitize)."""
    if isinstance(item, list):
        return [_sanitize(sub) for sub in item]
    if isinstance(item, dict):
        return {k: _sanitize(v) for k, v in item.items()}
    if isinstance(item, float) and math.isnan(item):
        return None
    return item


def _table_from_dataframe(table):
    """A pandas DataFrame becomes a list of row dicts (only when pandas is installed)."""
    try:
        import pandas as pd
    except ImportError:
        return table
    if isinstance(table, pd.DataFrame):
        frame = table.astype(object).where(pd.notna(table), None)
        return [{str(k): v for k, v in row.items()} for row in frame.to_dict(orient="records")]
    return table


@dataclass(kw_only=True)
class TableArtifact(Artifact):
    table: Any = None
    type: str | None = "table"

    def format(self) -> str:
        return json.dumps(_sanitize(_table_from_dataframe(self.table)), default=str)


@dataclass(kw_only=True)
class MarkdownArtifact(Artifact):
    markdown: str = ""
    type: str | None = "markdown"

    def format(self) -> str:
        return self.markdown


@dataclass(kw_only=True)
class LinkArtifact(Artifact):
    link: str = ""
    link_text: str | None = None
    type: str | None = "markdown"

    def format(self) -> str:
        return (
            f"[{self.link_text}]({self.link})" if self.link_text else f"[{self.link}]({self.link})"
        )


@dataclass(kw_only=True)
class ImageArtifact(Artifact):
    image_url: str = ""
    type: str | None = "image"

    def format(self) -> str:
        return self.image_url


@dataclass(kw_only=True)
class ProgressArtifact(Artifact):
    progress: float = 0.0
    type: str | None = "progress"

    def format(self) -> float | None:
        return clamp_progress(self.progress)


def clamp_progress(progress: float) -> float | None:
    """As Prefect's ProgressArtifact: a value outside 0..100 is clamped with a warning (never
    refused); NaN is passed on, and goes on the wire as null (pydantic's JSON mode)."""
    value = float(progress)
    if math.isnan(value):
        return None
    if value < 0 or value > 100:
        warnings.warn(
            f"progress {value} is outside 0..100 and was clamped", UserWarning, stacklevel=4
        )
        value = max(0.0, min(100.0, value))
    return value


# ------------------------------------------------------------------------- the functions --


def _id_plan(artifact: Artifact) -> Plan:
    created = yield from artifact._create_plan()
    return created.id


def _define(name: str, make_plan, doc: str):
    """Define `name` and `a<name>` from one plan factory."""

    async def async_fn(*args, client=None, **kwargs):
        return await _arun(make_plan(*args, **kwargs), client)

    @async_dispatch(async_fn)
    def sync_fn(*args, client=None, **kwargs):
        return _run(make_plan(*args, **kwargs), client)

    sync_fn.__name__, sync_fn.__qualname__, sync_fn.__doc__ = name, name, doc
    async_fn.__name__, async_fn.__qualname__, async_fn.__doc__ = "a" + name, "a" + name, doc
    return sync_fn, async_fn


def _create_table(table, key: str | None = None, description: str | None = None) -> Plan:
    return _id_plan(TableArtifact(key=key, description=description, table=table))


def _create_markdown(markdown: str, key: str | None = None, description: str | None = None) -> Plan:
    return _id_plan(MarkdownArtifact(key=key, description=description, markdown=markdown))


def _create_link(
    link: str, link_text: str | None = None, key: str | None = None, description: str | None = None
) -> Plan:
    return _id_plan(LinkArtifact(key=key, description=description, link=link, link_text=link_text))


def _create_image(image_url: str, key: str | None = None, description: str | None = None) -> Plan:
    return _id_plan(ImageArtifact(key=key, description=description, image_url=image_url))


def _create_progress(
    progress: float, key: str | None = None, description: str | None = None
) -> Plan:
    return _id_plan(ProgressArtifact(key=key, description=description, progress=progress))


def _update(artifact_id, data=None, description: str | None = None, *, has_data=True) -> Plan:
    body: dict[str, Any] = {}
    if has_data:
        body["data"] = data
    if description:
        body["description"] = description
    yield Request("PATCH", f"artifacts/{artifact_id}", json=body)
    return _parse_uuid(artifact_id)


def _update_progress(artifact_id, progress: float, description: str | None = None) -> Plan:
    return _update(artifact_id, clamp_progress(progress), description)


def _update_table(artifact_id, table, description: str | None = None) -> Plan:
    return _update(artifact_id, TableArtifact(table=table).format(), description)


def _update_markdown(artifact_id, markdown: str, description: str | None = None) -> Plan:
    return _update(artifact_id, markdown, description)


def _update_link(
    artifact_id, link: str, link_text: str | None = None, description: str | None = None
) -> Plan:
    return _update(artifact_id, LinkArtifact(link=link, link_text=link_text).format(), description)


def _update_image(artifact_id, image_url: str, description: str | None = None) -> Plan:
    return _update(artifact_id, image_url, description)


def _increment(artifact_id, increment: float = 1.0) -> Plan:
    body = yield Request(
        "POST", f"artifacts/{artifact_id}/progress", json={"increment": float(increment)}
    )
    return float(body["data"])


def _delete(key: str | None = None, artifact_id=None) -> Plan:
    if (key is None) == (artifact_id is None):
        raise TypeError("delete_artifact needs exactly one of key= or artifact_id=")
    if key is not None:
        body = yield Request("DELETE", f"artifacts/key/{key}")
        return int(body["deleted"])
    yield Request("DELETE", f"artifacts/{artifact_id}")
    return 1


create_table_artifact, acreate_table_artifact = _define(
    "create_table_artifact", _create_table, "Create a table artifact; returns its id."
)
create_markdown_artifact, acreate_markdown_artifact = _define(
    "create_markdown_artifact", _create_markdown, "Create a markdown artifact; returns its id."
)
create_link_artifact, acreate_link_artifact = _define(
    "create_link_artifact",
    _create_link,
    "Create a link artifact (markdown `[text](url)`); returns its id.",
)
create_image_artifact, acreate_image_artifact = _define(
    "create_image_artifact", _create_image, "Create an image artifact from a URL; returns its id."
)
create_progress_artifact, acreate_progress_artifact = _define(
    "create_progress_artifact",
    _create_progress,
    "Create a progress artifact (0..100); returns its id.",
)
update_progress_artifact, aupdate_progress_artifact = _define(
    "update_progress_artifact",
    _update_progress,
    "Set a progress artifact's value (clamped); returns its id.",
)
update_table_artifact, aupdate_table_artifact = _define(
    "update_table_artifact",
    _update_table,
    "Replace a table artifact's data in place; returns its id.",
)
update_markdown_artifact, aupdate_markdown_artifact = _define(
    "update_markdown_artifact",
    _update_markdown,
    "Replace a markdown artifact's text in place; returns its id.",
)
update_link_artifact, aupdate_link_artifact = _define(
    "update_link_artifact", _update_link, "Replace a link artifact's link in place; returns its id."
)
update_image_artifact, aupdate_image_artifact = _define(
    "update_image_artifact",
    _update_image,
    "Replace an image artifact's URL in place; returns its id.",
)
increment_progress, aincrement_progress = _define(
    "increment_progress",
    _increment,
    "Atomically add to a progress artifact (clamped); returns the new value.",
)
delete_artifact, adelete_artifact = _define(
    "delete_artifact",
    _delete,
    "Delete one version (artifact_id=) or every version of a key (key=).",
)

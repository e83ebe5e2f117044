"""Copying from a Prefect server (3.x): its API read page by page (artifacts, flow runs, task runs,
flows), the import behind `manage.py import_prefect`, and the lookup of run names on first sight
(ARTIFACTS_PREFECT_API_URL). Every write goes through `services`."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from . import services
from .api.serializers import ArtifactCreateSerializer
from .models import FLOW_RUN, TASK_RUN, Run

log = logging.getLogger(__name__)

PAGE_SIZE = 200  # Prefect's largest `limit`
LOOKUP_RETRY = dt.timedelta(minutes=10)  # a failed name lookup is not retried before this


class PrefectAPIError(Exception):
    pass


def _time(value) -> dt.datetime | None:
    """Prefect's timestamps ("2026-12-01T10:23:07.531926Z"); one without a zone is UTC."""
    if not value:
        return None
    when = dt.datetime.fromisoformat(value)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


class PrefectAPI:
    """A Prefect server's REST API (`http://host:4200/api`; Prefect Cloud's workspace URL with an
    API key; a self-hosted server with PREFECT_SERVER_API_AUTH_STRING with that `user:password`
    auth string, sent as Prefect's client sends it). Connection errors and 5xx are retried
    `retries` times; anything else that fails raises PrefectAPIError."""

    def __init__(
        self,
        api_url: str,
        api_key: str | None = None,
        *,
        auth_string: str | None = None,
        timeout=30.0,
        retries=3,
    ):
        headers = {"Accept": "application/json", "User-Agent": "artifacts-dashboard-import"}
        if auth_string:  # as Prefect's client: the auth string first, else the API key
            token = base64.b64encode(auth_string.encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        elif api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.api_url = api_url.rstrip("/")
        self.retries = retries
        # Imported here: a server worker that never calls Prefect does not load httpx (and with
        # it click and rich where they are installed): 4 MB of every worker's RSS.
        import httpx

        self._errors = httpx.HTTPError
        self._http = httpx.Client(base_url=self.api_url + "/", headers=headers, timeout=timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._http.close()

    def post(self, path: str, body: dict):
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._http.post(path, json=body)
            except self._errors as exc:
                if last:
                    raise PrefectAPIError(f"POST {self.api_url}/{path}: {exc}") from exc
            else:
                if response.status_code < 400:
                    return response.json()
                if response.status_code < 500 or last:
                    text = response.text[:300]
                    raise PrefectAPIError(
                        f"POST {self.api_url}/{path}: {response.status_code} {text}"
                    )
            time.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def artifacts(self, *, sort: str, offset: int, limit: int = PAGE_SIZE) -> list[dict]:
        return self.post("artifacts/filter", {"sort": sort, "offset": offset, "limit": limit})

    def _by_ids(self, path: str, name: str, ids: Iterable) -> list[dict]:
        ids = sorted({str(i) for i in ids if i})
        found = []
        for start in range(0, len(ids), PAGE_SIZE):
            chunk = ids[start : start + PAGE_SIZE]
            body = {name: {"id": {"any_": chunk}}, "limit": PAGE_SIZE}
            found.extend(self.post(f"{path}/filter", body))
        return found

    def runs(self, flow_run_ids: Iterable = (), task_run_ids: Iterable = ()) -> list[dict]:
        """The named runs among these ids (task runs' flow runs included), as
        `services.run_upsert` takes them."""
        runs = []
        flow_run_ids = set(flow_run_ids)
        for task in self._by_ids("task_runs", "task_runs", task_run_ids):
            runs.append(
                {
                    "id": uuid.UUID(task["id"]),
                    "kind": TASK_RUN,
                    "name": task.get("name"),
                    "flow_run_id": task.get("flow_run_id"),
                    "start_time": _time(task.get("start_time")),
                    "state": task.get("state_name"),
                }
            )
            flow_run_ids.add(task.get("flow_run_id"))
        flow_runs = self._by_ids("flow_runs", "flow_runs", flow_run_ids)
        flows = self._by_ids("flows", "flows", (run.get("flow_id") for run in flow_runs))
        flow_names = {flow["id"]: flow.get("name") for flow in flows}
        for run in flow_runs:
            runs.append(
                {
                    "id": uuid.UUID(run["id"]),
                    "kind": FLOW_RUN,
                    "name": run.get("name"),
                    "flow_name": flow_names.get(run.get("flow_id")),
                    "start_time": _time(run.get("start_time")),
                    "state": run.get("state_name"),
                }
            )
        return runs


# ------------------------------------------------------------------------------- import --


@dataclass
class ImportSummary:
    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list = field(default_factory=list)  # (id, key, reason)
    runs_named: int = 0
    newest_updated: dt.datetime | None = None  # the highest `updated` read (for --follow)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return (
            f"{self.read:,} read: {self.new:,} new, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged, {len(self.refused):,} refused; "
            f"{self.runs_named:,} runs named; {self.rate:,.0f} artifacts/s"
        )


# One serializer for every row: DRF builds (deep-copies) a serializer's fields once per instance,
# which was a third of the import's time with an instance per row.
_VALIDATOR = ArtifactCreateSerializer()


def _row(item: dict) -> dict:
    """A Prefect artifact as `services.artifacts_import` takes it, validated as our API validates a
    create (ValueError with the reason if our server would refuse it)."""
    fields = ("key", "type", "description", "data", "metadata_", "flow_run_id", "task_run_id")
    try:
        data = _VALIDATOR.run_validation({name: item.get(name) for name in fields})
    except ValidationError as exc:
        raise ValueError(str(exc.detail)) from None
    try:
        row = {
            "id": uuid.UUID(item["id"]),
            "created": _time(item["created"]),
            "updated": _time(item["updated"]),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"id, created, updated: {exc}") from None
    if row["created"] is None or row["updated"] is None:
        raise ValueError("created and updated are required")
    try:
        metadata = services.artifact_validate(
            key=data.get("key"),
            type=data.get("type"),
            data=item.get("data"),
            description=data.get("description"),
            metadata=item.get("metadata_"),
        )
    except DjangoValidationError as exc:
        raise ValueError("; ".join(exc.messages)) from None
    return {
        **row,
        "key": data.get("key"),
        "type": data.get("type"),
        "description": data.get("description"),
        "data": item.get("data"),  # exactly as Prefect answers it (a table may be JSON text)
        "metadata": metadata,
        "flow_run_id": data.get("flow_run_id"),
        "task_run_id": data.get("task_run_id"),
    }


class PrefectImport:
    """Copies every artifact version of a Prefect server here, page by page (one transaction per
    page): ids, times and run ids preserved; what is here already and unchanged is not written,
    so a second run writes nothing and an interrupted one resumes; a row our API would refuse is
    reported and skipped. Names of the runs of what was written (and of runs still unnamed) are
    read from the same server."""

    def __init__(self, api: PrefectAPI, *, dry_run=False, out: Callable[[str], None] = print):
        self.api = api
        self.dry_run = dry_run
        self.out = out
        self.names_failed = False

    def run(self, since: dt.datetime | None = None) -> ImportSummary:
        """Everything (ID_DESC: Prefect's only unique sort, so offset pages neither skip nor repeat
        a row), or what was updated at or after `since` (UPDATED_DESC, newest first, stopping
        at the first older row; pages overlap a little, as `updated` can tie)."""
        summary = ImportSummary()
        started = time.perf_counter()
        sort = "ID_DESC" if since is None else "UPDATED_DESC"
        step = PAGE_SIZE if since is None else PAGE_SIZE - 20
        # The next page is read while this one is written (Prefect's server answers in its own
        # process): about a third less wall time for 10,000 artifacts.
        with ThreadPoolExecutor(max_workers=1) as reader:
            offset = 0
            pending = reader.submit(self.api.artifacts, sort=sort, offset=offset)
            while True:
                page = pending.result()
                done = len(page) < PAGE_SIZE
                if since is not None:
                    fresh = [i for i in page if (_time(i.get("updated")) or since) >= since]
                    done = done or len(fresh) < len(page)
                    page = fresh
                if not done:
                    offset += step
                    pending = reader.submit(self.api.artifacts, sort=sort, offset=offset)
                self._page(page, summary)
                summary.seconds = time.perf_counter() - started
                self.out(summary.line())
                if done:
                    return summary

    def _page(self, page: list[dict], summary: ImportSummary) -> None:
        rows = []
        for item in page:
            summary.read += 1
            try:
                row = _row(item)
            except ValueError as exc:
                summary.refused.append((item.get("id"), item.get("key"), str(exc)))
                self.out(f"refused {item.get('id')} (key {item.get('key')!r}): {exc}")
                continue
            rows.append(row)
            if summary.newest_updated is None or row["updated"] > summary.newest_updated:
                summary.newest_updated = row["updated"]
        result = services.artifacts_import(rows=rows, dry_run=self.dry_run)
        summary.new += result.new
        summary.updated += result.updated
        summary.unchanged += result.unchanged
        if self.dry_run or not rows:
            return
        written = set(result.written_ids)
        self._name_runs(rows, written, summary)

    def _name_runs(self, rows: list[dict], written: set, summary: ImportSummary) -> None:
        """Ask Prefect about the runs of the rows just written, and about runs of this page that
        still have no name and are due a lookup; a run Prefect does not know is not asked about
        again before LOOKUP_RETRY (so a second import asks nothing and writes nothing)."""
        if self.names_failed:
            return
        ids = {row[name] for row in rows for name in ("flow_run_id", "task_run_id") if row[name]}
        known = {
            run_id: (name, retry_at)
            for run_id, name, retry_at in Run.objects.filter(id__in=ids).values_list(
                "id", "name", "lookup_retry_at"
            )
        }
        now = timezone.now()

        def wanted(run_id, row) -> bool:
            name, retry_at = known.get(run_id, ("", None))
            if name:
                return row["id"] in written
            return retry_at is None or retry_at <= now

        ask = {FLOW_RUN: set(), TASK_RUN: set()}
        for row in rows:
            for kind, name in ((FLOW_RUN, "flow_run_id"), (TASK_RUN, "task_run_id")):
                if row[name] and wanted(row[name], row):
                    ask[kind].add(row[name])
        if not ask[FLOW_RUN] and not ask[TASK_RUN]:
            return
        try:
            found = self.api.runs(ask[FLOW_RUN], ask[TASK_RUN])
        except (PrefectAPIError, KeyError, TypeError, ValueError) as exc:
            # Names are a bonus: a server that speaks only Prefect's artifact routes (or
            # answers them oddly) still has its artifacts copied.
            if not self.names_failed:
                self.out(f"run names not available from this server: {exc}")
            self.names_failed = True
            return
        summary.runs_named += services.run_upsert(runs=found)
        answered = {run["id"] for run in found}
        unknown = [
            {"id": run_id, "kind": kind, "lookup_retry_at": now + LOOKUP_RETRY}
            for kind, run_ids in ask.items()
            for run_id in run_ids
            if run_id not in answered and not known.get(run_id, ("",))[0]
        ]
        services.run_upsert(runs=unknown)


# ------------------------------------------------------------------------------ lookups --


def lookup_run_names(*, flow_run_id=None, task_run_id=None) -> None:
    """On first sight of a run with no name, ask ARTIFACTS_PREFECT_API_URL (when set) for its
    name, with short timeouts and no retry. A run is asked about once per LOOKUP_RETRY at most,
    by any worker (services.run_claim_lookup keeps that in the database); a failure is logged
    and only delays the name."""
    url = settings.ARTIFACTS_PREFECT_API_URL
    if not url or not (flow_run_id or task_run_id):
        return
    claimed = services.run_claim_lookup(
        run_ids=[flow_run_id, task_run_id], retry_at=timezone.now() + LOOKUP_RETRY
    )
    if not claimed:
        return
    flow_ids = [flow_run_id] if flow_run_id in claimed else []
    task_ids = [task_run_id] if task_run_id in claimed else []
    try:
        with PrefectAPI(
            url,
            settings.ARTIFACTS_PREFECT_API_KEY or None,
            auth_string=settings.ARTIFACTS_PREFECT_API_AUTH_STRING or None,
            timeout=settings.ARTIFACTS_PREFECT_LOOKUP_TIMEOUT,
            retries=0,
        ) as api:
            runs = api.runs(flow_ids, task_ids)
    except (PrefectAPIError, ValueError, KeyError) as exc:
        log.warning("Run name lookup on %s failed (retried after %s): %s", url, LOOKUP_RETRY, exc)
        return
    services.run_upsert(runs=runs)

"""Run pages: the runs index (/runs/), a flow run's page and a task run's page."""

from __future__ import annotations

from django.db.models import Count, Max
from django.shortcuts import render
from django.views.decorators.http import require_GET

from artifacts_app.models import FLOW_RUN, TASK_RUN, Artifact, Run
from artifacts_app.web.fragments import wants_fragment
from artifacts_app.web.views import BoundedPaginator, _int, _uuid_or_404, read_access, runs_of

RUN_LIMIT = 500
RUNS_PAGE_SIZE = 50


@require_GET
@read_access
def run_list(request):
    """Flow runs, newest first, with their artifact count, types and last activity; searchable
    by flow name, run name or id; ?flow= narrows to one flow."""
    q = request.GET.get("q", "").strip()[:200]
    flow = request.GET.get("flow", "").strip()[:500]
    runs = Run.objects.flow_runs().search(q)
    if flow:
        runs = runs.filter(flow_name=flow)
    paginator = BoundedPaginator(runs, RUNS_PAGE_SIZE, request.GET.get("page"))
    page = paginator.get_page(_int(request.GET.get("page")))
    rows = list(page.object_list)
    stats: dict = {run.id: {"count": 0, "types": set(), "last": None} for run in rows}
    if rows:
        grouped = (
            Artifact.objects.filter(flow_run_id__in=list(stats))
            .order_by()
            .values("flow_run_id", "type")
            .annotate(n=Count("flow_run_id"), last=Max("updated"))  # all in one index
        )
        for row in grouped:
            entry = stats[row["flow_run_id"]]
            entry["count"] += row["n"]
            entry["types"].add(row["type"] or "untyped")
            if entry["last"] is None or row["last"] > entry["last"]:
                entry["last"] = row["last"]
    for run in rows:
        run.artifact_count = stats[run.id]["count"]
        run.types = sorted(stats[run.id]["types"])
        run.last_activity = stats[run.id]["last"]
    context = {"page": page, "rows": rows, "q": q, "flow": flow}
    if wants_fragment(request):  # the live search and the pager swap only the results
        return render(request, "artifacts/partials/run_results.html", context)
    return render(request, "artifacts/run_list.html", context)


def _first(artifacts) -> tuple[list, bool]:
    """The first RUN_LIMIT artifacts, and whether there were more."""
    rows = list(artifacts[: RUN_LIMIT + 1])
    return rows[:RUN_LIMIT], len(rows) > RUN_LIMIT


def _grouped(artifacts) -> list:
    groups: dict = {}
    for artifact in artifacts:
        groups.setdefault(artifact.task_run_id, []).append(artifact)
    return sorted(groups.items(), key=lambda item: (item[0] is not None, str(item[0] or "")))


@require_GET
@read_access
def run_detail(request, flow_run_id):
    """Everything a flow run produced, grouped by task run, each task run by name."""
    run_id = _uuid_or_404(flow_run_id)
    artifacts, truncated = _first(Artifact.objects.for_run(run_id))
    runs = runs_of(*artifacts, extra_ids=[run_id])
    run = runs.get(run_id) or Run(id=run_id, kind=FLOW_RUN)
    groups = [
        (runs.get(task_id) or Run(id=task_id, kind=TASK_RUN) if task_id else None, items)
        for task_id, items in _grouped(artifacts)
    ]
    context = {
        "run": run,
        "flow_run": run,
        "runs": runs,
        "groups": groups,
        "count": len(artifacts),
        "truncated": truncated,
    }
    return render(request, "artifacts/run_detail.html", context)


@require_GET
@read_access
def task_run_detail(request, task_run_id):
    """What one task run produced; its flow run (when it had one) one click up."""
    run_id = _uuid_or_404(task_run_id)
    artifacts, truncated = _first(Artifact.objects.for_task_run(run_id))
    runs = runs_of(*artifacts, extra_ids=[run_id])
    run = runs.get(run_id) or Run(id=run_id, kind=TASK_RUN)
    parent_id = run.flow_run_id or next((a.flow_run_id for a in artifacts if a.flow_run_id), None)
    if parent_id and parent_id not in runs:
        runs.update(Run.objects.names_for([parent_id]))
    flow_run = (runs.get(parent_id) or Run(id=parent_id, kind=FLOW_RUN)) if parent_id else None
    context = {
        "run": run,
        "flow_run": flow_run,
        "runs": runs,
        "groups": [(run, artifacts)] if artifacts else [],
        "count": len(artifacts),
        "truncated": truncated,
    }
    return render(request, "artifacts/run_detail.html", context)

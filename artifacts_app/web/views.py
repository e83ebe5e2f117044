"""Dashboard pages and htmx partials. Views fetch through QuerySet methods, write through
services, and pick a template; rendering decisions live in `rendering` and the templates."""

from __future__ import annotations

import functools
import time
import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseStopPolling

from artifacts_app import rendering, search, services
from artifacts_app.models import (
    FLOW_RUN,
    KNOWN_TYPES,
    Artifact,
    ArtifactCollection,
    Run,
    attach_data_if_small,
    attach_small_data,
    attach_version_counts,
)
from artifacts_app.web import tables
from artifacts_app.web.fragments import wants_fragment

LIST_PAGE_SIZE = 25
VERSIONS_PAGE_SIZE = 20
COUNT_BOUND = 10_000


class BoundedPaginator(Paginator):
    """Counts at most COUNT_BOUND rows, or as many as the page asked for needs, plus one: the
    list of 100,000 keys at a million artifacts is not counted on every view (17 ms on
    PostgreSQL, and growing with the keys). `exact` says whether `count` is the total; when it is
    not, the page shows "10,000+" and offers the next page."""

    def __init__(self, object_list, per_page, page=None):
        super().__init__(object_list, per_page)
        try:
            number = max(1, int(page))
        except (TypeError, ValueError):
            number = 1
        self.bound = max(COUNT_BOUND, (number + 1) * per_page)
        self.exact = True

    @functools.cached_property
    def count(self):
        counted = self.object_list.values("pk").order_by()[: self.bound + 1].count()
        self.exact = counted <= self.bound
        return counted if self.exact else self.bound


LIST_SORTS = {
    "updated": ("-updated", "-id"),
    "created": ("-created", "-id"),
    "key": ("key",),
    "-key": ("-key",),
}


def read_access(view):
    """Pages are public unless ARTIFACTS_PUBLIC_READ is off; then they need a login."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.ARTIFACTS_PUBLIC_READ and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, *args, **kwargs)

    return wrapper


def staff_required(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not request.user.is_staff:
            raise PermissionDenied("Only staff can delete artifacts.")
        return view(request, *args, **kwargs)

    return wrapper


def _int(value, default=1) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return default


def _uuid_or_404(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404("No such artifact.") from None


class SearchPaginator(Paginator):
    """Pages over the grouped results of a search (at most search.CANDIDATES versions); `exact`
    is False when more versions matched than were ranked (the count shows "N+")."""

    def __init__(self, groups, per_page, *, exact: bool):
        super().__init__(groups, per_page)
        self.exact = exact


def _search_filters(request) -> tuple[search.Query, dict]:
    """The search box, date range and flow-run filter of the list, read leniently: what cannot
    be understood is named in `problems` and left out, never an error."""
    q = request.GET.get("q", "").strip()[: search.QUERY_CHARS]
    query = search.parse_query(q)
    problems = []
    filters = {
        "q": q,
        "from": request.GET.get("from", "").strip()[:40],
        "to": request.GET.get("to", "").strip()[:40],
        "flow_run": request.GET.get("flow_run", "").strip()[:80],
        "flow_run_id": None,
    }
    query.start = search.parse_day(filters["from"])
    query.end = search.parse_day(filters["to"], end=True)
    if filters["from"] and query.start is None:
        problems.append(f"“{filters['from']}” is not a date (from)")
    if filters["to"] and query.end is None:
        problems.append(f"“{filters['to']}” is not a date (to)")
    if filters["flow_run"]:
        try:
            filters["flow_run_id"] = uuid.UUID(filters["flow_run"])
        except ValueError:
            problems.append(f"“{filters['flow_run']}” is not a flow run id")
    if query.truncated:
        problems.append(f"only the first {search.MAX_TERMS} words were searched")
    filters["problems"] = problems
    return query, filters


def _matching_runs(query, limit: int = 8) -> list:
    """Runs whose name or flow name holds every word of the search, or whose id holds the one
    word typed when it looks like a piece of an id (8+ hex digits, as cards show ids); at most
    `limit`, newest first: the search finds runs as well as artifacts."""
    if not query.has_text:
        return []
    words = [*query.prefixes, *(word for phrase in query.phrases for word in phrase)]
    runs = Run.objects.all()
    for word in words:
        runs = runs.filter(Q(name__icontains=word) | Q(flow_name__icontains=word))
    found = list(runs.order_by("-created", "-id")[:limit])
    if not found and len(words) == 1 and len(words[0]) >= 8:
        piece = words[0]
        if all(c in "0123456789abcdef" for c in piece):
            by_id = Run.objects.filter(id__icontains=piece)
            found = list(by_id.order_by("-created", "-id")[:limit])
    return found


def _search_page(request, query, filters, *, tab, type_, sort, flow=""):
    """One page of search results: keys (each once, its best-matching version noted) or
    unkeyed artifacts. Returns the page and the search's own time in ms."""
    started = time.perf_counter()
    hits = search.search_versions(
        query, keyed=tab == "keys", type_=type_, flow_run=filters["flow_run_id"], flow=flow
    )
    elapsed = (time.perf_counter() - started) * 1000
    groups = search.group_by_key(hits.hits)
    if sort in ("updated", "created"):
        groups.sort(key=lambda g: g.hit.created, reverse=True)
    elif sort in ("key", "-key"):
        groups.sort(key=lambda g: g.key or "", reverse=sort == "-key")
    paginator = SearchPaginator(groups, LIST_PAGE_SIZE, exact=not hits.capped)
    page = paginator.get_page(request.GET.get("page"))
    chosen = list(page.object_list)
    if tab == "keys":
        found = ArtifactCollection.objects.with_latest_small_data().filter(
            key__in=[g.key for g in chosen], latest__isnull=False
        )
        by_key = {collection.key: collection for collection in found}
        items = []
        for group in chosen:
            collection = by_key.get(group.key)
            if collection is None:  # deleted since it matched
                continue
            collection.match = None if group.hit.id == collection.latest_id else group.hit
            collection.matches = group.matches
            items.append(collection)
        attach_small_data(items)
        attach_version_counts(items)
    else:
        found = Artifact.objects.with_small_data().filter(pk__in=[g.hit.id for g in chosen])
        by_id = {artifact.pk: attach_data_if_small(artifact) for artifact in found}
        items = [by_id[g.hit.id] for g in chosen if g.hit.id in by_id]
    page.object_list = items
    return page, elapsed


@require_GET
@read_access
def artifact_list(request):
    """The latest version of every key (or the unkeyed artifacts), paginated; with a search
    (words, a phrase, a run id, a date range or a flow run), the keys or artifacts whose
    versions match, best match first (artifacts_app.search)."""
    view_started = time.perf_counter()
    query, filters = _search_filters(request)
    q = filters["q"]
    type_ = request.GET.get("type", "").strip()[:200]
    searching = not query.empty or filters["flow_run_id"] is not None
    sort = request.GET.get("sort", "")
    if sort not in LIST_SORTS and not (searching and sort == "relevance"):
        sort = ""
    tab = "unkeyed" if request.GET.get("tab") == "unkeyed" else "keys"
    flow = request.GET.get("flow", "").strip()[:500]
    search_ms = None
    if searching:
        page, search_ms = _search_page(
            request, query, filters, tab=tab, type_=type_, sort=sort or "relevance", flow=flow
        )
    else:
        order = LIST_SORTS[sort or "updated"]
        # ?flow=<flow name>: artifacts of that flow's runs (the latest version's run, for keys).
        flow_runs = Run.objects.filter(kind=FLOW_RUN, flow_name=flow).values("id")
        if tab == "unkeyed":
            queryset = Artifact.objects.unkeyed()
            if type_:
                queryset = queryset.filter(type=type_)
            if flow:
                queryset = queryset.filter(flow_run_id__in=flow_runs)
            if sort in ("", "updated", "created"):
                queryset = queryset.order_by(*order)
        else:
            queryset = ArtifactCollection.objects.with_latest_small_data().filter(
                latest__isnull=False
            )
            if type_:
                queryset = queryset.filter(type=type_)
            if flow:
                queryset = queryset.filter(latest__flow_run_id__in=flow_runs)
            queryset = queryset.order_by(*order)
        paginator = BoundedPaginator(queryset, LIST_PAGE_SIZE, request.GET.get("page"))
        page = paginator.get_page(request.GET.get("page"))
        if tab == "keys":
            attach_small_data(page.object_list)
            attach_version_counts(page.object_list)
    if tab == "keys":
        shown = [collection.latest for collection in page.object_list]
    else:
        shown = list(page.object_list)
    matching_runs = _matching_runs(query) if page.number == 1 else []
    runs = runs_of(*shown)
    runs.update({run.id: run for run in matching_runs})
    context = {
        "page": page,
        "runs": runs,
        "tab": tab,
        "q": q,
        "date_from": filters["from"],
        "date_to": filters["to"],
        "flow_run": filters["flow_run"],
        "problems": filters["problems"],
        "searching": searching,
        "ranked": searching and query.has_text and sort in ("", "relevance"),
        "type": type_,
        "flow": flow,
        "flows": Run.objects.flow_names,  # called only by the whole page, not the fragment
        "sort": sort,
        "types": KNOWN_TYPES,
        "search_limit": search.CANDIDATES,
        "matching_runs": matching_runs,
        "live": page.number == 1 and not searching and not flow,
        "view": "list" if request.GET.get("view") == "list" else "cards",
    }
    template = (
        "artifacts/partials/artifact_results.html"
        if wants_fragment(request)
        else "artifacts/artifact_list.html"
    )
    response = render(request, template, context)
    timings = []
    if search_ms is not None:
        timings.append(f"search;dur={search_ms:.1f}")
    timings.append(f"view;dur={(time.perf_counter() - view_started) * 1000:.1f}")
    response["Server-Timing"] = ", ".join(timings)
    return response


@require_GET
@read_access
def search_help(request):
    """What the search box understands and what it looks in."""
    context = {"max_terms": search.MAX_TERMS, "limit": search.CANDIDATES}
    return render(request, "artifacts/search_help.html", context)


@require_GET
@read_access
def key_detail(request, key):
    collection = get_object_or_404(
        ArtifactCollection.objects.with_latest(), key=key, latest__isnull=False
    )
    paginator = Paginator(Artifact.objects.for_key(key), VERSIONS_PAGE_SIZE)
    versions = paginator.get_page(request.GET.get("page"))
    # v1 is the oldest version, as in the compare form and the trend chart.
    first = paginator.count - versions.start_index() + 1
    numbered = [(first - i, version) for i, version in enumerate(versions)]
    context = {
        "collection": collection,
        "latest": collection.latest,
        "runs": runs_of(collection.latest, *versions),
        "versions": versions,
        "numbered": numbered,
        "watch_delay": NEW_VERSION_WAITS[0],
    }
    if wants_fragment(request) and request.GET.get("page"):
        return render(request, "artifacts/partials/timeline.html", context)
    return render(request, "artifacts/key_detail.html", context)


NEW_VERSION_WAITS = (5, 10, 20, 40, 60)  # seconds between checks: backs off, then every minute


@require_GET
@read_access
def new_version_partial(request, key):
    """Has a version newer than ?since= arrived? Polled by the key page (partials/new_version):
    no: the watcher again, checking later each time (5 s up to a minute); yes: a notice linking
    to it, and htmx's stop-polling status (the notice has no trigger either)."""
    collection = get_object_or_404(ArtifactCollection, key=key)
    since = request.GET.get("since", "")
    try:
        wait = int(request.GET.get("wait", NEW_VERSION_WAITS[0]))
    except ValueError:
        wait = NEW_VERSION_WAITS[0]
    context = {"collection": collection, "since": since}
    if collection.latest_id is None or str(collection.latest_id) == since:
        later = [w for w in NEW_VERSION_WAITS if w > wait]
        context["watch_delay"] = later[0] if later else NEW_VERSION_WAITS[-1]
        return render(request, "artifacts/partials/new_version.html", context)
    newest = Artifact.objects.filter(pk=collection.latest_id).only("id", "created").first()
    context["newest"] = newest
    context["arrived"] = Artifact.objects.filter(key=key, created__gt=_created_of(since)).count()
    response = render(request, "artifacts/partials/new_version.html", context)
    response.status_code = HttpResponseStopPolling.status_code
    return response


def _created_of(pk) -> object:
    """When the version `pk` was created (the epoch if it is gone or not an id)."""
    try:
        found = Artifact.objects.filter(pk=uuid.UUID(str(pk))).values_list("created", flat=True)
    except ValueError:
        found = None
    return (found.first() if found is not None else None) or datetime(1970, 1, 1, tzinfo=UTC)


def _neighbour(queryset, artifact, *, after: bool):
    """The artifact just after (or before) `artifact` in (created, id) order, or None."""
    if after:
        step = Q(created__gt=artifact.created) | Q(created=artifact.created, id__gt=artifact.id)
        order = ("created", "id")
    else:
        step = Q(created__lt=artifact.created) | Q(created=artifact.created, id__lt=artifact.id)
        order = ("-created", "-id")
    return queryset.filter(step).order_by(*order).only("id", "key", "created").first()


def _version_number(versions, artifact) -> dict:
    """{"number": n, "total": t}: `artifact` is version n of t of its key (v1 the oldest), as
    the history and the compare form count them. One query."""
    up_to = Q(created__lt=artifact.created) | Q(created=artifact.created, id__lte=artifact.id)
    return versions.aggregate(number=Count("id", filter=up_to), total=Count("id"))


def _artifact_for_page(pk) -> Artifact:
    """The artifact a page shows, without decoding a big `data` it may never need."""
    artifact = get_object_or_404(Artifact.objects.with_small_data(), pk=_uuid_or_404(pk))
    return attach_data_if_small(artifact)


@require_GET
@read_access
def artifact_detail(request, pk):
    artifact = _artifact_for_page(pk)
    context = {
        "artifact": artifact,
        "raw_head": rendering.raw_head(artifact),
        "runs": runs_of(artifact),
    }
    if artifact.key:
        versions = Artifact.objects.filter(key=artifact.key)
        context["newer"] = _neighbour(versions, artifact, after=True)
        context["older"] = _neighbour(versions, artifact, after=False)
        context["is_latest"] = context["newer"] is None
        context.update(_version_number(versions, artifact))
    if artifact.flow_run_id:
        in_run = Artifact.objects.filter(flow_run_id=artifact.flow_run_id)
        context["run_next"] = _neighbour(in_run, artifact, after=True)
        context["run_previous"] = _neighbour(in_run, artifact, after=False)
    return render(request, "artifacts/artifact_detail.html", context)


@require_GET
@read_access
def progress_partial(request, pk):
    """The progress bar alone, polled by htmx every 2 s; answers 286 (stop polling) at 100.
    The page sends the value it shows (`shown`); the bar never renders less than that."""
    artifact = get_object_or_404(Artifact, pk=_uuid_or_404(pk), type="progress")
    value = artifact.progress_value or 0.0
    try:
        shown = float(request.GET.get("shown", ""))
    except ValueError:
        shown = None
    if shown is not None and 0 <= shown <= 100:
        value = max(value, shown)
    # A poll that finds the bar as it was gets a 304 (the browser revalidates with the ETag and
    # hands htmx the copy it has); a finished bar always answers 286, which stops the polling.
    etag = f'"{artifact.pk}-{artifact.updated.timestamp():.6f}-{value}"'
    response = None if value >= 100 else get_conditional_response(request, etag=etag)
    if response is None:
        context = {"artifact": artifact, "value": value, "stored": artifact.progress_stored}
        response = render(request, "artifacts/partials/progress_bar.html", context)
        if value >= 100:
            response.status_code = HttpResponseStopPolling.status_code
    response["ETag"] = etag
    patch_cache_control(response, no_cache=True, private=True)
    return response


@require_GET
@read_access
def table_partial(request, pk):
    """One page of a table artifact (sort, filter, page: web/tables.py), for htmx. The answer
    names the page URL of the new state: pushed for sort and paging, replaced while typing a
    filter, so the address bar always reproduces the table."""
    artifact = _artifact_for_page(pk)
    if rendering.artifact_kind(artifact) != "table":
        raise Http404("Not a table artifact.")
    state = tables.TableState.from_query(request.GET)
    table = tables.page_rows(artifact, state)
    page_path, page_query = tables.page_of_request(request, artifact)
    links = tables.table_links(artifact, table, state, page_path, page_query)
    context = {"artifact": artifact, "table": table, "links": links, "preview": False}
    response = render(request, "artifacts/partials/table_grid.html", context)
    if wants_fragment(request):
        typing = request.htmx.trigger == f"table-form-{artifact.pk}"
        response["HX-Replace-Url" if typing else "HX-Push-Url"] = links.page_url(page=table.page)
    return response


@require_GET
@read_access
def download(request, pk, fmt):
    """The data of an artifact; a table's CSV and JSON hold the rows of the page's filter, in its
    sort (?sort=&dir=&filter= as on the page), every row when there is none."""
    artifact = get_object_or_404(Artifact, pk=_uuid_or_404(pk))
    kind = rendering.artifact_kind(artifact)
    name = artifact.key or str(artifact.pk)
    view = {}
    if kind == "table":
        state = tables.TableState.from_query(request.GET)
        view = {
            "sort": tables.column_index(artifact, state.sort),
            "descending": state.descending,
            "query": state.filter,
        }
    if fmt == "csv" and kind == "table":
        response = HttpResponse(
            rendering.table_csv(artifact, **view), content_type="text/csv; charset=utf-8"
        )
    elif fmt == "json":
        data = rendering.table_records(artifact, **view) if kind == "table" else artifact.data
        response = JsonResponse(data, safe=False, json_dumps_params={"ensure_ascii": False})
    elif fmt == "md" and kind in ("markdown", "link") and isinstance(artifact.data, str):
        response = HttpResponse(artifact.data, content_type="text/markdown; charset=utf-8")
    else:
        raise Http404("No such download for this artifact.")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@require_http_methods(["GET", "POST"])
@staff_required
def artifact_delete(request, pk):
    artifact = get_object_or_404(Artifact, pk=_uuid_or_404(pk))
    if request.method == "POST":
        services.artifact_delete(artifact_id=artifact.pk)
        if artifact.key and Artifact.objects.filter(key=artifact.key).exists():
            return redirect("artifacts:key", key=artifact.key)
        return redirect("artifacts:list")
    return render(
        request, "artifacts/confirm_delete.html", {"artifact": artifact, "what": "version"}
    )


@require_http_methods(["GET", "POST"])
@staff_required
def key_delete(request, key):
    collection = get_object_or_404(ArtifactCollection, key=key)
    if request.method == "POST":
        services.artifact_delete_key(key=key)
        return redirect("artifacts:list")
    count = Artifact.objects.filter(key=key).count()
    return render(
        request,
        "artifacts/confirm_delete.html",
        {"collection": collection, "count": count, "what": "key"},
    )


def runs_of(*artifacts, extra_ids=()) -> dict:
    """{run id: Run} for the flow and task runs of these artifacts (and `extra_ids`), for
    templatetags/runs.py; one query, none when no artifact has a run."""
    ids = set(extra_ids)
    for artifact in artifacts:
        if artifact is not None:
            ids.update((artifact.flow_run_id, artifact.task_run_id))
    ids.discard(None)
    return Run.objects.names_for(ids) if ids else {}

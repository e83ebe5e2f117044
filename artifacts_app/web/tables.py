"""A table artifact's state (sort, direction, filter, page) lives in the URL of the page that
shows it: `?sort=amount&dir=desc&filter=refunded&table_page=3` on the artifact, key or embed
page. Reloading or sharing that URL shows the same rows; the CSV and JSON downloads take the
same parameters. htmx fetches only the grid (`artifacts:table`) and the server names the page
URL of the new state in `HX-Push-Url` (sort, paging) or `HX-Replace-Url` (typing a filter)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from django.http import QueryDict
from django.urls import reverse

from artifacts_app import rendering

SORT, DIR, FILTER, PAGE = "sort", "dir", "filter", "table_page"
PARAMS = (SORT, DIR, FILTER, PAGE)
FILTER_MAX = 200


@dataclass(frozen=True)
class TableState:
    sort: str = ""  # a column name; "" keeps the table's own order
    descending: bool = False
    filter: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, query) -> TableState:
        try:
            page = max(1, int(query.get(PAGE, 1)))
        except (TypeError, ValueError):
            page = 1
        return cls(
            sort=query.get(SORT, "")[:300],
            descending=query.get(DIR) == "desc",
            filter=" ".join(query.get(FILTER, "").split())[:FILTER_MAX],
            page=page,
        )

    def params(self, **changes) -> dict[str, str]:
        """This state (with `changes`) as query parameters, defaults left out."""
        state = {"sort": self.sort, "descending": self.descending, "filter": self.filter}
        state["page"] = self.page
        state.update(changes)
        params = {}
        if state["sort"]:
            params[SORT] = state["sort"]
            params[DIR] = "desc" if state["descending"] else "asc"
        if state["filter"]:
            params[FILTER] = state["filter"]
        if state["page"] > 1:
            params[PAGE] = str(state["page"])
        return params


def page_rows(artifact, state: TableState, *, page_size=rendering.TABLE_PAGE_SIZE):
    """The TablePage for `state` (an unknown sort column keeps the table's order)."""
    sort = column_index(artifact, state.sort)
    return rendering.table_page(
        artifact,
        page=state.page,
        sort=sort,
        descending=state.descending,
        query=state.filter,
        page_size=page_size,
    )


def column_index(artifact, name: str) -> int | None:
    """The index of the column named `name` (the sort of a page or a download), None when the
    table has no such column or `name` is empty."""
    if not name:
        return None
    columns = rendering.table_columns(artifact)
    return columns.index(name) if name in columns else None


@dataclass
class Header:
    column: str
    aria_sort: str  # ascending, descending or none: every sortable header carries one
    mark: str  # the visible cue: ▲, ▼ or ↕
    href: str  # the page with this sort
    fragment: str  # the grid with this sort (htmx)


@dataclass
class Step:
    href: str
    fragment: str


@dataclass
class TableLinks:
    """URLs of a table's controls: `href`s to the page itself (work without JS, shareable) and
    the grid fragment's URLs for htmx."""

    artifact_pk: object
    page_path: str
    page_query: QueryDict  # the page's other parameters (?series=, ?page= of the history)
    state: TableState
    headers: list[Header] = field(default_factory=list)
    previous: Step | None = None
    next: Step | None = None

    def _page_url(self, params: dict[str, str]) -> str:
        query = self.page_query.copy()
        for name, value in params.items():
            query[name] = value
        encoded = query.urlencode()
        return f"{self.page_path}?{encoded}" if encoded else self.page_path

    def page_url(self, **changes) -> str:
        return self._page_url(self.state.params(**changes))

    def fragment_url(self, **changes) -> str:
        params = self.state.params(**changes)
        base = reverse("artifacts:table", args=[self.artifact_pk])
        return f"{base}?{urlencode(params)}" if params else base

    def download_url(self, fmt: str) -> str:
        """The download of the rows the filter keeps, in the order shown (all pages)."""
        params = self.state.params(page=1)
        base = reverse("artifacts:download", args=[self.artifact_pk, fmt])
        return f"{base}?{urlencode(params)}" if params else base

    @property
    def csv(self) -> str:
        return self.download_url("csv")

    @property
    def json(self) -> str:
        return self.download_url("json")

    @property
    def other_params(self) -> list[tuple[str, str]]:
        """The page's own parameters, as hidden inputs of the filter form (no-JS submit)."""
        return [
            (name, value) for name in self.page_query for value in self.page_query.getlist(name)
        ]


def table_links(artifact, table, state: TableState, page_path: str, query) -> TableLinks:
    """The links of `table` (a TablePage of `artifact` in `state`) on the page at `page_path`
    whose query string is `query`."""
    page_query = query.copy()
    for name in PARAMS:
        page_query.pop(name, None)
    links = TableLinks(artifact.pk, page_path, page_query, state)
    for index, column in enumerate(table.columns):
        active = table.sort == index
        if active:
            aria, mark = ("descending", "▼") if table.descending else ("ascending", "▲")
        else:
            aria, mark = "none", "↕"
        change = {"sort": column, "descending": active and not table.descending, "page": 1}
        links.headers.append(
            Header(column, aria, mark, links.page_url(**change), links.fragment_url(**change))
        )
    if table.page > 1:
        page = table.page - 1
        links.previous = Step(links.page_url(page=page), links.fragment_url(page=page))
    if table.page < table.pages:
        page = table.page + 1
        links.next = Step(links.page_url(page=page), links.fragment_url(page=page))
    return links


def page_of_request(request, artifact) -> tuple[str, QueryDict]:
    """(path, query) of the page the grid is on: htmx's HX-Current-URL when it is this site's,
    else the artifact's own page."""
    current = request.htmx.current_url_abs_path if getattr(request, "htmx", None) else None
    if current:
        parts = urlsplit(current)
        if parts.path and not parts.path.startswith(("/api/", "//")):
            return parts.path, QueryDict(parts.query, mutable=True)
    return reverse("artifacts:detail", args=[artifact.pk]), QueryDict(mutable=True)

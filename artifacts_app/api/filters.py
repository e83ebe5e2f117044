"""Prefect's filter bodies (`POST /artifacts/filter`, `/latest/filter`, counts) -> QuerySets.

Bodies arrive as Prefect's client dumps its pydantic filters: every field present, most of them
null. Null means "no condition". Unknown fields, and run filters we cannot apply, are rejected
with a 422 naming the field. The conditions are Prefect's SQL (schemas/filters.py), NULLs
included: `type.not_any_` is `NOT IN` (an untyped artifact never passes it; an empty list is no
condition), `key.like_` is `ILIKE '%<like_>%'` with `%` and `_` as wildcards (an empty string is
no condition), `any_: []` matches nothing, and a `flow_runs`/`task_runs` filter only keeps
artifacts that have such a run (Prefect's EXISTS)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import django_filters
from django.db.models import CharField, Lookup, Q
from rest_framework.exceptions import ValidationError

from artifacts_app.models import Artifact

DEFAULT_LIMIT = 200
MAX_LIMIT = 200
MAX_OFFSET = 2**63 - 1  # the databases' OFFSET is a signed 64-bit integer
MAX_LIST = 1000

ARTIFACT_SORTS = {
    "CREATED_DESC": ("-created", "-id"),
    "UPDATED_DESC": ("-updated", "-id"),
    "ID_DESC": ("-id",),
    "KEY_DESC": ("-key", "-created", "-id"),
    "KEY_ASC": ("key", "-created", "-id"),
}
COLLECTION_SORTS = {
    "CREATED_DESC": ("-created", "-id"),
    "UPDATED_DESC": ("-updated", "-id"),
    "ID_DESC": ("-id",),
    "KEY_DESC": ("-key",),
    "KEY_ASC": ("key",),
}


@dataclass
class Query:
    q: Q
    order_by: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    offset: int = 0


def _fail(path: str, message: str):
    raise ValidationError({"detail": f"{path}: {message}", "errors": {path: [message]}})


def _object(value, path: str, allowed: set[str]) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        _fail(path, "Must be an object.")
    unknown = sorted(set(value) - allowed)
    if unknown:
        _fail(f"{path}.{unknown[0]}", "Extra inputs are not permitted.")
    return value


def _strings(value, path: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        _fail(path, "Must be a list of strings.")
    if len(value) > MAX_LIST:
        _fail(path, f"At most {MAX_LIST} values.")
    return value


def _uuids(value, path: str) -> list[uuid.UUID] | None:
    values = _strings(value, path)
    if values is None:
        return None
    try:
        return [uuid.UUID(v) for v in values]
    except ValueError:
        _fail(path, "Must be a list of UUIDs.")


def _combine(conditions: list[Q], operator: str, path: str) -> Q:
    if operator not in ("and_", "or_"):
        _fail(f"{path}.operator", "Must be 'and_' or 'or_'.")
    if not conditions:
        return Q()
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = combined & condition if operator == "and_" else combined | condition
    return combined


@CharField.register_lookup
class PrefectILike(Lookup):
    """`column ILIKE '%<pattern>%'` as Prefect's SQLAlchemy filter writes it: `%` and `_` in the
    pattern are wildcards. PostgreSQL: ILIKE (backslash escapes); SQLite: LIKE, which is
    case-insensitive for ASCII there (SQLAlchemy's ilike is `lower(x) LIKE lower(y)`)."""

    lookup_name = "prefect_ilike"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} ILIKE {rhs}", [*lhs_params, *rhs_params]
        return f"lower({lhs}) LIKE lower({rhs})", [*lhs_params, *rhs_params]

    def get_db_prep_lookup(self, value, connection):
        return ("%s", [f"%{value}%"])


def _not_in(field: str, excluded: list) -> Q:
    """SQL's `NOT IN`: never true for NULL (Prefect's `notin_`)."""
    return ~Q(**{f"{field}__in": excluded}) & Q(**{f"{field}__isnull": False})


def _any(field: str, spec, path: str, parse=_strings) -> list[Q]:
    spec = _object(spec, path, {"any_", "not_any_"} if field.endswith("type") else {"any_"})
    out = []
    values = parse(spec.get("any_"), f"{path}.any_")
    if values is not None:
        out.append(Q(**{f"{field}__in": values}))
    if "not_any_" in spec:
        excluded = parse(spec.get("not_any_"), f"{path}.not_any_")
        if excluded:  # Prefect: `if self.not_any_:`, an empty list is no condition
            out.append(_not_in(field, excluded))
    return out


def _artifact_conditions(body, path: str, *, collection: bool) -> Q:
    id_field = "latest_id" if collection else "id"
    prefix = "latest__" if collection else ""
    spec = _object(
        body,
        path,
        {"operator", id_field, "key", "type", "flow_run_id", "task_run_id"},
    )
    conditions: list[Q] = []
    conditions += _any(
        "latest_id" if collection else "id", spec.get(id_field), f"{path}.{id_field}", _uuids
    )
    key = _object(spec.get("key"), f"{path}.key", {"any_", "like_", "exists_"})
    keys = _strings(key.get("any_"), f"{path}.key.any_")
    if keys is not None:
        conditions.append(Q(key__in=keys))
    like = key.get("like_")
    if like is not None and not isinstance(like, str):
        _fail(f"{path}.key.like_", "Must be a string.")
    if like:  # Prefect: `if self.like_:`, an empty string is no condition
        conditions.append(Q(key__prefect_ilike=like))
    exists = key.get("exists_")
    if exists is not None:
        if not isinstance(exists, bool):
            _fail(f"{path}.key.exists_", "Must be a boolean.")
        conditions.append(Q(key__isnull=not exists))
    conditions += _any("type", spec.get("type"), f"{path}.type")
    conditions += _any(
        f"{prefix}flow_run_id", spec.get("flow_run_id"), f"{path}.flow_run_id", _uuids
    )
    conditions += _any(
        f"{prefix}task_run_id", spec.get("task_run_id"), f"{path}.task_run_id", _uuids
    )
    return _combine(conditions, spec.get("operator") or "and_", path)


def _run_conditions(body, path: str, field: str, *, not_any: bool) -> Q:
    """`flow_runs` / `task_runs`: Prefect keeps the artifacts whose run EXISTS and matches. We
    hold no run rows to match on, so any artifact with a run id counts as having that run, and
    only `id` can be applied (`any_`; `not_any_` for flow runs, as Prefect's schemas). Any other
    non-null condition is refused rather than silently ignored."""
    if body is None:
        return Q()
    if not isinstance(body, dict):
        _fail(path, "Must be an object.")
    conditions: list[Q] = []
    for name, value in body.items():
        if name == "operator" or value is None:
            continue
        if name != "id":
            _fail(f"{path}.{name}", "Only id filters are supported for runs.")
        spec = _object(value, f"{path}.id", {"any_", "not_any_"} if not_any else {"any_"})
        ids = _uuids(spec.get("any_"), f"{path}.id.any_")
        if ids is not None:
            conditions.append(Q(**{f"{field}__in": ids}))
        excluded = _uuids(spec.get("not_any_"), f"{path}.id.not_any_")
        if excluded:
            conditions.append(_not_in(field, excluded))
    matched = _combine(conditions, body.get("operator") or "and_", path)
    return Q(**{f"{field}__isnull": False}) & matched


def _int(body: dict, name: str, default: int, *, maximum: int | None = None) -> int:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(name, "Must be an integer.")
    if value < 0:
        _fail(name, "Must be greater than or equal to 0.")
    if maximum is not None and value > maximum:
        _fail(name, f"Must be less than or equal to {maximum}.")
    return value


def parse_body(body, *, collection: bool, paged: bool) -> Query:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        _fail("body", "Must be a JSON object.")
    allowed = {"artifacts", "flow_runs", "task_runs"}
    if paged:
        allowed |= {"sort", "limit", "offset"}
    unknown = sorted(set(body) - allowed - {"deployments", "flows"})
    if unknown:
        _fail(unknown[0], "Extra inputs are not permitted.")
    for ignored in ("deployments", "flows"):
        if body.get(ignored) is not None:
            _fail(ignored, "Filtering artifacts by this is not supported.")
    prefix = "latest__" if collection else ""
    q = _artifact_conditions(body.get("artifacts"), "artifacts", collection=collection)
    q &= _run_conditions(body.get("flow_runs"), "flow_runs", f"{prefix}flow_run_id", not_any=True)
    q &= _run_conditions(body.get("task_runs"), "task_runs", f"{prefix}task_run_id", not_any=False)
    query = Query(q=q)
    if paged:
        sorts = COLLECTION_SORTS if collection else ARTIFACT_SORTS
        sort = body.get("sort") or "ID_DESC"
        if not isinstance(sort, str) or sort not in sorts:
            _fail("sort", f"Must be one of {', '.join(sorts)}.")
        query.order_by = sorts[sort]
        query.limit = _int(body, "limit", DEFAULT_LIMIT, maximum=MAX_LIMIT)
        query.offset = _int(body, "offset", 0, maximum=MAX_OFFSET)
    return query


class ArtifactListFilter(django_filters.FilterSet):
    """`GET /api/artifacts/?key=&type=&flow_run_id=&task_run_id=&ordering=` for people with curl."""

    ordering = django_filters.OrderingFilter(
        fields=(("created", "created"), ("updated", "updated"), ("key", "key"), ("id", "id"))
    )

    class Meta:
        model = Artifact
        fields = ["key", "type", "flow_run_id", "task_run_id"]

"""`latest`, `filter` and `create` as bare Django function views doing the same database work as
our API (the same QuerySets, the same `services.artifact_create`), with none of DRF: no
authentication, permissions, throttles, content negotiation or validation beyond what the
query needs. A yardstick for what our middleware and DRF views cost, not an API."""

import orjson
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from artifacts_app import services
from artifacts_app.models import Artifact, ArtifactCollection

FIELDS = ("id", "created", "updated", "key", "type", "description", "data", "metadata")
SORTS = {"CREATED_DESC": ("-created", "-id"), "ID_DESC": ("-id",)}


def _json(data, status=200):
    return HttpResponse(orjson.dumps(data), content_type="application/json", status=status)


def _wire(row):
    row["metadata_"] = row.pop("metadata")
    return row


def health(request):
    return _json(True)


def latest(request, key):
    row = (
        ArtifactCollection.objects.filter(key=key, latest__isnull=False)
        .values(*("latest__" + name for name in (*FIELDS, "flow_run_id", "task_run_id")))
        .first()
    )
    if row is None:
        return _json({"detail": "Artifact not found."}, 404)
    return _json(_wire({name.removeprefix("latest__"): v for name, v in row.items()}))


@csrf_exempt
def artifact_filter(request):
    body = orjson.loads(request.body)
    types = ((body.get("artifacts") or {}).get("type") or {}).get("any_")
    queryset = Artifact.objects.all()
    if types is not None:
        queryset = queryset.filter(type__in=types)
    offset, limit = body.get("offset") or 0, body.get("limit") or 200
    rows = queryset.order_by(*SORTS[body.get("sort") or "ID_DESC"]).values(
        *FIELDS, "flow_run_id", "task_run_id"
    )[offset : offset + limit]
    return _json([_wire(row) for row in rows])


@csrf_exempt
def create(request):
    body = orjson.loads(request.body)
    body["metadata"] = body.pop("metadata_", None)
    artifact = services.artifact_create(**body)
    return _json(
        _wire({name: getattr(artifact, name) for name in (*FIELDS, "flow_run_id", "task_run_id")}),
        201,
    )

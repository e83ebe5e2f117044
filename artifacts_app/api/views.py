"""Prefect-compatible artifact routes, plus a few of our own. Writes go through `services`."""

from __future__ import annotations

import uuid

import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import TextField
from django.db.models.functions import Cast
from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from artifacts_app import prefect_import, rendering, services
from artifacts_app.models import Artifact, ArtifactCollection
from artifacts_app.security import AnonThrottle, TokenThrottle

from . import filters, serializers
from .auth import ArtifactsPermission, BearerTokenAuthentication
from .parsers import StrictJSONParser
from .renderers import AlwaysJSON, ORJSONRenderer, json_bytes

PREFECT_API_VERSION = "3.9.1"
NOT_FOUND = {"detail": "Artifact not found."}
UNPROCESSABLE = 422


class JSONResponse(HttpResponse):
    """orjson-encoded response (UUIDs and datetimes natively), bypassing DRF's renderers."""

    def __init__(self, data, status=200):
        super().__init__(json_bytes(data), content_type="application/json", status=status)


def _flatten(detail, path="") -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for name, value in detail.items():
            out.update(_flatten(value, f"{path}.{name}" if path else str(name)))
        return out
    if isinstance(detail, list) and detail and not all(isinstance(d, str) for d in detail):
        out = {}
        for i, value in enumerate(detail):
            out.update(_flatten(value, f"{path}[{i}]"))
        return out
    messages = detail if isinstance(detail, list) else [detail]
    return {path or "body": [str(m) for m in messages]}


def validation_response(detail) -> Response:
    if isinstance(detail, dict) and set(detail) == {"detail", "errors"}:
        body = {"detail": str(detail["detail"]), "errors": _flatten(detail["errors"])}
    else:
        errors = _flatten(detail)
        first = next(iter(errors.items()))
        body = {"detail": f"{first[0]}: {first[1][0]}", "errors": errors}
    return Response(body, status=UNPROCESSABLE)


def exception_handler(exc, context):
    """JSON for every error: 422 naming the field for bad input, 413 for oversize bodies."""
    if isinstance(exc, services.ArtifactNotFound):
        return Response(NOT_FOUND, status=404)
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": "Request body too large."}, status=413)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"body": exc.messages}
        return validation_response(
            {key.rstrip("_") if key == "metadata" else key: v for key, v in detail.items()}
        )
    if isinstance(exc, exceptions.ValidationError):
        return validation_response(exc.detail)
    if isinstance(exc, exceptions.ParseError):
        return Response({"detail": f"Invalid JSON body: {exc.detail}"}, status=UNPROCESSABLE)
    return drf_exception_handler(exc, context)


class BaseArtifactView(APIView):
    """Every artifact route declares exactly the classes it uses (DRF builds one of each per
    request): Bearer tokens, or a staff session with CSRF; JSON in, orjson out; two throttles."""

    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [ArtifactsPermission]
    parser_classes = [StrictJSONParser]
    renderer_classes = [ORJSONRenderer]
    content_negotiation_class = AlwaysJSON
    throttle_classes = [AnonThrottle, TokenThrottle]


class ArtifactPagination(LimitOffsetPagination):
    """`?limit=&offset=` of the GET list: limit capped at 200 (as the filter bodies), an
    offset beyond what the database's OFFSET takes refused."""

    max_limit = filters.MAX_LIMIT

    def get_offset(self, request):
        offset = super().get_offset(request)
        if offset > filters.MAX_OFFSET:
            message = f"Must be less than or equal to {filters.MAX_OFFSET}."
            raise exceptions.ValidationError(
                {"detail": f"offset: {message}", "errors": {"offset": [message]}}
            )
        return offset


def _key_or_404(key: str) -> str:
    """A key in a path: one that does not match the key pattern cannot exist (and may hold what
    the database refuses, such as U+0000)."""
    if not rendering.KEY_RE.match(key):
        raise services.ArtifactNotFound(key)
    return key


# Stored JSON columns read as their text and embedded in the answer as it is (orjson.Fragment):
# no decode into Python objects and encode back, per row. For lists: the casts cost the ORM
# ~0.9 M instructions to compile, and a 50-row filter saves more than that (callgrind).
STORED_JSON = {
    "data": "stored_data",
    "metadata": "stored_metadata",
    "latest__data": "stored_latest_data",
    "latest__metadata": "stored_latest_metadata",
}


def values_with_stored_json(queryset, names):
    """`queryset.values(*names)`, with its JSON columns as text (see `passed_through`)."""
    plain = [name for name in names if name not in STORED_JSON]
    stored = {STORED_JSON[n]: Cast(n, TextField()) for n in names if n in STORED_JSON}
    return queryset.values(*plain, **stored)


def passed_through(row: dict) -> dict:
    """A `values_with_stored_json()` row with its JSON text under the usual names, as fragments
    that orjson writes out unchanged."""
    for name, alias in STORED_JSON.items():
        if alias in row:
            text = row.pop(alias)
            row[name] = None if text is None else orjson.Fragment(text)
    return row


def _body(request):
    return request.data if request.data is not None else {}


def _parse_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise services.ArtifactNotFound(value) from None


# ---------------------------------------------------------------------------- artifacts ----


class ArtifactListCreateView(BaseArtifactView, generics.ListAPIView):
    """`POST /api/artifacts/` creates (Prefect); `GET /api/artifacts/` lists with query filters."""

    queryset = Artifact.objects.all()
    serializer_class = serializers.ArtifactSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.ArtifactListFilter
    pagination_class = ArtifactPagination

    def get_queryset(self):
        return Artifact.objects.values(*serializers.ARTIFACT_VALUES)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        ordering = queryset.query.order_by or ("-created",)
        return queryset.order_by(*ordering, "-id")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([serializers.artifact_json(row) for row in page])

    @extend_schema(
        request=serializers.ArtifactCreateSerializer,
        responses={201: serializers.ArtifactSerializer, 422: serializers.ErrorSerializer},
    )
    def post(self, request):
        incoming = serializers.ArtifactCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        fields = dict(incoming.validated_data)
        if "metadata_" in fields:
            fields["metadata"] = fields.pop("metadata_")
        artifact = services.artifact_create(**fields)
        if settings.ARTIFACTS_PREFECT_API_URL and (artifact.flow_run_id or artifact.task_run_id):
            prefect_import.lookup_run_names(
                flow_run_id=artifact.flow_run_id, task_run_id=artifact.task_run_id
            )
        return JSONResponse(serializers.artifact_instance_json(artifact), status=201)


class ArtifactDetailView(BaseArtifactView):
    """`GET`, `PATCH` (204) and `DELETE` (204) one artifact by id."""

    serializer_class = serializers.ArtifactSerializer

    @extend_schema(
        responses={200: serializers.ArtifactSerializer, 404: serializers.ErrorSerializer}
    )
    def get(self, request, artifact_id):
        row = (
            Artifact.objects.filter(pk=_parse_uuid(artifact_id))
            .values(*serializers.ARTIFACT_VALUES)
            .first()
        )
        if row is None:
            raise services.ArtifactNotFound(artifact_id)
        return JSONResponse(serializers.artifact_json(row))

    @extend_schema(
        request=serializers.ArtifactUpdateSerializer,
        responses={204: None, 404: serializers.ErrorSerializer, 422: serializers.ErrorSerializer},
    )
    def patch(self, request, artifact_id):
        pk = _parse_uuid(artifact_id)
        incoming = serializers.ArtifactUpdateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        fields = dict(incoming.validated_data)
        if "metadata_" in fields:
            fields["metadata"] = fields.pop("metadata_")
        services.artifact_update(artifact_id=pk, **fields)
        return HttpResponse(status=204)

    @extend_schema(responses={204: None, 404: serializers.ErrorSerializer})
    def delete(self, request, artifact_id):
        services.artifact_delete(artifact_id=_parse_uuid(artifact_id))
        return HttpResponse(status=204)


class ArtifactProgressView(BaseArtifactView):
    """`POST /api/artifacts/{id}/progress` with `{"increment": n}` or `{"value": v}`: atomic,
    clamped to 0..100."""

    serializer_class = serializers.ProgressSerializer

    @extend_schema(
        request=serializers.ProgressSerializer,
        responses={
            200: serializers.ArtifactSerializer,
            404: serializers.ErrorSerializer,
            422: serializers.ErrorSerializer,
        },
    )
    def post(self, request, artifact_id):
        pk = _parse_uuid(artifact_id)
        incoming = serializers.ProgressSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        artifact = services.progress_set(artifact_id=pk, **incoming.validated_data)
        return JSONResponse(serializers.artifact_instance_json(artifact))


class LatestByKeyView(BaseArtifactView):
    """`GET /api/artifacts/{key}/latest`: the latest version itself, with its own id."""

    serializer_class = serializers.ArtifactSerializer

    @extend_schema(
        responses={200: serializers.ArtifactSerializer, 404: serializers.ErrorSerializer}
    )
    def get(self, request, key):
        artifact = Artifact.objects.latest_of_key(_key_or_404(key))
        if artifact is None:
            raise services.ArtifactNotFound(key)
        # A client that has this version as it is now gets a 304 (Django parses If-None-Match).
        etag = f'"{artifact.id}-{artifact.updated.timestamp():.6f}"'
        not_modified = get_conditional_response(request, etag=etag)
        if not_modified is None:
            response = JSONResponse(serializers.artifact_instance_json(artifact))
        else:
            response = not_modified
        response["ETag"] = etag
        return response


class DeleteKeyView(BaseArtifactView):
    """`DELETE /api/artifacts/key/{key}`: every version of a key (beyond Prefect)."""

    serializer_class = serializers.DeletedSerializer

    @extend_schema(responses={200: serializers.DeletedSerializer, 404: serializers.ErrorSerializer})
    def delete(self, request, key):
        return JSONResponse({"deleted": services.artifact_delete_key(key=_key_or_404(key))})


class _QueryView(BaseArtifactView):
    """A read made with a POSTed filter body: over artifacts or over collections (latest)."""

    read_only_post = True
    collection = False
    paged = True

    def queryset(self):
        if self.collection:
            return ArtifactCollection.objects.filter(latest__isnull=False)
        return Artifact.objects.all()

    def query(self, request):
        query = filters.parse_body(_body(request), collection=self.collection, paged=self.paged)
        return query, self.queryset().filter(query.q)


class _ListView(_QueryView):
    def post(self, request):
        query, queryset = self.query(request)
        values, to_json = (
            (serializers.COLLECTION_VALUES, serializers.collection_json)
            if self.collection
            else (serializers.ARTIFACT_VALUES, serializers.artifact_json)
        )
        rows = values_with_stored_json(queryset.order_by(*query.order_by), values)
        return JSONResponse(
            [
                to_json(passed_through(row))
                for row in rows[query.offset : query.offset + query.limit]
            ]
        )


class _CountView(_QueryView):
    paged = False

    def post(self, request):
        return JSONResponse(self.query(request)[1].count())


class ArtifactFilterView(_ListView):
    """`POST /api/artifacts/filter`: a bare JSON list, as Prefect answers."""

    serializer_class = serializers.ArtifactSerializer

    @extend_schema(
        request=serializers.FilterBodySerializer,
        responses={
            200: serializers.ArtifactSerializer(many=True),
            422: serializers.ErrorSerializer,
        },
    )
    def post(self, request):
        return super().post(request)


class LatestFilterView(_ListView):
    """`POST /api/artifacts/latest/filter`: the latest version of each key (collections)."""

    collection = True
    serializer_class = serializers.ArtifactCollectionSerializer

    @extend_schema(
        request=serializers.LatestFilterBodySerializer,
        responses={
            200: serializers.ArtifactCollectionSerializer(many=True),
            422: serializers.ErrorSerializer,
        },
    )
    def post(self, request):
        return super().post(request)


class ArtifactCountView(_CountView):
    """`POST /api/artifacts/count`: how many artifacts match, as a bare integer."""

    serializer_class = serializers.CountBodySerializer

    @extend_schema(
        request=serializers.CountBodySerializer,
        responses={200: OpenApiTypes.INT, 422: serializers.ErrorSerializer},
    )
    def post(self, request):
        return super().post(request)


class LatestCountView(_CountView):
    """`POST /api/artifacts/latest/count`: how many keys match, as a bare integer."""

    collection = True
    serializer_class = serializers.LatestCountBodySerializer

    @extend_schema(
        request=serializers.LatestCountBodySerializer,
        responses={200: OpenApiTypes.INT, 422: serializers.ErrorSerializer},
    )
    def post(self, request):
        return super().post(request)


# ------------------------------------------------------------- what Prefect's client calls --


class HealthView(APIView):
    """Liveness probe: no credentials, and never throttled (load balancers poll it)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    renderer_classes = [ORJSONRenderer]
    content_negotiation_class = AlwaysJSON
    throttle_classes: list = []

    @extend_schema(responses={200: OpenApiTypes.BOOL})
    def get(self, request):
        return JSONResponse(True)


class VersionView(APIView):
    """Prefect's client checks the server's major version (3) before writing."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    renderer_classes = [ORJSONRenderer]
    content_negotiation_class = AlwaysJSON

    @extend_schema(responses={200: OpenApiTypes.STR})
    def get(self, request):
        return JSONResponse(PREFECT_API_VERSION)


class CsrfTokenView(APIView):
    """Prefect's client asks for a CSRF token before its first write; as Prefect's server with
    CSRF protection off, we answer 422 and it proceeds without one (tokens are Bearer)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    renderer_classes = [ORJSONRenderer]
    content_negotiation_class = AlwaysJSON

    @extend_schema(responses={422: serializers.ErrorSerializer})
    def get(self, request):
        return JSONResponse(
            {"detail": "CSRF protection is disabled."}, status=status.HTTP_422_UNPROCESSABLE_ENTITY
        )

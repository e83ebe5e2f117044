"""`POST /api/ext/runs`: our extension route (Prefect's client never calls it) through which our
Python client tells the server the names of the runs it posts from. Writes through
`services.run_upsert`, like every other source of run names."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from artifacts_app import services
from artifacts_app.models import FLOW_RUN, TASK_RUN

from .serializers import ErrorSerializer, StrictFieldsMixin
from .views import BaseArtifactView, JSONResponse

MAX_RUNS = 100


class RunSerializer(StrictFieldsMixin, serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=[FLOW_RUN, TASK_RUN])
    name = serializers.CharField(max_length=500, required=False, allow_null=True)
    flow_name = serializers.CharField(max_length=500, required=False, allow_null=True)
    flow_run_id = serializers.UUIDField(required=False, allow_null=True)
    start_time = serializers.DateTimeField(required=False, allow_null=True)
    state = serializers.CharField(max_length=100, required=False, allow_null=True)


class RunsBodySerializer(StrictFieldsMixin, serializers.Serializer):
    runs = RunSerializer(many=True, allow_empty=False, max_length=MAX_RUNS)


class RunsWrittenSerializer(serializers.Serializer):
    written = serializers.IntegerField()


class RunNamesView(BaseArtifactView):
    """Record flow and task runs with their names (at most 100 per call); a field left out or
    null keeps what the server knew. Answers how many runs were new or changed."""

    serializer_class = RunsBodySerializer

    @extend_schema(
        request=RunsBodySerializer,
        responses={200: RunsWrittenSerializer, 401: ErrorSerializer, 422: ErrorSerializer},
    )
    def post(self, request):
        incoming = RunsBodySerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        written = services.run_upsert(runs=incoming.validated_data["runs"])
        return JSONResponse({"written": written})

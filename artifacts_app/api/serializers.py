"""Request validation and the documented wire shapes (Prefect's field names).

Responses on hot paths are built by `artifact_json` / `collection_json` straight from `.values()`
rows (no serializer instance per row); the serializers below validate input and describe the
shapes for the OpenAPI schema."""

from __future__ import annotations

import copy

from rest_framework import serializers

from artifacts_app import rendering

ARTIFACT_VALUES = (
    "id",
    "created",
    "updated",
    "key",
    "type",
    "description",
    "data",
    "metadata",
    "flow_run_id",
    "task_run_id",
)
LATEST_VALUES = ("latest__" + name for name in ARTIFACT_VALUES[3:])
COLLECTION_VALUES = ("id", "created", "updated", "key", "latest_id", "type") + tuple(
    "latest__" + name for name in ("description", "data", "metadata", "flow_run_id", "task_run_id")
)


def artifact_json(row: dict) -> dict:
    """A `.values(*ARTIFACT_VALUES)` row (or a model's fields) in Prefect's wire shape."""
    row["metadata_"] = row.pop("metadata")
    return row


def artifact_instance_json(artifact) -> dict:
    return artifact_json({name: getattr(artifact, name) for name in ARTIFACT_VALUES})


def collection_json(row: dict) -> dict:
    return {
        "id": row["id"],
        "created": row["created"],
        "updated": row["updated"],
        "key": row["key"],
        "latest_id": row["latest_id"],
        "type": row["type"],
        "description": row["latest__description"],
        "data": row["latest__data"],
        "metadata_": row["latest__metadata"],
        "flow_run_id": row["latest__flow_run_id"],
        "task_run_id": row["latest__task_run_id"],
    }


class StrictFieldsMixin:
    """Reject unknown fields with a 4xx naming them, as Prefect's server does.

    Each instance gets shallow copies of its plain declared fields where DRF deep-copies them
    (its `Field.__deepcopy__` re-runs every field's `__init__`): 0.4 M instructions of a create's
    8.8 M. A plain field holds no state beyond what `bind()` sets on the copy; a field with a
    child (a nested serializer, a list) is deep-copied as DRF does, so no child is shared between
    requests."""

    def get_fields(self):
        return {
            name: copy.deepcopy(field) if hasattr(field, "child") else copy.copy(field)
            for name, field in self._declared_fields.items()
        }

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Extra inputs are not permitted."] for name in unknown}
                )
        return super().to_internal_value(data)


class AnyJSONField(serializers.JSONField):
    """`data`: any JSON value, kept exactly as received."""


class MetadataField(serializers.JSONField):
    def to_internal_value(self, data):
        try:
            return rendering.clean_metadata(data)
        except Exception as exc:  # django ValidationError -> DRF's
            messages = getattr(exc, "message_dict", {}).get("metadata_") or [str(exc)]
            raise serializers.ValidationError(messages) from None

    class Meta:
        swagger_schema_fields = {"type": "object"}


class ArtifactSerializer(serializers.Serializer):
    """An artifact as the API answers it."""

    id = serializers.UUIDField(read_only=True)
    created = serializers.DateTimeField(read_only=True)
    updated = serializers.DateTimeField(read_only=True)
    key = serializers.CharField(allow_null=True, read_only=True)
    type = serializers.CharField(allow_null=True, read_only=True)
    description = serializers.CharField(allow_null=True, read_only=True)
    data = AnyJSONField(allow_null=True, read_only=True)
    metadata_ = serializers.DictField(
        child=serializers.CharField(), allow_null=True, read_only=True
    )
    flow_run_id = serializers.UUIDField(allow_null=True, read_only=True)
    task_run_id = serializers.UUIDField(allow_null=True, read_only=True)


class ArtifactCollectionSerializer(ArtifactSerializer):
    """The latest version of a key: the collection's id/created/updated plus the latest's fields."""

    latest_id = serializers.UUIDField(read_only=True)


class ArtifactCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    key = serializers.CharField(
        allow_null=True, required=False, max_length=2000, trim_whitespace=False, allow_blank=True
    )
    type = serializers.CharField(
        allow_null=True, required=False, max_length=200, trim_whitespace=False, allow_blank=True
    )
    description = serializers.CharField(
        allow_null=True, required=False, allow_blank=True, trim_whitespace=False
    )
    data = AnyJSONField(allow_null=True, required=False)
    metadata_ = MetadataField(allow_null=True, required=False)
    flow_run_id = serializers.UUIDField(allow_null=True, required=False)
    task_run_id = serializers.UUIDField(allow_null=True, required=False)

    def validate_key(self, value):
        if value is not None and not rendering.KEY_RE.match(value):
            raise serializers.ValidationError(rendering.KEY_MESSAGE)
        return value


class ArtifactUpdateSerializer(StrictFieldsMixin, serializers.Serializer):
    data = AnyJSONField(allow_null=True, required=False)
    description = serializers.CharField(
        allow_null=True, required=False, allow_blank=True, trim_whitespace=False
    )
    metadata_ = MetadataField(allow_null=True, required=False)


class ProgressSerializer(StrictFieldsMixin, serializers.Serializer):
    increment = serializers.FloatField(required=False, min_value=-1e9, max_value=1e9)
    value = serializers.FloatField(required=False, min_value=-1e9, max_value=1e9)

    def validate(self, attrs):
        if ("increment" in attrs) == ("value" in attrs):
            raise serializers.ValidationError(
                {"increment": ["Give exactly one of increment or value."]}
            )
        return attrs


# ---- filter bodies (documentation; parsing and validation live in filters.py) ----------------


class AnyFilterSerializer(serializers.Serializer):
    any_ = serializers.ListField(child=serializers.CharField(), allow_null=True, required=False)


class KeyFilterSerializer(AnyFilterSerializer):
    like_ = serializers.CharField(allow_null=True, required=False)
    exists_ = serializers.BooleanField(allow_null=True, required=False)


class TypeFilterSerializer(AnyFilterSerializer):
    not_any_ = serializers.ListField(child=serializers.CharField(), allow_null=True, required=False)


class ArtifactFilterSerializer(serializers.Serializer):
    operator = serializers.ChoiceField(choices=["and_", "or_"], required=False)
    id = AnyFilterSerializer(required=False, allow_null=True)
    key = KeyFilterSerializer(required=False, allow_null=True)
    type = TypeFilterSerializer(required=False, allow_null=True)
    flow_run_id = AnyFilterSerializer(required=False, allow_null=True)
    task_run_id = AnyFilterSerializer(required=False, allow_null=True)


class CollectionFilterSerializer(ArtifactFilterSerializer):
    id = None
    latest_id = AnyFilterSerializer(required=False, allow_null=True)


class RunFilterSerializer(serializers.Serializer):
    operator = serializers.ChoiceField(choices=["and_", "or_"], required=False)
    id = TypeFilterSerializer(required=False, allow_null=True)


class TaskRunFilterSerializer(RunFilterSerializer):
    id = AnyFilterSerializer(required=False, allow_null=True)


SORTS = ["CREATED_DESC", "UPDATED_DESC", "ID_DESC", "KEY_DESC", "KEY_ASC"]


class CountBodySerializer(serializers.Serializer):
    artifacts = ArtifactFilterSerializer(required=False, allow_null=True)
    flow_runs = RunFilterSerializer(required=False, allow_null=True)
    task_runs = TaskRunFilterSerializer(required=False, allow_null=True)


class FilterBodySerializer(CountBodySerializer):
    sort = serializers.ChoiceField(choices=SORTS, required=False, allow_null=True)
    limit = serializers.IntegerField(min_value=0, max_value=200, required=False, allow_null=True)
    offset = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class LatestCountBodySerializer(CountBodySerializer):
    artifacts = CollectionFilterSerializer(required=False, allow_null=True)


class LatestFilterBodySerializer(FilterBodySerializer):
    artifacts = CollectionFilterSerializer(required=False, allow_null=True)


class DeletedSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(required=False)

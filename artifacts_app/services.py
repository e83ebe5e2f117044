"""Every write: create, update, delete, progress, collection upkeep. Each call is one transaction.

Concurrency: writers of one key serialise on that key's collection row (SELECT ... FOR UPDATE on
PostgreSQL; SQLite's IMMEDIATE transactions serialise all writers). The new version's `created`
is taken after the lock, so the newest version is always the one the collection points at.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import rendering
from .models import PROGRESS, ApiToken, Artifact, ArtifactCollection, hash_token

UNSET: Any = object()
_EPSILON = dt.timedelta(microseconds=1)


class ArtifactNotFound(Exception):
    pass


def _lock_collection(key: str) -> ArtifactCollection:
    """The key's collection row, locked for this transaction; created (empty) if missing."""
    collection = ArtifactCollection.objects.select_for_update().filter(key=key).first()
    if collection is None:
        ArtifactCollection.objects.bulk_create([ArtifactCollection(key=key)], ignore_conflicts=True)
        collection = ArtifactCollection.objects.select_for_update().get(key=key)
    return collection


def _point_at(collection: ArtifactCollection, artifact: Artifact) -> None:
    collection.latest = artifact
    collection.type = artifact.type
    collection.updated = artifact.created
    collection.save(update_fields=["latest", "type", "updated"])


def artifact_create(
    *,
    key: str | None = None,
    type: str | None = None,
    data: Any = None,
    description: str | None = None,
    metadata: dict | None = None,
    flow_run_id: uuid.UUID | None = None,
    task_run_id: uuid.UUID | None = None,
) -> Artifact:
    rendering.validate_key(key)
    rendering.validate_data(type, data)
    metadata = rendering.clean_metadata(metadata)
    with transaction.atomic():
        now = timezone.now()
        collection = None
        if key:
            collection = _lock_collection(key)
            if collection.latest_id and collection.updated >= now:
                now = collection.updated + _EPSILON  # strictly newer than the current latest
        artifact = Artifact(
            key=key,
            type=type,
            data=data,
            description=description,
            metadata=metadata,
            flow_run_id=flow_run_id,
            task_run_id=task_run_id,
            created=now,
            updated=now,
        )
        artifact.save(force_insert=True)
        if collection is not None:
            _point_at(collection, artifact)
    return artifact


def artifact_update(
    *, artifact_id, data: Any = UNSET, description: Any = UNSET, metadata: Any = UNSET
) -> None:
    """Update in place only the fields given; `updated` always moves (even with no fields)."""
    fields: dict[str, Any] = {"updated": timezone.now()}
    if description is not UNSET:
        fields["description"] = description
    if metadata is not UNSET:
        fields["metadata"] = rendering.clean_metadata(metadata)
    with transaction.atomic():
        if data is not UNSET:
            type_ = Artifact.objects.filter(pk=artifact_id).values_list("type", flat=True).first()
            if type_ is None and not Artifact.objects.filter(pk=artifact_id).exists():
                raise ArtifactNotFound(artifact_id)
            rendering.validate_data(type_, data)
            fields["data"] = data
        if not Artifact.objects.filter(pk=artifact_id).update(**fields):
            raise ArtifactNotFound(artifact_id)


def progress_set(
    *, artifact_id, increment: float | None = None, value: float | None = None
) -> Artifact:
    """Atomically add `increment` to (or set `value` on) a progress artifact, clamped to 0..100."""
    if (increment is None) == (value is None):
        raise ValidationError({"increment": "Give exactly one of increment or value."})
    with transaction.atomic():
        artifact = Artifact.objects.select_for_update().filter(pk=artifact_id).first()
        if artifact is None:
            raise ArtifactNotFound(artifact_id)
        if artifact.type != PROGRESS:
            raise ValidationError({"type": "Only progress artifacts can be incremented."})
        current = artifact.progress_value or 0.0
        new = current + increment if increment is not None else value
        artifact.data = max(0.0, min(100.0, float(new)))
        artifact.updated = timezone.now()
        artifact.save(update_fields=["data", "updated"])
    return artifact


def artifact_delete(*, artifact_id) -> None:
    """Delete one version; if it was the latest, the next-newest becomes latest; deleting the
    last version of a key removes the key's collection row."""
    with transaction.atomic():
        key = Artifact.objects.filter(pk=artifact_id).values_list("key", flat=True).first()
        collection = _lock_collection(key) if key else None
        artifact = Artifact.objects.select_for_update().filter(pk=artifact_id).first()
        if artifact is None:
            raise ArtifactNotFound(artifact_id)
        if collection is not None and collection.latest_id == artifact.pk:
            following = Artifact.objects.for_key(key).exclude(pk=artifact.pk).first()
            if following is None:
                collection.delete()
            else:
                _point_at(collection, following)
        artifact.delete()


def artifact_delete_key(*, key: str) -> int:
    """Delete every version of a key and its collection row. Returns the number of versions."""
    with transaction.atomic():
        ArtifactCollection.objects.select_for_update().filter(key=key).first()  # wait for writers
        ArtifactCollection.objects.filter(key=key).delete()
        deleted, _ = Artifact.objects.filter(key=key).delete()
    if not deleted:
        raise ArtifactNotFound(key)
    return deleted


def token_create(*, user, name: str = "") -> tuple[ApiToken, str]:
    """A new API token for `user`. Returns the row and the raw token (never stored)."""
    raw = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name, digest=hash_token(raw), hint=raw[:12])
    return token, raw

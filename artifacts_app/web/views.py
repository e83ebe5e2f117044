from django.shortcuts import render
from django.views.decorators.http import require_GET

from artifacts_app.models import ArtifactCollection


@require_GET
def artifact_list(request):
    collections = ArtifactCollection.objects.with_latest().order_by("-updated", "-id")[:50]
    return render(request, "artifacts/artifact_list.html", {"collections": collections})

"""Prefect's paths, each with and without a trailing slash, and never a redirect."""

from csp.decorators import csp_update
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import runs, views

UUID = r"(?P<artifact_id>[^/]+)"
KEY = r"(?P<key>[^/]+)"

urlpatterns = [
    re_path(r"^health/?$", views.HealthView.as_view(), name="health"),
    re_path(r"^admin/version/?$", views.VersionView.as_view(), name="version"),
    re_path(r"^csrf-token/?$", views.CsrfTokenView.as_view(), name="csrf-token"),
    re_path(r"^artifacts/?$", views.ArtifactListCreateView.as_view(), name="artifact-list"),
    re_path(r"^artifacts/filter/?$", views.ArtifactFilterView.as_view(), name="artifact-filter"),
    re_path(r"^artifacts/count/?$", views.ArtifactCountView.as_view(), name="artifact-count"),
    re_path(
        r"^artifacts/latest/filter/?$",
        views.LatestFilterView.as_view(),
        name="artifact-latest-filter",
    ),
    re_path(
        r"^artifacts/latest/count/?$", views.LatestCountView.as_view(), name="artifact-latest-count"
    ),
    re_path(
        rf"^artifacts/{KEY}/latest/?$", views.LatestByKeyView.as_view(), name="artifact-latest"
    ),
    re_path(rf"^artifacts/key/{KEY}/?$", views.DeleteKeyView.as_view(), name="artifact-delete-key"),
    re_path(
        rf"^artifacts/{UUID}/progress/?$",
        views.ArtifactProgressView.as_view(),
        name="artifact-progress",
    ),
    re_path(rf"^artifacts/{UUID}/?$", views.ArtifactDetailView.as_view(), name="artifact-detail"),
    # Ours, beyond Prefect's API (its client never calls these).
    re_path(r"^ext/runs/?$", runs.RunNamesView.as_view(), name="ext-runs"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI initialises itself with an inline script and styles: allowed on this page only
    # (it shows no user data).
    path(
        "docs/",
        csp_update({"script-src": ["'unsafe-inline'"], "style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerView.as_view(url_name="schema")
        ),
        name="docs",
    ),
]

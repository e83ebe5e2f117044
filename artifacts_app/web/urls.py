from django.urls import path, register_converter
from django.views.generic import RedirectView

from . import embeds, runs, versions, views


class KeyConverter:
    """An artifact key as it can exist (^[a-z0-9-]+$): any other path is a 404 before a view
    runs (and never sends the database what it refuses, such as U+0000)."""

    regex = "[a-z0-9-]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(KeyConverter, "key")

app_name = "artifacts"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="artifacts:list", permanent=False)),
    path("artifacts/", views.artifact_list, name="list"),
    path("artifacts/search/", views.search_help, name="search_help"),
    path("artifacts/key/<key:key>/", views.key_detail, name="key"),
    path("artifacts/key/<key:key>/delete/", views.key_delete, name="key_delete"),
    path("artifacts/key/<key:key>/new/", views.new_version_partial, name="new_version"),
    path("artifacts/artifact/<str:pk>/", views.artifact_detail, name="detail"),
    path("artifacts/artifact/<str:pk>/delete/", views.artifact_delete, name="delete"),
    path("artifacts/artifact/<str:pk>/progress/", views.progress_partial, name="progress"),
    path("artifacts/artifact/<str:pk>/table/", views.table_partial, name="table"),
    path("artifacts/artifact/<str:pk>/download.<str:fmt>", views.download, name="download"),
    path("runs/", runs.run_list, name="runs"),
    path("runs/flow-run/<str:flow_run_id>/", runs.run_detail, name="run"),
    path("runs/task-run/<str:task_run_id>/", runs.task_run_detail, name="task_run"),
    path("artifacts/key/<key:key>/diff/", versions.key_diff, name="diff"),
    path("artifacts/key/<key:key>/trend/", versions.key_trend, name="trend"),
    path("artifacts/key/<key:key>/embed/", embeds.key_embed, name="embed"),
    path("artifacts/artifact/<str:pk>/html/", embeds.html_document, name="html"),
]

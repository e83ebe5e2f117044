from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "artifacts"

urlpatterns = [
    path("", RedirectView.as_view(url="/artifacts/", permanent=False)),
    path("artifacts/", views.artifact_list, name="list"),
]

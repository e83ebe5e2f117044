from django.urls import re_path

from . import views

urlpatterns = [
    re_path(r"^api/health/?$", views.health),
    re_path(r"^api/artifacts/?$", views.create),
    re_path(r"^api/artifacts/filter/?$", views.artifact_filter),
    re_path(r"^api/artifacts/(?P<key>[^/]+)/latest/?$", views.latest),
]

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("artifacts_app.api.urls")),
    path("", include("artifacts_app.web.urls")),
]

handler404 = "artifacts_app.web.errors.not_found"  # 400, 403, 500: Django's, with our templates

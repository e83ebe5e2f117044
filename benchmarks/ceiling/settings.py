"""The bare-Django ceiling (benchmark only, never deployed): our settings and database, but only
SecurityMiddleware and three plain function views (benchmarks/ceiling/views.py) in place of
DRF. Served by the same server command as ours (`DJANGO_SETTINGS_MODULE=benchmarks.ceiling.settings`),
so the difference between the two is what our middleware and DRF views cost per request."""

from artifacts_app.settings import *  # noqa: F403

MIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]
ROOT_URLCONF = "benchmarks.ceiling.urls"

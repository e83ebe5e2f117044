"""Settings: one file, read from the environment. A fresh checkout runs on SQLite with no env."""

import json
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    """Strict boolean: unset/"" -> default; 0/1/true/false (any case); anything else raises."""
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be one of 0, 1, true, false; got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer; got {raw!r}") from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG")
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "django-insecure-dev-only")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "artifacts_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "artifacts_app.middleware.BodySizeLimitMiddleware",
    "artifacts_app.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "artifacts_app.middleware.NulQueryMiddleware",  # inside CommonMiddleware: Content-Length
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "artifacts_app.web.fragments.FragmentCacheMiddleware",  # Vary: HX-Request (Back/Forward)
    "artifacts_app.security.LoginThrottleMiddleware",
    "artifacts_app.security.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "artifacts_app.urls"
WSGI_APPLICATION = "artifacts_app.wsgi.application"
ASGI_APPLICATION = "artifacts_app.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
# Separate test databases for runs that share a machine (ARTIFACTS_TEST_DB_SUFFIX=-api, ...).
_TEST_DB_SUFFIX = os.environ.get("ARTIFACTS_TEST_DB_SUFFIX", "")
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Concurrent writers (progress bars patched from many tasks) wait for the lock instead of
    # failing: IMMEDIATE takes the write lock at BEGIN, busy_timeout waits up to 20 s for it.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests use a file (not :memory:) so threads and live servers share one database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db{_TEST_DB_SUFFIX}.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_artifacts{_TEST_DB_SUFFIX.replace('-', '_')}"}
    # No single statement runs longer than this (seconds, 0 = no limit), waits for a lock
    # included: a stuck query ends with an error (503 to the client) instead of holding a
    # server thread and a connection. Maintenance commands can raise it for their own run.
    _statement_timeout_ms = int(float(os.environ.get("DJANGO_DB_STATEMENT_TIMEOUT") or 30) * 1000)
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c statement_timeout={_statement_timeout_ms}"
    )

# Throttle counters and the admin login lockout live in Django's cache. With REDIS_URL (e.g.
# redis://127.0.0.1:6379/0) that is Django's built-in Redis cache, shared by every worker and
# machine; without it, the local-memory cache: limits are then counted per server process.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "artifacts_app.cache.SharedRedisCache",
            "LOCATION": REDIS_URL,
            # Several deployments (or test runs) can share one Redis database.
            "KEY_PREFIX": os.environ.get("DJANGO_CACHE_KEY_PREFIX", "artifacts"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("DJANGO_STATIC_MANIFEST")  # production: after `collectstatic`
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = env_bool("DJANGO_WHITENOISE_USE_FINDERS", True)
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "admin:login"

# --- Security (production values when DEBUG is off; see README "Deploy") ----------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
if env_bool("DJANGO_BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy: no inline script, no eval, no framing. Images may come from any
# http(s) URL (image artifacts and markdown images); everything else only from this site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "https:", "http:", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "frame-src": ["'self'"],
    }
}

# --- Artifacts ----------------------------------------------------------------------------
# Reads (API and pages) open to anyone unless false; writes always need a token or staff login.
ARTIFACTS_PUBLIC_READ = env_bool("ARTIFACTS_PUBLIC_READ", True)
# Largest accepted request body, in bytes (answered with 413 above it).
ARTIFACTS_MAX_BODY_BYTES = env_int("ARTIFACTS_MAX_BODY_BYTES", 5 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = ARTIFACTS_MAX_BODY_BYTES
# API throttles ("N/second|minute|hour|day", or "off"): per client address without credentials,
# per token or user with them. 429 with Retry-After above the rate.
ARTIFACTS_THROTTLE_ANON = os.environ.get("ARTIFACTS_THROTTLE_ANON", "1200/minute")
ARTIFACTS_THROTTLE_USER = os.environ.get("ARTIFACTS_THROTTLE_USER", "300000/minute")
# Admin login lockout after this many failures for one username (5x that per address).
ARTIFACTS_LOGIN_MAX_FAILURES = env_int("ARTIFACTS_LOGIN_MAX_FAILURES", 5)
ARTIFACTS_LOGIN_LOCKOUT_SECONDS = env_int("ARTIFACTS_LOGIN_LOCKOUT_SECONDS", 900)
# Retention (`manage.py prune_artifacts`): keep the newest N versions of every key and/or drop
# versions older than a TTL in days; 0 = no limit. Pinned versions are never pruned. Overrides:
# JSON {"key-or-glob": {"keep_last": n, "ttl_days": d}}; an exact key wins over a glob.
ARTIFACTS_RETENTION_KEEP_LAST = env_int("ARTIFACTS_RETENTION_KEEP_LAST", 0)
ARTIFACTS_RETENTION_TTL_DAYS = float(os.environ.get("ARTIFACTS_RETENTION_TTL_DAYS") or 0)
ARTIFACTS_RETENTION_OVERRIDES = json.loads(os.environ.get("ARTIFACTS_RETENTION_OVERRIDES") or "{}")
if not isinstance(ARTIFACTS_RETENTION_OVERRIDES, dict) or not all(
    isinstance(rule, dict) and set(rule) <= {"keep_last", "ttl_days"}
    for rule in ARTIFACTS_RETENTION_OVERRIDES.values()
):
    raise ValueError(
        'ARTIFACTS_RETENTION_OVERRIDES must be {"key-or-glob": {"keep_last": n, "ttl_days": d}}'
    )
# Who may frame /artifacts/key/<key>/embed/ (CSP frame-ancestors), e.g. "'self' https://wiki.example.com".
ARTIFACTS_EMBED_FRAME_ANCESTORS = os.environ.get("ARTIFACTS_EMBED_FRAME_ANCESTORS", "'self'")
# Prefect alongside: the base URL of its UI (runs link to `{ui}/runs/flow-run/{id}`), and of its
# API, where names of runs we have not seen are looked up (e.g. http://127.0.0.1:4200/api).
ARTIFACTS_PREFECT_UI_URL = os.environ.get("ARTIFACTS_PREFECT_UI_URL", "").rstrip("/")
ARTIFACTS_PREFECT_API_URL = os.environ.get("ARTIFACTS_PREFECT_API_URL", "").rstrip("/")
ARTIFACTS_PREFECT_API_KEY = os.environ.get("ARTIFACTS_PREFECT_API_KEY", "")
# Or, for a self-hosted server with PREFECT_SERVER_API_AUTH_STRING, that "user:password".
ARTIFACTS_PREFECT_API_AUTH_STRING = os.environ.get("ARTIFACTS_PREFECT_API_AUTH_STRING", "")
# Seconds a name lookup may wait on that API (a failed lookup is retried after 10 minutes).
ARTIFACTS_PREFECT_LOOKUP_TIMEOUT = float(os.environ.get("ARTIFACTS_PREFECT_LOOKUP_TIMEOUT") or 2)
# The run index's INCLUDE columns serve PostgreSQL's index-only scans; SQLite ignores them,
# which is all this warning says.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
    # 4xx answers are the client's business (and Prefect's client probes /csrf-token on purpose).
    "loggers": {"django.request": {"level": "ERROR"}},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "artifacts_app.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["artifacts_app.api.auth.ArtifactsPermission"],
    "DEFAULT_PARSER_CLASSES": ["artifacts_app.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "artifacts_app.api.views.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "STRICT_JSON": True,
    "DEFAULT_THROTTLE_CLASSES": [
        "artifacts_app.security.AnonThrottle",
        "artifacts_app.security.TokenThrottle",
    ],  # NaN and Infinity are not JSON: refuse them at parse time
}
SPECTACULAR_SETTINGS = {
    "TITLE": "artifacts-dashboard API",
    "DESCRIPTION": "Prefect-compatible artifact API: create, read, filter, update and delete artifacts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our static files, no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

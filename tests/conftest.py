import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from artifacts_app import services
from tests.processes import stop_process

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.browser_fixtures", "tests.prefect_server"]  # shared fixtures

_skipped_browser_tests: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and "browser" in report.keywords:
        _skipped_browser_tests.append(report.nodeid)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    # In CI (REQUIRE_BROWSER=1) a skipped browser test is a failure, not a silent pass.
    if os.environ.get("REQUIRE_BROWSER") and _skipped_browser_tests:
        print(
            f"\nREQUIRE_BROWSER is set but {len(_skipped_browser_tests)} browser tests were skipped"
        )
        session.exitstatus = 1


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="writer", password="pw-writer-123")


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        username="staff", password="pw-staff-123", is_staff=True, is_superuser=True
    )


@pytest.fixture
def token(user):
    _, raw = services.token_create(user=user, name="tests")
    return raw


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def api_client(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def on_postgres(settings):
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def database_url() -> str:
    """A DATABASE_URL for the test database this run uses (for server subprocesses)."""
    from django.db import connection

    conf = connection.settings_dict
    if conf["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{conf['NAME']}"
    user = conf.get("USER") or "postgres"
    auth = f"{user}:{conf['PASSWORD']}" if conf.get("PASSWORD") else user
    return f"postgres://{auth}@{conf.get('HOST') or '127.0.0.1'}:{conf.get('PORT') or 5432}/{conf['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def start_uvicorn(db_url: str, extra_env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """Our ASGI app in a real uvicorn process on a free 127.0.0.1 port; (process, base URL)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "DJANGO_SECURE_COOKIES": "0", **(extra_env or {})}
    command = [sys.executable, "-m", "uvicorn", "artifacts_app.asgi:application"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/api/health", seconds=120)  # a busy 2-core machine starts slowly
    except RuntimeError:
        process.kill()
        raise
    return process, base


DEPLOY_COMMAND = [  # the README's deploy command, without its bind address
    "gunicorn", "artifacts_app.asgi:application", "-k", "uvicorn_worker.UvicornWorker", "-w", "2",
]  # fmt: skip


def start_deployed(db_url: str, extra_env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """The README's deploy command (gunicorn, 2 uvicorn workers) on a free loopback port, in its
    own process group; (process, base URL). Stop it with stop_process()."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "DJANGO_SECURE_COOKIES": "0", **(extra_env or {})}
    command = [sys.executable, "-m", *DEPLOY_COMMAND, "-b", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/api/health", seconds=120)
    except RuntimeError:
        stop_process(process)
        raise
    return process, base


@pytest.fixture
def server_process(transactional_db):
    """The app served by a real uvicorn process on the test database; yields the base URL."""
    process, base = start_uvicorn(database_url())
    try:
        yield base
    finally:
        stop_process(process)
        from django.db import connections

        connections.close_all()


@pytest.fixture(scope="module")
def module_server(django_db_setup, django_db_blocker):
    """One server process for a whole test module (start-up costs seconds); its tests still
    use `transactional_db` for their data. Yields the base URL."""
    with django_db_blocker.unblock():
        url = database_url()
    process, base = start_uvicorn(url)
    try:
        yield base
    finally:
        stop_process(process)


@pytest.fixture(scope="session", autouse=True)
def _close_stray_postgres_sessions(django_db_setup, django_db_blocker):
    """Live-server threads and server processes can leave sessions on the PostgreSQL test
    database; end them so the test database can be dropped at the end of the run."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_env():
    """Settings for server processes that share Redis (REDIS_URL), under a key prefix of this
    test's own, so runs that share the Redis server never see each other's counters. Skips when
    Redis does not answer, unless REQUIRE_REDIS is set (CI): then it fails."""
    import uuid

    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("REQUIRE_REDIS"):
            pytest.fail(f"REQUIRE_REDIS is set but Redis does not answer at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis does not answer at {REDIS_URL}")
    prefix = f"test{os.environ.get('ARTIFACTS_TEST_DB_SUFFIX', '')}-{uuid.uuid4().hex}"
    yield {"REDIS_URL": REDIS_URL, "DJANGO_CACHE_KEY_PREFIX": prefix}
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)
    client.close()

"""A database busy elsewhere delays only the requests that need it.

Over real HTTP against the README's deploy command (gunicorn, 2 uvicorn workers): while another
process holds the write lock (SQLite's writer lock; on PostgreSQL an EXCLUSIVE lock on the
collections table, which blocks every create), writes wait, and meanwhile `/api/health`, API
reads and the dashboard's pages answer: database work runs on server threads, never on the
event loop. No clock is read: the reads must complete while the lock is still held, i.e.
before the writes that wait for it. On PostgreSQL a statement timeout ends a write that waits
too long with a 503, while the lock is still held."""

import subprocess
import sys
import threading

import httpx
import pytest
from django.db import connection

from artifacts_app import services
from tests.conftest import database_url, start_deployed, stop_process

pytestmark = pytest.mark.django_db(transaction=True)

SQLITE_HOLDER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
db.execute("BEGIN IMMEDIATE")  # SQLite's writer lock: no other writer until COMMIT
print("locked", flush=True)
sys.stdin.readline()
db.execute("COMMIT")
"""

POSTGRES_HOLDER = """
import psycopg, sys
with psycopg.connect(sys.argv[1]) as db:
    db.execute("LOCK TABLE artifacts_app_artifactcollection IN EXCLUSIVE MODE")  # reads pass
    print("locked", flush=True)
    sys.stdin.readline()
"""


class LockHolder:
    """Another process holding the write lock until release()."""

    def __init__(self):
        conf = connection.settings_dict
        if connection.vendor == "sqlite":
            script, target = SQLITE_HOLDER, str(conf["NAME"])
        else:
            script, target = POSTGRES_HOLDER, database_url()
        self.process = subprocess.Popen(
            [sys.executable, "-c", script, target],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "locked"

    def release(self):
        if self.process.poll() is None:
            self.process.stdin.write("go\n")
            self.process.stdin.flush()
            self.process.wait(30)

    @property
    def holding(self) -> bool:
        return self.process.poll() is None


@pytest.fixture
def deployed():
    started = []

    def start(extra_env=None):
        process, base = start_deployed(database_url(), extra_env)
        started.append(process)
        return base

    yield start
    for process in started:
        stop_process(process)
    from django.db import connections

    connections.close_all()


def test_health_reads_and_pages_answer_while_writes_wait_for_the_lock(deployed, user):
    base = deployed()
    _, token = services.token_create(user=user, name="writer")
    table = services.artifact_create(key="shown", type="table", data=[{"a": 1}])
    bar = services.artifact_create(key="bar", type="progress", data=40.0)
    holder = LockHolder()
    writes: dict[int, int] = {}

    def write(i):
        with httpx.Client(timeout=120, headers={"Authorization": f"Bearer {token}"}) as client:
            body = {"key": "shown", "type": "table", "data": [{"a": i}]}
            writes[i] = client.post(f"{base}/api/artifacts/", json=body).status_code

    writers = [threading.Thread(target=write, args=(i,)) for i in range(3)]
    try:
        for thread in writers:
            thread.start()
        with httpx.Client(timeout=60) as client:
            for path in [
                "/api/health",
                "/api/artifacts/shown/latest",
                "/artifacts/",
                "/artifacts/?q=shown&from=2020-01-01",  # a search reads, it never waits
                "/artifacts/key/shown/",
                f"/artifacts/artifact/{table.pk}/",
                f"/artifacts/artifact/{bar.pk}/progress/",
            ]:
                for _ in range(3):  # more than one request: both workers, several threads
                    response = client.get(f"{base}{path}")
                    assert response.status_code == 200, (path, response.status_code)
            assert holder.holding
            assert writes == {}  # every write is still waiting for the lock
            assert client.get(f"{base}/api/artifacts/shown/latest").json()["id"] == str(table.pk)
    finally:
        holder.release()
        for thread in writers:
            thread.join(120)
    assert writes == {0: 201, 1: 201, 2: 201}


def test_a_statement_timeout_ends_a_write_stuck_on_a_lock(deployed, user):
    if connection.vendor != "postgresql":
        pytest.skip("statement_timeout is PostgreSQL's (SQLite writers wait up to 20 s)")
    base = deployed({"DJANGO_DB_STATEMENT_TIMEOUT": "1"})
    _, token = services.token_create(user=user, name="writer")
    services.artifact_create(key="stuck", type="markdown", data="before")
    holder = LockHolder()
    try:
        with httpx.Client(timeout=120, headers={"Authorization": f"Bearer {token}"}) as client:
            answer = client.post(
                f"{base}/api/artifacts/", json={"key": "stuck", "type": "markdown", "data": "x"}
            )
            assert holder.holding  # it ended before the lock was released
            assert answer.status_code == 503, answer.text
            assert answer.headers["Retry-After"]
            assert client.get(f"{base}/api/health").status_code == 200
    finally:
        holder.release()
    assert [a.data for a in services.Artifact.objects.filter(key="stuck")] == ["before"]

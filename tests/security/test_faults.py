"""Faults: the app server SIGKILLed mid-load loses no acknowledged write and leaves nothing
half-written; a database outage answers 503 and recovers when the database returns."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
from django.db import connection

from artifacts_app import services
from artifacts_app.models import Artifact, ArtifactCollection
from tests.conftest import ROOT, database_url, free_port, start_uvicorn, stop_process, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def start_gunicorn(port: int, db_url: str) -> subprocess.Popen:
    """The README's deploy command, on loopback."""
    env = {**os.environ, "DATABASE_URL": db_url, "DJANGO_SECURE_COOKIES": "0"}
    return subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "artifacts_app.asgi:application",
            "-k", "uvicorn_worker.UvicornWorker", "-w", "2", "-b", f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: SIGKILL reaches master and workers
    )  # fmt: skip


def test_sigkill_mid_load_keeps_every_acknowledged_write(user):
    _, token = services.token_create(user=user)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(port, database_url())
    acknowledged: list[str] = []
    failed = [0]
    stop = threading.Event()
    try:
        wait_for(f"{base}/api/health")

        def load(worker: int):
            with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {token}"}) as client:
                n = 0
                while not stop.is_set():
                    n += 1
                    body = {
                        "key": f"fault-{(worker + n) % 4}",
                        "type": "table",
                        "data": [{"w": worker, "n": n}],
                    }
                    try:
                        response = client.post(f"{base}/api/artifacts/", json=body)
                    except httpx.HTTPError:
                        failed[0] += 1
                        continue
                    if response.status_code == 201:
                        acknowledged.append(response.json()["id"])

        threads = [threading.Thread(target=load, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(server.pid, signal.SIGKILL)  # mid-flight: requests are still being sent
        server.wait(10)
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(30)
    finally:
        stop.set()
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)

    assert len(acknowledged) >= 40
    assert failed[0] > 0  # the kill really happened under load
    print(
        f"\nfault: {len(acknowledged)} creates acknowledged, {failed[0]} requests cut off or refused after the SIGKILL"
    )
    restarted = start_gunicorn(port, database_url())
    try:
        wait_for(f"{base}/api/health")
        connection.close()
        stored = set(map(str, Artifact.objects.values_list("id", flat=True)))
        assert set(acknowledged) <= stored  # every 201 survived
        for collection in ArtifactCollection.objects.all():  # nothing half-written
            newest = Artifact.objects.for_key(collection.key).first()
            assert collection.latest_id == newest.id
        keys = set(Artifact.objects.exclude(key=None).values_list("key", flat=True))
        assert keys == set(ArtifactCollection.objects.values_list("key", flat=True))
        with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {token}"}) as client:
            assert (
                client.post(f"{base}/api/artifacts/", json={"key": "after", "data": 1}).status_code
                == 201
            )
    finally:
        os.killpg(restarted.pid, signal.SIGKILL)
        restarted.wait(10)


class TcpProxy:
    """A loopback TCP proxy to the database that can be cut and restored."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def start(self):
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self):
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self.listener.close()
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.sockets.clear()


def test_database_outage_answers_503_and_recovers(user):
    conf = connection.settings_dict
    if conf["ENGINE"].endswith("sqlite3"):
        pytest.skip("the outage is simulated with a TCP proxy in front of PostgreSQL")
    proxy = TcpProxy((conf.get("HOST") or "127.0.0.1", int(conf.get("PORT") or 5432)))
    proxy.start()
    url = database_url().replace(f":{conf.get('PORT') or 5432}/", f":{proxy.port}/")
    server, base = start_uvicorn(url)
    try:
        services.artifact_create(key="up", type="markdown", data="x")
        with httpx.Client(timeout=20) as client:
            assert client.get(f"{base}/api/artifacts/up/latest").status_code == 200
            proxy.cut()
            down = client.get(f"{base}/api/artifacts/up/latest")
            assert down.status_code == 503
            assert down.json() == {
                "detail": "The database is unavailable right now; retry shortly."
            }
            assert down.headers["Retry-After"]
            page = client.get(f"{base}/artifacts/")
            assert page.status_code == 503
            assert "Traceback" not in page.text
            proxy.start()
            assert client.get(f"{base}/api/artifacts/up/latest").status_code == 200
    finally:
        stop_process(server)
        proxy.cut()

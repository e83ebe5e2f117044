"""`prefect_server`: Prefect 3.9.1's own server (`.venv-prefect`), started once per test module on
a free loopback port with a PREFECT_HOME of its own (so its SQLite database starts empty), stopped
by PID at the end. Registered from tests/conftest.py; yields its API base URL
(`http://127.0.0.1:<port>/api`).

Skipped when `.venv-prefect` is missing (`make prefect-venv`), unless REQUIRE_PREFECT is set: then
the tests fail."""

import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.processes import stop_process

ROOT = Path(__file__).resolve().parent.parent
PREFECT_VENV = ROOT / ".venv-prefect"
PREFECT_BIN = PREFECT_VENV / "bin" / "prefect"
PREFECT_PYTHON = PREFECT_VENV / "bin" / "python"
START_SECONDS = 120  # a busy 2-core machine starts Prefect's server slowly


def require_prefect_venv() -> None:
    if PREFECT_BIN.exists():
        return
    message = f"no {PREFECT_VENV} (make prefect-venv)"
    if os.environ.get("REQUIRE_PREFECT"):
        pytest.fail(f"REQUIRE_PREFECT is set but there is {message}")
    pytest.skip(message)


def prefect_env(home: str, **extra) -> dict:
    """Environment for Prefect processes (server or client scripts) using `home`."""
    return {
        **os.environ,
        "PREFECT_HOME": home,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        **extra,
    }


class PrefectServer:
    def __init__(self, api_url: str, home: str, process: subprocess.Popen):
        self.api_url = api_url
        self.home = home
        self.process = process

    def __str__(self) -> str:
        return self.api_url


def start_prefect_server(**extra_env) -> PrefectServer:
    """Prefect's server with `extra_env` (e.g. PREFECT_SERVER_API_AUTH_STRING) added."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    home = tempfile.mkdtemp(prefix="prefect-home-")
    log = open(Path(home) / "server.log", "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [str(PREFECT_BIN), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=prefect_env(home, **extra_env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    api_url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return PrefectServer(api_url, home, process)
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_prefect_server(process)
            output = (Path(home) / "server.log").read_text()[-3000:]
            shutil.rmtree(home, ignore_errors=True)
            raise RuntimeError(
                f"Prefect's server did not start within {START_SECONDS} s:\n{output}"
            )
        time.sleep(0.5)


def stop_prefect_server(process: subprocess.Popen) -> None:
    """Stop the server by its PID; its uvicorn runs in the same process and may take 20 s."""
    stop_process(process, wait=20)


@pytest.fixture(scope="module")
def prefect_server():
    """A running Prefect 3.9.1 server for this module; yields a PrefectServer (`.api_url`,
    `.home`: its PREFECT_HOME, where its database `prefect.db` lives)."""
    require_prefect_venv()
    server = start_prefect_server()
    try:
        yield server
    finally:
        stop_prefect_server(server.process)
        shutil.rmtree(server.home, ignore_errors=True)

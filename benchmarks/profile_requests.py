#!/usr/bin/env python3
"""Cost of each benchmark request inside one process, without HTTP or other load.

Sends artifact_load.py's requests (and the dashboard pages) through Django's WSGI handler (the
handler the server runs, minus the HTTP parsing) against a database seeded by `manage.py
bulk_seed`, and prints per request:

- CPU microseconds (median of rounds): machines here are shared and noisy, and CPU time per
  request is a steadier yardstick than requests/s, though it still moves with the load;
- with `--instructions`, instructions counted by valgrind's callgrind around the requests only
  (not start-up): the same for the same code whatever else the machine does, so an A/B of a
  change is exact (needs valgrind and a C compiler; ~50x slower, keep -n small);
- with `--profile NAME`, a pyinstrument tree of one request type (`pip install -e '.[bench]'`).

`DJANGO_SETTINGS_MODULE=benchmarks.ceiling.settings` measures the bare-Django ceiling instead
(benchmarks/ceiling/: `latest`, `filter`, `create` as plain function views).

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python manage.py migrate
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python manage.py bulk_seed --to 10000
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python benchmarks/profile_requests.py
    DATABASE_URL=... .venv/bin/python benchmarks/profile_requests.py --instructions -n 30
"""

from __future__ import annotations

import argparse
import glob
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artifacts_app.settings")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,testserver")

FILTER = {
    "artifacts": {"type": {"any_": ["table"]}},
    "flow_runs": None,
    "task_runs": None,
    "limit": 50,
    "offset": 0,
}


def requests(progress_id: str, table_id: str | None, history_key: str | None) -> dict:
    table = json.dumps([{"name": f"row-{r}", "value": r, "ok": True} for r in range(10)])
    out = {
        "create": (
            "post",
            "/api/artifacts/",
            {"key": "key-1", "type": "table", "description": "bench", "data": table},
        ),
        "latest": ("get", "/api/artifacts/key-1/latest", None),
        "filter": ("post", "/api/artifacts/filter", {**FILTER, "sort": "CREATED_DESC"}),
        "filter_id": ("post", "/api/artifacts/filter", {**FILTER, "sort": "ID_DESC"}),
        "latest_filter": (
            "post",
            "/api/artifacts/latest/filter",
            {"artifacts": None, "limit": 50, "offset": 0, "sort": "CREATED_DESC"},
        ),
        "patch": ("patch", f"/api/artifacts/{progress_id}", {"data": 42.0}),
        "artifacts_page": ("get", "/artifacts/", None),
        "progress_poll": ("get", f"/artifacts/artifact/{progress_id}/progress/", None),
    }
    if history_key:
        out["key_page"] = ("get", f"/artifacts/key/{history_key}/", None)
    if table_id:
        out["table_page"] = ("get", f"/artifacts/artifact/{table_id}/", None)
    return out


CALLGRIND_HELPER = r"""
#include <valgrind/callgrind.h>
void toggle(void) { CALLGRIND_TOGGLE_COLLECT; }
void dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
"""


def callgrind_helper(workdir: Path):
    """ctypes handle on a two-function C library issuing callgrind's client requests."""
    import ctypes

    source, library = workdir / "cg.c", workdir / "cg.so"
    if not library.exists():
        source.write_text(CALLGRIND_HELPER)
        subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-o", library, source], check=True)
    return ctypes.CDLL(str(library))


def run_under_callgrind(argv: list[str], workdir: Path) -> dict[str, float]:
    """Re-run this script under callgrind (collecting only around the timed requests); return
    instructions per request by name."""
    callgrind_helper(workdir)  # compile before valgrind starts
    out = workdir / "callgrind.out"
    command = ["valgrind", "--tool=callgrind", "--collect-atstart=no"]
    command += [f"--callgrind-out-file={out}.%p", sys.executable, __file__, *argv]
    command += ["--in-callgrind", str(workdir)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(done.stdout + done.stderr[-4000:])
    print(done.stdout, end="")
    per_request = {}
    for path in glob.glob(f"{out}.*"):
        text = Path(path).read_text(errors="replace")
        trigger = re.search(r"^desc: Trigger: Client Request: (\S+)$", text, re.M)
        totals = re.search(r"^(?:totals|summary): (\d+)", text, re.M)
        if trigger and totals and ":" in trigger.group(1):
            name, n = trigger.group(1).rsplit(":", 1)
            per_request[name] = int(totals.group(1)) / int(n)
    return per_request


def wsgi_caller(headers: dict[str, str]):
    """send(method, path, body) through the WSGI handler a server would call; returns the status."""
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}

    def send(method, path, body):
        data = b"" if body is None else json.dumps(body).encode()
        environ = {
            "REQUEST_METHOD": method.upper(),
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_ACCEPT": "application/json",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(data),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
            **extra,
        }
        if body is not None:
            environ["CONTENT_TYPE"] = "application/json"
            environ["CONTENT_LENGTH"] = str(len(data))
        status = []
        result = application(environ, lambda s, h, exc_info=None: status.append(s))
        try:
            for _ in result:
                pass
        finally:
            if hasattr(result, "close"):
                result.close()
        return int(status[0].split()[0])

    return send


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("-n", type=int, default=200, help="requests per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="", help="comma list of request names")
    ap.add_argument("--profile", default="", help="print a pyinstrument tree for this request")
    ap.add_argument("--instructions", action="store_true", help="count instructions with callgrind")
    ap.add_argument("--in-callgrind", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.instructions:
        argv = [a for a in sys.argv[1:] if a != "--instructions"]
        with tempfile.TemporaryDirectory(prefix="callgrind-") as workdir:
            counts = run_under_callgrind(argv, Path(workdir))
        print("instructions per request (callgrind, requests only)")
        for name, count in counts.items():
            print(f"{name:16} {count / 1e6:10.3f} M")
        return

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from artifacts_app import services
    from artifacts_app.models import Artifact, ArtifactCollection

    bench_user, _ = get_user_model().objects.get_or_create(username="bench-profile")
    _, raw = services.token_create(user=bench_user, name="profile_requests")
    progress = ArtifactCollection.objects.filter(type="progress").values_list(
        "latest_id", flat=True
    )
    table = ArtifactCollection.objects.filter(key="bench-big-table").values_list(
        "latest_id", flat=True
    )
    history = ArtifactCollection.objects.filter(key="bench-history").exists()
    if not progress:
        raise SystemExit("seed first: manage.py bulk_seed --to 10000")
    table_id = str(table[0]) if table else None
    todo = requests(str(progress[0]), table_id, "bench-history" if history else None)
    if args.only:
        todo = {k: v for k, v in todo.items() if k in args.only.split(",")}
    send = wsgi_caller({"Authorization": f"Bearer {raw}"})
    helper = callgrind_helper(Path(args.in_callgrind)) if args.in_callgrind else None

    print(
        f"{Artifact.objects.count():,} artifacts, {settings.SETTINGS_MODULE};"
        f" CPU per request (median of {args.rounds} rounds)"
    )
    for name, (method, path, body) in todo.items():
        n = args.n if not name.endswith(("_page",)) else max(5, args.n // 20)
        for _ in range(3):  # warm: first-request caches, connections
            status = send(method, path, body)
        if helper is not None:
            helper.toggle()
            for _ in range(n):
                send(method, path, body)
            helper.toggle()
            helper.dump(f"{name}:{n}".encode())
            print(f"{name:16} HTTP {status}")
            continue
        if args.profile == name:
            from pyinstrument import Profiler

            with Profiler(interval=0.0002) as profiler:
                for _ in range(n):
                    send(method, path, body)
            profiler.print(show_all=False)
        rounds = []
        for _ in range(args.rounds):
            t0 = time.process_time()
            for _ in range(n):
                send(method, path, body)
            rounds.append((time.process_time() - t0) / n)
        print(f"{name:16} {statistics.median(rounds) * 1e6:10.0f} us   HTTP {status}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""CPU cost of each benchmark request inside one process, without HTTP or other load.

Sends artifact_load.py's requests (and the dashboard pages) through Django's WSGI handler with
the test client against a database seeded by `manage.py bulk_seed`, and prints CPU microseconds
per request (median of rounds). Machines here are shared and noisy: CPU time per request is a
steadier yardstick for a change than requests/s. `--profile NAME` prints a pyinstrument tree
(`pip install -e '.[bench]'`).

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python manage.py migrate
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python manage.py bulk_seed --to 10000
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python benchmarks/profile_requests.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artifacts_app.settings")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")

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


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("-n", type=int, default=200, help="requests per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="", help="comma list of request names")
    ap.add_argument("--profile", default="", help="print a pyinstrument tree for this request")
    args = ap.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

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
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    def send(method, path, body):
        if body is None:
            return getattr(client, method)(path)
        return getattr(client, method)(path, json.dumps(body), content_type="application/json")

    print(
        f"{Artifact.objects.count():,} artifacts; CPU per request (median of {args.rounds} rounds)"
    )
    for name, (method, path, body) in todo.items():
        n = args.n if not name.endswith(("_page",)) else max(5, args.n // 20)
        status = send(method, path, body).status_code  # warm
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

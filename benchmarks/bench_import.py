#!/usr/bin/env python3
"""Import rate: `manage.py import_prefect` copying N artifacts from a live Prefect 3.9.1 server.

Starts Prefect's server (`.venv-prefect/bin/prefect server start`, a temporary PREFECT_HOME, a
free loopback port), seeds its SQLite database with N artifacts in SQL
(`../shared/bench/prefect/sqlite_seed.py`: the same rows as artifact_load.py), migrates a fresh
database of ours (SQLite in a temp dir by default; `--postgres` creates and drops a PostgreSQL
database), then times the import, and a second import (which writes nothing). Stops Prefect's
server by PID.

    .venv/bin/python benchmarks/bench_import.py [--artifacts 10000] [--postgres]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
SEED = Path(
    os.environ.get("PREFECT_SQLITE_SEED", ROOT.parent / "shared/bench/prefect/sqlite_seed.py")
)
if not SEED.exists():
    SEED = Path("/work/shared/bench/prefect/sqlite_seed.py")


def admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(
        PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True
    ) as c:
        c.execute(sql)


def timed_import(env: dict, api_url: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", "import_prefect", api_url],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=3600, check=True,
    )  # fmt: skip
    return time.perf_counter() - started, done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()

    from tests.prefect_server import (
        require_prefect_venv,  # noqa: F401 - same checks as the tests
        start_prefect_server,
        stop_prefect_server,
    )

    tmp = tempfile.mkdtemp(prefix="bench-import-")
    if args.postgres:
        name = f"bench_import_{uuid.uuid4().hex[:8]}"
        admin(f'CREATE DATABASE "{name}"')
        db_url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    else:
        db_url = f"sqlite:///{tmp}/ours.sqlite3"
    env = {**os.environ, "DATABASE_URL": db_url}
    server = start_prefect_server()
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True
        )
        prefect_db = Path(server.home) / "prefect.db"
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, str(SEED), str(prefect_db), "0", str(args.artifacts)],
            check=True, capture_output=True, timeout=1800,
        )  # fmt: skip
        print(
            f"seeded Prefect with {args.artifacts:,} artifacts in {time.perf_counter() - started:.1f} s"
        )
        seconds, summary = timed_import(env, server.api_url)
        print(
            f"import: {seconds:.1f} s wall, {args.artifacts / seconds:,.0f} artifacts/s | {summary}"
        )
        seconds, summary = timed_import(env, server.api_url)
        print(
            f"again:  {seconds:.1f} s wall, {args.artifacts / seconds:,.0f} artifacts/s | {summary}"
        )
        assert re.search(r": 0 new, 0 updated", summary), summary
    finally:
        stop_prefect_server(server.process)
        shutil.rmtree(server.home, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
        if args.postgres:
            admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Server time of the version diff of two 10,000-row table versions (target: < 1 s).

Creates a fresh database (SQLite in a temp dir by default; `--postgres` creates and drops a
PostgreSQL database), stores two versions of a 10,000-row x 6-column table sent as Prefect does
(a JSON string), the second with ~10% of rows changed, 100 rows removed and 100 added, then
requests `/artifacts/key/<key>/diff/?a=&b=` through Django's test client (the whole view: fetch
both versions, parse, diff, render one page of changes) and prints the median of several runs,
matched by position and by a key column.

    .venv/bin/python benchmarks/bench_diff.py [--rows 10000] [--runs 7] [--postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def tables(rows: int) -> tuple[str, str]:
    old = [
        {"id": f"row-{i}", "name": f"item {i}", "qty": i % 97, "price": round(i * 0.37, 2),
         "region": ("north", "south", "east", "west")[i % 4], "ok": i % 3 == 0}
        for i in range(rows)
    ]  # fmt: skip
    new = [dict(row) for row in old[100:]]  # 100 rows removed at the top
    for row in new[::10]:  # ~10% of rows change one or two cells
        row["qty"] += 1
        if row["qty"] % 2:
            row["price"] = round(row["price"] * 1.1, 2)
    new += [
        {"id": f"row-{rows + i}", "name": f"new {i}", "qty": 1, "price": 1.0,
         "region": "north", "ok": True}
        for i in range(100)
    ]  # fmt: skip
    return json.dumps(old), json.dumps(new)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="bench-diff-")
    pg_name = None
    if args.postgres:
        import psycopg

        pg_name = f"bench_diff_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(
            PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        os.environ["DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{pg_name}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp.name}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artifacts_app.settings")
    os.environ["ARTIFACTS_THROTTLE_ANON"] = "off"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client

    from artifacts_app import services

    try:
        call_command("migrate", verbosity=0)
        old_data, new_data = tables(args.rows)
        old = services.artifact_create(key="bench-diff", type="table", data=old_data)
        new = services.artifact_create(key="bench-diff", type="table", data=new_data)
        client = Client()
        results = {}
        for label, extra in (("by position", ""), ("by key column", "&key_column=id")):
            url = f"/artifacts/key/bench-diff/diff/?a={old.pk}&b={new.pk}{extra}"
            times = []
            for _ in range(args.runs + 1):
                start = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - start)
                assert response.status_code == 200, response.status_code
            body = response.content.decode()
            results[label] = statistics.median(times[1:])  # the first run warms imports
            print(
                f"diff {args.rows:,} rows {label}: median {results[label] * 1000:.0f} ms "
                f"(min {min(times[1:]) * 1000:.0f}, max {max(times[1:]) * 1000:.0f}; "
                f"{len(body) / 1024:.0f} KiB HTML; {body.count('<tr class=')} rows on page 1)"
            )
        db = "PostgreSQL" if args.postgres else "SQLite"
        worst = max(results.values())
        print(
            f"{db}: worst median {worst * 1000:.0f} ms -> {'PASS' if worst < 1 else 'FAIL'} (< 1 s)"
        )
    finally:
        connections.close_all()
        if pg_name:
            import psycopg

            with psycopg.connect(
                PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True
            ) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        tmp.cleanup()


if __name__ == "__main__":
    main()

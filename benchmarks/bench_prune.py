#!/usr/bin/env python3
"""Retention at scale: `artifact_prune` over many artifacts, in batches.

Creates a fresh database (SQLite in a temp dir by default; `--postgres` creates and drops a
PostgreSQL database), bulk-loads `--artifacts` versions spread over keys of `--versions` each
(plus collection rows, as the service layer keeps them), then runs a dry run and a real prune
with keep_last=10 and prints: artifacts deleted, wall time, batches, and the longest single
delete transaction (how long the rows of one key were locked). Checks afterwards that every
collection still points at its key's newest version.

    .venv/bin/python benchmarks/bench_prune.py [--artifacts 200000] [--versions 100] [--postgres]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def admin(sql: str) -> None:
    import psycopg

    url = PG_ADMIN_URL.replace("postgres://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", type=int, default=200_000)
    parser.add_argument("--versions", type=int, default=100, help="versions per key")
    parser.add_argument("--keep-last", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="bench-prune-")
    pg_name = None
    if args.postgres:
        pg_name = f"bench_prune_{uuid.uuid4().hex[:8]}"
        admin(f'CREATE DATABASE "{pg_name}"')
        os.environ["DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{pg_name}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp.name}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artifacts_app.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from artifacts_app import services
    from artifacts_app.models import Artifact, ArtifactCollection, uuid7

    try:
        call_command("migrate", verbosity=0)
        keys = max(1, args.artifacts // args.versions)
        start = time.perf_counter()
        base = timezone.now() - dt.timedelta(days=30)
        for k in range(keys):
            key = f"key-{k:06d}"
            rows = [
                Artifact(
                    id=uuid7(), key=key, type="progress", data=float(v % 100),
                    created=base + dt.timedelta(seconds=v), updated=base + dt.timedelta(seconds=v),
                    pinned=v == 0,
                )
                for v in range(args.versions)
            ]  # fmt: skip
            Artifact.objects.bulk_create(rows, batch_size=1000)
            ArtifactCollection.objects.create(
                key=key, latest=rows[-1], type="progress", updated=rows[-1].created
            )
        total = Artifact.objects.count()
        print(f"loaded {total:,} artifacts in {keys:,} keys in {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        dry = services.artifact_prune(
            keep_last=args.keep_last, dry_run=True, batch_size=args.batch_size
        )
        print(f"dry run: would delete {dry.deleted:,} in {time.perf_counter() - start:.1f} s")
        assert Artifact.objects.count() == total

        start = time.perf_counter()
        report = services.artifact_prune(keep_last=args.keep_last, batch_size=args.batch_size)
        elapsed = time.perf_counter() - start
        expected = keys * (args.versions - args.keep_last - 1)  # the first version is pinned
        print(
            f"prune: deleted {report.deleted:,} (expected {expected:,}) in {elapsed:.1f} s "
            f"({report.deleted / elapsed:,.0f}/s), {report.batches:,} batches, longest batch "
            f"{report.longest_batch_seconds * 1000:.0f} ms"
        )
        left = Artifact.objects.count()
        stale = sum(
            1
            for c in ArtifactCollection.objects.all().iterator()
            if c.latest_id != Artifact.objects.for_key(c.key).values_list("pk", flat=True).first()
        ) if keys <= 20_000 else 0  # fmt: skip
        print(f"left {left:,} artifacts; collections not on their newest version: {stale}")
        assert report.deleted == expected
        assert stale == 0
    finally:
        connections.close_all()
        if pg_name:
            admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        tmp.cleanup()


if __name__ == "__main__":
    main()

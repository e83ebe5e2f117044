"""Bulk-load artifacts for benchmarks, straight into the database (not through HTTP).

Rows follow `artifact_load.py --seed-from/--seed-to` exactly (its `seed_payload()`: key
`key-{i // 10}`, ten versions per key, types round robin by key, data shaped as Prefect's client
sends it), so a database seeded here answers the load generator as one seeded over the API.
Artifacts and their collections are written with `bulk_create` in batches; a million rows take a
few minutes on PostgreSQL.

    manage.py bulk_seed --from 0 --to 100000
    manage.py bulk_seed --from 100000 --to 1000000 --history bench-history:10000 \
        --big-table bench-big-table:100000
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from artifacts_app import rendering, search, services
from artifacts_app.models import FLOW_RUN, Artifact, ArtifactCollection

SHARED_BENCH = Path(settings.BASE_DIR).parent / "shared" / "bench"
TYPES = ["table", "markdown", "progress", "image"]


def _table_data(rng: random.Random) -> str:
    rows = [
        {"name": f"row-{r}", "value": rng.randint(0, 10_000), "ok": rng.random() < 0.5}
        for r in range(10)
    ]
    return json.dumps(rows)


def _seed_payload(i: int, rng: random.Random, flow_runs: list[str]) -> dict:
    """A copy of artifact_load.seed_payload, used when ../shared/bench is not there."""
    key_no = i // 10
    typ = TYPES[key_no % len(TYPES)]
    if typ == "table":
        data = _table_data(rng)
    elif typ == "markdown":
        data = f"# report {i}\n\n* item {rng.randint(0, 999)}\n* item {rng.randint(0, 999)}\n"
    elif typ == "progress":
        data = float(rng.randint(0, 100))
    else:
        data = f"https://example.invalid/img/{i}.png"
    return {
        "key": f"key-{key_no}",
        "type": typ,
        "description": f"seed artifact {i}",
        "data": data,
        "flow_run_id": flow_runs[i % len(flow_runs)],
        "task_run_id": None,
    }


def load_seed_payload():
    """`seed_payload` from the shared load generator when present, else our copy."""
    if (SHARED_BENCH / "artifact_load.py").exists():
        sys.path.insert(0, str(SHARED_BENCH))
        try:
            from artifact_load import seed_payload  # noqa: PLC0415

            return seed_payload
        except ImportError:
            pass
        finally:
            sys.path.remove(str(SHARED_BENCH))
    return _seed_payload


def uuid7_at(when: dt.datetime) -> uuid.UUID:
    """A UUIDv7 for a given time, so ID_DESC and CREATED_DESC agree for seeded rows."""
    ms = int(when.timestamp() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62 | rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def _named(spec: str | None, option: str) -> tuple[str, int] | None:
    if not spec:
        return None
    key, _, count = spec.rpartition(":")
    if not key or not count.isdigit():
        raise CommandError(f"{option} takes KEY:COUNT, got {spec!r}")
    return key, int(count)


class Command(BaseCommand):
    help = "Bulk-load benchmark artifacts (artifact_load.py's distribution) without HTTP."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", type=int, default=0)
        parser.add_argument("--to", dest="stop", type=int, default=10_000)
        parser.add_argument("--batch", type=int, default=5_000)
        parser.add_argument(
            "--history", help="KEY:N also add one markdown key with N versions (key page)."
        )
        parser.add_argument(
            "--big-table", help="KEY:ROWS also add one table artifact with ROWS rows."
        )

    def handle(self, *args, start=0, stop=10_000, batch=5_000, history=None, big_table=None, **o):
        if stop < start or batch < 1:
            raise CommandError("need --from <= --to and --batch >= 1")
        t0 = time.monotonic()
        seed_payload = load_seed_payload()
        rng = random.Random(start)
        flow_runs = [str(uuid.UUID(int=random.Random(s).getrandbits(128))) for s in range(500)]
        services.run_upsert(runs=[{"id": run, "kind": FLOW_RUN} for run in flow_runs])  # /runs/
        # New rows are newer than every row already there, one millisecond apart.
        newest = Artifact.objects.aggregate(m=Max("created"))["m"]
        base = timezone.now() - dt.timedelta(milliseconds=stop - start)
        if newest is not None and base <= newest:
            base = newest + dt.timedelta(milliseconds=1)
        step = dt.timedelta(milliseconds=1)
        created = 0
        for lo in range(start, stop, batch):
            artifacts = []
            for i in range(lo, min(stop, lo + batch)):
                p = seed_payload(i, rng, flow_runs)
                when = base + (i - start) * step
                artifacts.append(
                    Artifact(
                        id=uuid7_at(when),
                        key=p["key"],
                        type=p["type"],
                        description=p["description"],
                        data=p["data"],
                        table_summary=rendering.table_summary(p["type"], p["data"]),
                        metadata=None,
                        flow_run_id=uuid.UUID(p["flow_run_id"]),
                        task_run_id=None,
                        created=when,
                        updated=when,
                    )
                )
            self._write(artifacts)
            created += len(artifacts)
        base = base + (stop - start) * step
        extra = _named(history, "--history")
        if extra:
            key, count = extra
            for lo in range(0, count, batch):
                self._write(
                    [
                        Artifact(
                            id=uuid7_at(base + i * step),
                            key=key,
                            type="markdown",
                            description=f"version {i} of a long history",
                            data=f"# {key} v{i}\n\n* loss **{rng.random():.4f}**\n",
                            created=base + i * step,
                            updated=base + i * step,
                        )
                        for i in range(lo, min(count, lo + batch))
                    ]
                )
            base = base + count * step
            created += count
        extra = _named(big_table, "--big-table")
        if extra:
            key, rows = extra
            data = json.dumps(
                [{"row": r, "name": f"item-{r}", "score": rng.random()} for r in range(rows)]
            )
            self._write(
                [
                    Artifact(
                        id=uuid7_at(base),
                        key=key,
                        type="table",
                        description=f"a table of {rows} rows",
                        data=data,
                        table_summary=rendering.table_summary("table", data),
                        created=base,
                        updated=base,
                    )
                ]
            )
            created += 1
        self.stdout.write(
            json.dumps(
                {
                    "seeded": created,
                    "seconds": round(time.monotonic() - t0, 1),
                    "artifacts": Artifact.objects.count(),
                    "collections": ArtifactCollection.objects.count(),
                }
            )
        )

    @staticmethod
    def _write(artifacts: list[Artifact]) -> None:
        """One transaction: the versions, then each key's collection row pointed at the newest
        (existing rows keep their `created`; a key seen again moves its `latest`)."""
        first: dict[str, Artifact] = {}
        latest: dict[str, Artifact] = {}
        for artifact in artifacts:  # ascending `created`: the last one of a key wins
            first.setdefault(artifact.key, artifact)
            latest[artifact.key] = artifact
        with transaction.atomic():
            Artifact.objects.bulk_create(artifacts, batch_size=1000)
            search.index_versions(artifacts)  # as services does, so seeded rows are searchable
            ArtifactCollection.objects.bulk_create(
                [
                    ArtifactCollection(
                        id=uuid7_at(first[key].created),
                        key=key,
                        latest=a,
                        type=a.type,
                        created=first[key].created,
                        updated=a.created,
                    )
                    for key, a in latest.items()
                ],
                batch_size=1000,
                update_conflicts=True,
                unique_fields=["key"],
                update_fields=["latest", "type", "updated"],
            )

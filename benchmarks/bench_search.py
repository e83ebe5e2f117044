#!/usr/bin/env python3
"""Benchmark the dashboard's search at a million artifacts on PostgreSQL.

Seeds (or, with --keep, reuses) a database `artifacts_bench_search` with --size artifact
versions whose text reads like real reports (words drawn from a Zipf-distributed vocabulary:
markdown reports, tables, results, links, progress bars; ten versions per key, 500 consecutive
versions per flow run, a year of `created`). Seeding writes straight into the tables with COPY,
search documents included (`search.document_text`, as `services` writes them), builds the GIN
index afterwards and runs VACUUM ANALYZE; a million rows take about 10-20 minutes on 2 cores.

Then starts the server as the README deploys it (gunicorn, 2 uvicorn workers) on 127.0.0.1,
and requests the live-search fragment (`GET /artifacts/?q=...` with `HX-Request`) for each query
type, --repeat times after two warm-ups, one at a time. Prints, per query: the server's own time
for the search (`Server-Timing: search`), the whole view (`Server-Timing: view`) and the wall
time seen by the client, median and p95; writes JSON. The server is stopped by PID.

    .venv/bin/python benchmarks/bench_search.py --size 1000000            # seed, then measure
    .venv/bin/python benchmarks/bench_search.py --size 1000000 --keep     # reuse the seeded DB
    .venv/bin/python benchmarks/bench_search.py --seed-only --size 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB_NAME = "artifacts_bench_search"
BATCH = 20_000
RARE_WORD, RARE_EVERY = "zephyrine", 10_007  # ~100 versions per million
PHRASE = "freshness check failed"  # in 1 of 50 markdown reports
FLOW_RUN_SIZE = 500  # consecutive versions per flow run


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


SQLITE_PATH: Path | None = None  # --sqlite PATH: seed and serve an SQLite file instead


def db_url() -> str:
    if SQLITE_PATH is not None:
        return f"sqlite:///{SQLITE_PATH}"
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME


def bench_env() -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": db_url(),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "benchmark-only-secret-key-not-for-production-use-0123456789",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    env.pop("ARTIFACTS_TEST_DB_SUFFIX", None)
    return env


# --------------------------------------------------------------------------- corpus --
def vocabulary(n: int = 20_000) -> list[str]:
    """Pronounceable words, the same on every run; vocab[0] is the most common."""
    rng = random.Random(7)
    onsets = [
        "b",
        "c",
        "d",
        "f",
        "g",
        "h",
        "j",
        "k",
        "l",
        "m",
        "n",
        "p",
        "r",
        "s",
        "t",
        "v",
        "w",
        "z",
        "br",
        "cl",
        "dr",
        "fl",
        "gr",
        "pl",
        "st",
        "tr",
    ]
    vowels = ["a", "e", "i", "o", "u", "ai", "ea", "io", "ou"]
    codas = ["", "n", "r", "s", "l", "m", "x", "th", "nd", "rk"]
    words, seen = [], set()
    while len(words) < n:
        word = "".join(
            rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas)
            for _ in range(rng.choice((1, 2, 2, 3)))
        )
        if word not in seen and word != RARE_WORD:
            seen.add(word)
            words.append(word)
    return words


class Corpus:
    def __init__(self, size: int):
        self.vocab = vocabulary()
        self.cum = []
        total = 0.0
        for rank in range(len(self.vocab)):
            total += 1.0 / (rank + 1) ** 1.07
            self.cum.append(total)
        self.runs = [
            uuid.UUID(int=random.Random(s).getrandbits(128)) for s in range(size // 500 + 1)
        ]
        self.size = size

    def words(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.vocab, cum_weights=self.cum, k=k)

    def version(self, i: int, rng: random.Random) -> dict:
        key_no = i // 10
        kind = ("markdown", "markdown", "table", "table", "result", "markdown", "progress",
                "link", "table", "result")[key_no % 10]  # fmt: skip
        description = " ".join(self.words(rng, rng.randint(4, 10))).capitalize()
        if i % RARE_EVERY == 0:
            description += f" {RARE_WORD}"
        if kind == "markdown":
            lines = [f"# {' '.join(self.words(rng, 4)).title()}", "", " ".join(self.words(rng, 40))]
            lines.append(f"* {rng.randint(1, 50)} checks passed")
            if rng.random() < 0.02:
                lines.append(f"* {PHRASE}: {' '.join(self.words(rng, 3))}")
            data = "\n".join(lines)
        elif kind == "table":
            rows = [
                {"region": w1, "product": w2, "amount": rng.randint(0, 10_000)}
                for w1, w2 in zip(self.words(rng, 10), self.words(rng, 10), strict=True)
            ]
            data = json.dumps(rows)  # as Prefect's client sends a table
        elif kind == "result":
            data = {
                "model": " ".join(self.words(rng, 2)),
                "params": {"depth": rng.randint(1, 12), "optimizer": self.words(rng, 1)[0]},
                "score": round(rng.random(), 4),
            }
        elif kind == "link":
            data = f"[{' '.join(self.words(rng, 3))}](https://example.invalid/{key_no})"
        else:
            data = float(rng.randint(0, 100))
        return {
            "key": f"{self.vocab[key_no % 997]}-{kind}-{key_no}",
            "type": kind,
            "description": description,
            "data": data,
            "flow_run_id": self.runs[i // FLOW_RUN_SIZE],
        }


# ---------------------------------------------------------------------------- seeding --
def manage(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=bench_env(), cwd=ROOT,
                   check=True, timeout=3600)  # fmt: skip


def seeded_count() -> int:
    if SQLITE_PATH is not None:
        import sqlite3

        if not SQLITE_PATH.exists():
            return -1
        with sqlite3.connect(SQLITE_PATH) as conn:
            try:
                return conn.execute("SELECT count(*) FROM artifacts_app_searchdocument").fetchone()[
                    0
                ]
            except sqlite3.Error:
                return -1
    import psycopg

    try:
        with psycopg.connect(db_url()) as conn:
            return conn.execute("SELECT count(*) FROM artifacts_app_searchdocument").fetchone()[0]
    except psycopg.Error:
        return -1


def seed_sqlite(size: int) -> None:
    """The same rows into an SQLite file, with executemany; the FTS5 table fills through its
    triggers as the documents go in."""
    import sqlite3

    for suffix in ("", "-wal", "-shm"):
        Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
    manage("migrate", "--noinput", "-v0")
    os.environ.update(
        {"DATABASE_URL": db_url(), "DJANGO_SETTINGS_MODULE": "artifacts_app.settings"}
    )
    os.environ.pop("ARTIFACTS_TEST_DB_SUFFIX", None)
    import django

    django.setup()
    from artifacts_app import search
    from artifacts_app.management.commands.bulk_seed import uuid7_at

    corpus, rng = Corpus(size), random.Random(11)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=365)
    step = dt.timedelta(days=365) / size
    latest: dict[str, tuple] = {}
    first: dict[str, str] = {}
    t0 = time.monotonic()

    def stamp(when: dt.datetime) -> str:
        return when.strftime("%Y-%m-%d %H:%M:%S.%f")

    conn = sqlite3.connect(SQLITE_PATH)
    try:
        for lo in range(0, size, BATCH):
            artifacts, documents = [], []
            for i in range(lo, min(size, lo + BATCH)):
                v = corpus.version(i, rng)
                when = stamp(start + i * step)
                pk = uuid7_at(start + i * step).hex
                artifacts.append((pk, v["key"], v["type"], v["description"],
                                  json.dumps(v["data"]), v["flow_run_id"].hex, when, when))  # fmt: skip
                title, body = search.document_text(
                    key=v["key"], description=v["description"], type=v["type"], data=v["data"]
                )
                documents.append((pk, when, v["key"], title, body))
                latest[v["key"]] = (pk, v["type"], when)
                first.setdefault(v["key"], when)
            with conn:
                conn.executemany(
                    "INSERT INTO artifacts_app_artifact (id, key, type, description, data,"
                    " flow_run_id, created, updated, pinned) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                    artifacts,
                )
                conn.executemany(
                    "INSERT INTO artifacts_app_searchdocument (artifact_id, created, key, title,"
                    " body) VALUES (?, ?, ?, ?, ?)",
                    documents,
                )
                terms = {w for d in documents for text in d[3:] for w in text.split()}
                conn.executemany(
                    "INSERT OR IGNORE INTO artifact_search_term (term) VALUES (?)",
                    [(t,) for t in terms],
                )
            done = min(size, lo + BATCH)
            log(f"seeded {done:,} of {size:,} ({done / (time.monotonic() - t0):,.0f}/s)")
        with conn:
            conn.executemany(
                "INSERT INTO artifacts_app_artifactcollection (id, key, latest_id, type, created,"
                " updated) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (uuid.uuid4().hex, key, pk, kind, first[key], when)
                    for key, (pk, kind, when) in latest.items()
                ],
            )
        conn.execute("INSERT INTO artifact_search_fts(artifact_search_fts) VALUES ('optimize')")
        conn.execute("ANALYZE")
    finally:
        conn.close()
    log(f"seeded {size:,} versions in {time.monotonic() - t0:,.0f} s")


def seed(size: int) -> None:
    if SQLITE_PATH is not None:
        seed_sqlite(size)
        return
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    manage("migrate", "--noinput", "-v0")
    os.environ.update(
        {"DATABASE_URL": db_url(), "DJANGO_SETTINGS_MODULE": "artifacts_app.settings"}
    )
    os.environ.pop("ARTIFACTS_TEST_DB_SUFFIX", None)
    import django

    django.setup()
    from artifacts_app import search
    from artifacts_app.management.commands.bulk_seed import uuid7_at

    corpus = Corpus(size)
    rng = random.Random(11)
    now = dt.datetime.now(dt.UTC)
    start = now - dt.timedelta(days=365)
    step = dt.timedelta(days=365) / size
    latest: dict[str, tuple] = {}
    first: dict[str, dt.datetime] = {}
    t0 = time.monotonic()
    with psycopg.connect(db_url()) as conn:
        conn.execute("DROP INDEX IF EXISTS search_vector")  # built once, after the load
        conn.commit()
        for lo in range(0, size, BATCH):
            artifacts, documents = [], []
            for i in range(lo, min(size, lo + BATCH)):
                v = corpus.version(i, rng)
                when = start + i * step
                pk = uuid7_at(when)
                data = json.dumps(v["data"])
                artifacts.append((pk, v["key"], v["type"], v["description"], data,
                                  v["flow_run_id"], when, when, False))  # fmt: skip
                title, body = search.document_text(
                    key=v["key"], description=v["description"], type=v["type"], data=v["data"]
                )
                documents.append((pk, when, v["key"], title, body))
                latest[v["key"]] = (pk, v["type"], when)
                first.setdefault(v["key"], when)
            with conn.cursor() as cur:
                with cur.copy(
                    "COPY artifacts_app_artifact (id, key, type, description, data, flow_run_id,"
                    " created, updated, pinned) FROM STDIN"
                ) as copy:
                    for row in artifacts:
                        copy.write_row(row)
                with cur.copy(
                    "COPY artifacts_app_searchdocument (artifact_id, created, key, title, body)"
                    " FROM STDIN"
                ) as copy:
                    for row in documents:
                        copy.write_row(row)
            conn.commit()
            done = min(size, lo + BATCH)
            log(f"seeded {done:,} of {size:,} ({done / (time.monotonic() - t0):,.0f}/s)")
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY artifacts_app_artifactcollection (id, key, latest_id, type, created, updated)"
                " FROM STDIN"
            ) as copy,
        ):
            for key, (pk, kind, when) in latest.items():
                copy.write_row((uuid7_at(first[key]), key, pk, kind, first[key], when))
        conn.commit()
        log("building the GIN index")
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute(
            "CREATE INDEX search_vector ON artifacts_app_searchdocument USING gin (vector)"
        )
        conn.commit()
    with psycopg.connect(db_url(), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    log(f"seeded {size:,} versions in {time.monotonic() - t0:,.0f} s")


FLOWS = ["nightly-etl", "model-training", "data-quality", "billing-export", "ingest-events"]


def run_name(n: int) -> tuple[str, str]:
    """(flow name, run name) of flow run n: five flows, Prefect-style adjective-animal names."""
    adjectives = ["crimson", "silent", "brave", "amber", "quick", "lucky", "misty", "bold"]
    animals = ["tiger", "otter", "falcon", "badger", "heron", "lynx", "moose", "wombat"]
    name = f"{adjectives[n % 8]}-{animals[n // 8 % 8]}-{n}"
    return FLOWS[n % len(FLOWS)], name


def name_runs(size: int) -> None:
    """A named Run row for every flow run of the corpus (as the Prefect import leaves them), so
    the search's run lookup works on realistic rows. Idempotent."""
    runs = Corpus(size).runs
    now = dt.datetime.now(dt.UTC)
    rows = [(run, *run_name(n)) for n, run in enumerate(runs)]
    if SQLITE_PATH is not None:
        import sqlite3

        with sqlite3.connect(SQLITE_PATH) as conn:
            conn.executemany(
                "INSERT INTO artifacts_app_run (id, kind, name, flow_name, state, created, updated)"
                " VALUES (?, 'flow', ?, ?, 'COMPLETED', ?, ?) ON CONFLICT (id) DO UPDATE SET"
                " name = excluded.name, flow_name = excluded.flow_name",
                [(r.hex, name, flow, str(now)[:26], str(now)[:26]) for r, flow, name in rows],
            )
            conn.execute("ANALYZE artifacts_app_run")
        return
    import psycopg

    with psycopg.connect(db_url()) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO artifacts_app_run (id, kind, name, flow_name, state, created, updated)"
            " VALUES (%s, 'flow', %s, %s, 'COMPLETED', %s, %s) ON CONFLICT (id) DO UPDATE SET"
            " name = excluded.name, flow_name = excluded.flow_name",
            [(r, name, flow, now, now) for r, flow, name in rows],
        )
        cur.execute("ANALYZE artifacts_app_run")  # as autovacuum would, soon after an import


# ---------------------------------------------------------------------------- queries --
def queries(size: int) -> list[tuple[str, dict]]:
    corpus = Corpus(size)
    v = corpus.vocab
    run = corpus.runs[len(corpus.runs) // 2]
    week_to = dt.date.today() - dt.timedelta(days=100)
    week_from = week_to - dt.timedelta(days=6)
    return [
        ("common word", {"q": v[0]}),
        ("mid word", {"q": v[60]}),
        ("rare word", {"q": RARE_WORD}),
        ("prefix", {"q": v[15][:3]}),
        ("two words", {"q": f"{v[25]} {v[4]}"}),
        ("phrase", {"q": f'"{PHRASE}"'}),
        ("run id", {"q": str(run)}),
        ("date range", {"from": week_from.isoformat(), "to": week_to.isoformat()}),
        ("word + dates", {"q": v[0], "from": week_from.isoformat(), "to": week_to.isoformat()}),
        ("word + run", {"q": v[2], "flow_run": str(run)}),
        ("no match", {"q": "qqqzzz"}),
        ("one letter", {"q": "b"}),
        ("16 words", {"q": " ".join(v[100:116])}),
        ("unkeyed tab", {"q": v[0], "tab": "unkeyed"}),
        ("run name", {"q": "crimson tiger"}),
        ("word + flow", {"q": v[2], "flow": FLOWS[1]}),
    ]


def timing(header: str) -> dict:
    out = {}
    for part in header.split(","):
        name, _, rest = part.strip().partition(";")
        for attr in rest.split(";"):
            if attr.strip().startswith("dur="):
                out[name] = float(attr.strip()[4:])
    return out


def fetch(port: int, params: dict) -> tuple[int, dict, float, int]:
    path = "/artifacts/?" + urllib.parse.urlencode(params)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        t0 = time.perf_counter()
        conn.request("GET", path, headers={"HX-Request": "true"})
        resp = conn.getresponse()
        body = resp.read()
        wall = (time.perf_counter() - t0) * 1000
        return resp.status, timing(resp.getheader("Server-Timing") or ""), wall, len(body)
    finally:
        conn.close()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def measure(size: int, repeat: int, port: int, workers: int) -> list[dict]:
    cmd = [str(Path(sys.executable).parent / "gunicorn"), "artifacts_app.asgi:application",
           "-k", "uvicorn_worker.UvicornWorker", "-w", str(workers), "-b", f"127.0.0.1:{port}"]  # fmt: skip
    log(f"server: {' '.join(cmd[1:])}")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=bench_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    results = []
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/api/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.3)
        for label, params in queries(size):
            search_ms, view_ms, wall_ms = [], [], []
            for n in range(repeat + 2 * workers):
                status, server, wall, length = fetch(port, params)
                if status != 200:
                    raise SystemExit(f"{label}: HTTP {status}")
                if n >= 2 * workers:  # each worker warmed twice
                    search_ms.append(server.get("search", 0.0))
                    view_ms.append(server.get("view", 0.0))
                    wall_ms.append(wall)
            row = {"query": label, "params": params, "bytes": length}
            for name, values in (("search", search_ms), ("view", view_ms), ("wall", wall_ms)):
                row[f"{name}_median_ms"] = round(statistics.median(values), 1)
                row[f"{name}_p95_ms"] = round(pct(values, 95), 1)
            results.append(row)
            log(f"{label:14} search {row['search_median_ms']:7.1f} / {row['search_p95_ms']:7.1f}"
                f"  view {row['view_median_ms']:7.1f} / {row['view_p95_ms']:7.1f}"
                f"  wall {row['wall_median_ms']:7.1f} / {row['wall_p95_ms']:7.1f} ms")  # fmt: skip
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--keep", action="store_true", help="reuse the seeded database if it is full")
    ap.add_argument("--seed-only", action="store_true")
    ap.add_argument("--repeat", type=int, default=20, help="timed requests per query")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--json", default="test-artifacts/bench_search.json")
    ap.add_argument("--sqlite", metavar="PATH", help="an SQLite file instead of PostgreSQL")
    args = ap.parse_args()
    global SQLITE_PATH
    if args.sqlite:
        SQLITE_PATH = Path(args.sqlite).resolve()
    have = seeded_count()
    if args.keep and have >= args.size:
        log(f"reusing {DB_NAME} ({have:,} versions)")
    else:
        seed(args.size)
    manage("migrate", "--noinput", "-v0")
    name_runs(args.size)
    if args.seed_only:
        return
    results = measure(args.size, args.repeat, args.port, args.workers)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"size": args.size, "repeat": args.repeat, "results": results},
                              indent=2))  # fmt: skip
    print(f"\n{args.size:,} versions, {args.repeat} requests each (ms, median / p95)")
    print(f"{'query':14} {'search':>15} {'view':>15} {'wall':>15}")
    for r in results:
        print(f"{r['query']:14} {r['search_median_ms']:7.1f} /{r['search_p95_ms']:7.1f}"
              f" {r['view_median_ms']:7.1f} /{r['view_p95_ms']:7.1f}"
              f" {r['wall_median_ms']:7.1f} /{r['wall_p95_ms']:7.1f}")  # fmt: skip


if __name__ == "__main__":
    main()

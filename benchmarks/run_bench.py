#!/usr/bin/env python3
"""Benchmark our server the way the README deploys it, on a fresh database.

Starts `gunicorn artifacts_app.asgi:application -k uvicorn_worker.UvicornWorker -w 2` on
127.0.0.1 with `REDIS_URL` (`--redis-url`, default redis://127.0.0.1:6379/0, under a key prefix of
its own) as the README deploys it (SQLite in a temp dir by default; `--postgres` creates a fresh PostgreSQL database and
drops it afterwards), migrates, creates an API token, and for each size: bulk-loads artifacts
with `manage.py bulk_seed` (artifact_load.py's distribution, plus one key with 10,000 versions and
one 100,000-row table), runs `artifact_load.py` (the shared Prefect-compatible load generator)
with the token, and times the dashboard pages. Worker RSS is sampled throughout. Prints a table,
writes JSON. Every run is bounded; the server is stopped by PID.

    .venv/bin/python benchmarks/run_bench.py                       # SQLite, 10k and 100k
    .venv/bin/python benchmarks/run_bench.py --postgres --sizes 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# ../shared/bench beside the checkout (or beside a worktree's parent folder).
SHARED_BENCH = next(
    (p / "shared" / "bench" for p in ROOT.parents if (p / "shared" / "bench").is_dir()),
    ROOT.parent / "shared" / "bench",
)
DEFAULT_LOAD = SHARED_BENCH / "artifact_load.py"
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
HISTORY_KEY, HISTORY_VERSIONS = "bench-history", 10_000
TABLE_KEY, TABLE_ROWS = "bench-big-table", 100_000
API_COLUMNS = ["rps", "p50_ms", "p99_ms", "ok", "requests"]


# ------------------------------------------------------------------------- helpers --
def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def load_module(path: Path):
    spec = importlib.util.spec_from_file_location("artifact_load", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class RssSampler(threading.Thread):
    """Largest RSS of each gunicorn worker, sampled twice a second."""

    def __init__(self, master_pid: int):
        super().__init__(daemon=True)
        self.master_pid = master_pid
        self.peak: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            self.sample()

    def sample(self) -> dict[int, float]:
        now = {}
        for pid in children(self.master_pid):
            mb = rss_mb(pid)
            if mb is not None:
                now[pid] = mb
                self.peak[pid] = max(self.peak.get(pid, 0.0), mb)
        return now

    def summary(self, reset: bool = False) -> dict:
        """Largest worker RSS now and since the last reset."""
        now = self.sample()
        out = {
            "workers": len(now),
            "now_mb": round(max(now.values()), 1) if now else None,
            "peak_mb": round(max(self.peak.values()), 1) if self.peak else None,
        }
        if reset:
            self.peak = dict(now)
        return out


def manage(env: dict, *args: str, capture: bool = True, timeout: float = 1800) -> str:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=capture,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def get_json(port: int, path: str, timeout: float = 30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": "application/json"})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, (json.loads(body) if resp.status == 200 else body)
    finally:
        conn.close()


def bulk_seed(env: dict, *args: str) -> dict:
    return json.loads(manage(env, "bulk_seed", *args).strip().splitlines()[-1])


def delete_key(port: int, key: str, token: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(
            "DELETE", f"/api/artifacts/key/{key}", headers={"Authorization": f"Bearer {token}"}
        )
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise SystemExit(f"deleting {key}: HTTP {resp.status}")
    finally:
        conn.close()


# -------------------------------------------------------------------------- database --
@contextlib.contextmanager
def fresh_database(postgres: bool, workdir: Path):
    if not postgres:
        yield f"sqlite:///{workdir / 'bench.sqlite3'}"
        return
    import psycopg

    name = f"artifacts_bench_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def vacuum_analyze(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


# ---------------------------------------------------------------------------- server --
@contextlib.contextmanager
def server(env: dict, port: int, workers: int, log_path: Path):
    cmd = [
        str(Path(sys.executable).parent / "gunicorn"),
        "artifacts_app.asgi:application",
        "-k",
        "uvicorn_worker.UvicornWorker",
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
    ]
    log(f"server: {' '.join(cmd[1:])}")
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode}; see {log_path}")
            try:
                if get_json(port, "/api/health", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not answer /api/health within 60 s")
            time.sleep(0.3)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


# ----------------------------------------------------------------------------- pages --
def time_page(load, port: int, path: str, n: int, concurrency: int) -> dict:
    """Throughput at `concurrency` connections and latency of one request at a time."""
    target = ("127.0.0.1", port, f"127.0.0.1:{port}", "")

    def make(_i):
        return "GET", path, None

    async def run():
        await load.run_requests(target, make, 5, 1, 30, None)  # warm up
        serial = await load.run_requests(target, make, n, 1, 120, None)
        loaded = await load.run_requests(target, make, n * 2, concurrency, 120, None)
        return serial, loaded

    serial, loaded = asyncio.run(run())
    return {
        "path": path,
        "statuses": serial["statuses"],
        "p50_ms": serial["p50_ms"],
        "p99_ms": serial["p99_ms"],
        "rps": loaded["rps"],
        "loaded_p50_ms": loaded["p50_ms"],
        "loaded_p99_ms": loaded["p99_ms"],
    }


def dashboard_pages(load, port: int, n: int, concurrency: int) -> dict:
    pages = {"artifacts_page": "/artifacts/", "key_page_10k": f"/artifacts/key/{HISTORY_KEY}/"}
    status, row = get_json(port, f"/api/artifacts/{TABLE_KEY}/latest")
    if status == 200:
        pages["table_page_100k"] = f"/artifacts/artifact/{row['id']}/"
    # key-102 is a progress key the `create` scenario (keys 0..99) never turns into a table.
    status, row = get_json(port, "/api/artifacts/key-102/latest")
    if status == 200:
        pages["progress_poll"] = f"/artifacts/artifact/{row['id']}/progress/"
    return {name: time_page(load, port, path, n, concurrency) for name, path in pages.items()}


def run_load(args, env, load_path, token, scenarios, label, json_out) -> dict:
    """artifact_load.py against the server on args.port; its per-scenario results."""
    log(f"load: {scenarios} x {args.requests} at c={args.concurrency}")
    subprocess.run(
        [
            sys.executable,
            str(load_path),
            "--base-url",
            f"http://127.0.0.1:{args.port}/api",
            "--scenarios",
            scenarios,
            "-n",
            str(args.requests),
            "-c",
            str(args.concurrency),
            "--max-seconds",
            str(args.max_seconds),
            "--label",
            label,
            "--json-out",
            str(json_out),
        ],
        env={**env, "ARTIFACTS_API_TOKEN": token},
        check=True,
        timeout=args.max_seconds * 8 + 120,
    )
    return json.loads(json_out.read_text())["results"]


CEILING_SCENARIOS = "create,latest,filter,filter_id"


def measure_ceiling(args, env, load_path, token, db_name, size, out_dir) -> dict:
    """The bare-Django ceiling (benchmarks/ceiling/) served by the same command on the same
    database, right after ours: requests/s for the scenarios it implements."""
    ceiling_env = {**env, "DJANGO_SETTINGS_MODULE": "benchmarks.ceiling.settings"}
    with server(ceiling_env, args.port, args.workers, out_dir / f"ceiling-{db_name}.log"):
        json_out = out_dir / f"ceiling-{db_name}-{size}.json"
        return run_load(
            args,
            ceiling_env,
            load_path,
            token,
            CEILING_SCENARIOS,
            f"ceiling-{db_name}-{size}",
            json_out,
        )


def measure(args, env, load, load_path, token, db_name, size, sampler) -> dict:
    """The API load, then the dashboard pages, on a running server."""
    entry: dict = {}
    runs = []
    for attempt in range(args.repeat):
        json_out = Path(args.out).resolve() / f"ours-{db_name}-{size}-{attempt + 1}.json"
        runs.append(
            run_load(
                args, env, load_path, token, args.scenarios, f"ours-{db_name}-{size}", json_out
            )
        )
    # Per scenario, the run with the median requests/s (the machine is shared and noisy).
    entry["api"] = {
        name: sorted((run[name] for run in runs), key=lambda r: r["ok_rps"] or 0)[len(runs) // 2]
        for name in runs[0]
    }
    if args.repeat > 1:
        entry["api_all_rps"] = {name: [run[name]["ok_rps"] for run in runs] for name in runs[0]}
    entry["rss_api"] = sampler.summary(reset=True)
    if not args.no_pages:
        # The long history and the big table exist only while pages are timed,
        # so the API load sees exactly artifact_load.py's distribution.
        log("dashboard pages")
        entry["extras"] = bulk_seed(
            env,
            "--from=0",
            "--to=0",
            f"--history={HISTORY_KEY}:{HISTORY_VERSIONS}",
            f"--big-table={TABLE_KEY}:{TABLE_ROWS}",
        )
        entry["pages"] = dashboard_pages(load, args.port, args.page_requests, args.concurrency)
        for key in (HISTORY_KEY, TABLE_KEY):
            delete_key(args.port, key, token)
    entry["rss_pages"] = sampler.summary(reset=True)
    return entry


# ------------------------------------------------------------------------------ main --
def run(args) -> dict:
    load_path = Path(args.load).resolve()
    if not load_path.exists():
        raise SystemExit(f"load generator not found at {load_path} (use --load)")
    load = load_module(load_path)
    db_name = "postgres" if args.postgres else "sqlite"
    report = {
        "label": f"ours-{db_name}",
        "database": db_name,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "requests_per_scenario": args.requests,
        "redis_url": args.redis_url,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "sizes": {},
    }
    workdir = Path(tempfile.mkdtemp(prefix="artifacts-bench-"))
    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with fresh_database(args.postgres, workdir) as url:
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "DJANGO_DEBUG": "0",
                "DJANGO_SECRET_KEY": "benchmark-only-secret-key-not-for-production-use-0123456789",
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "DJANGO_LOG_LEVEL": "WARNING",
                # As the README deploys it: throttles counted in Redis, shared by the workers.
                "REDIS_URL": args.redis_url,
                "DJANGO_CACHE_KEY_PREFIX": f"artifacts-bench-{os.getpid()}",
            }
            env.pop("ARTIFACTS_TEST_DB_SUFFIX", None)
            log(f"redis: {args.redis_url or 'none (throttles counted per process)'}")
            log(f"database: {url}")
            manage(env, "migrate", "--noinput", "-v0")
            token = manage(env, "create_api_token", "bench", "--name", "bench").strip().split()[-1]
            have = 0
            for size in args.sizes:
                log(f"seeding {have}..{size}")
                seeded = bulk_seed(env, "--from", str(have), "--to", str(size))
                have = size
                if args.postgres:
                    vacuum_analyze(url)
                log(f"seeded: {seeded}")
                # A fresh server per size: RSS and warm caches belong to this size only.
                with server(
                    env, args.port, args.workers, out_dir / f"server-{db_name}.log"
                ) as proc:
                    sampler = RssSampler(proc.pid)
                    sampler.start()
                    try:
                        entry = measure(args, env, load, load_path, token, db_name, size, sampler)
                    finally:
                        sampler.stop.set()
                if args.ceiling:
                    entry["ceiling"] = measure_ceiling(
                        args, env, load_path, token, db_name, size, out_dir
                    )
                entry["seed"] = seeded
                report["sizes"][str(size)] = entry
                print_report(report, size)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    path = out_dir / f"ours-{db_name}.json"
    path.write_text(json.dumps(report, indent=2))
    log(f"wrote {path}")
    return report


def print_report(report: dict, size: int) -> None:
    entry = report["sizes"][str(size)]
    print(f"\n== {report['label']} at {size:,} artifacts (c={report['concurrency']})")
    print(f"{'scenario':16}" + "".join(f"{c:>12}" for c in API_COLUMNS) + "  statuses")
    for name, r in entry["api"].items():
        print(
            f"{name:16}"
            + "".join(f"{str(r.get(c)):>12}" for c in API_COLUMNS)
            + f"  {r['statuses']}"
        )
    for name, r in entry.get("pages", {}).items():
        print(
            f"{name:16}{r['rps']!s:>12}{r['p50_ms']!s:>12}{r['p99_ms']!s:>12}"
            f"{'':>24}  {r['statuses']} (p50/p99 one at a time; rps at c={report['concurrency']})"
        )
    for name, r in entry.get("ceiling", {}).items():
        ours = entry["api"].get(name, {}).get("ok_rps")
        share = f"ours {100 * ours / r['ok_rps']:.0f}%" if ours and r["ok_rps"] else ""
        print(f"ceiling {name:8}{r['ok_rps']!s:>12}{r['p50_ms']!s:>12}{r['p99_ms']!s:>12}  {share}")
    print(f"worker RSS (MB) during the API load: {entry['rss_api']}")
    print(f"worker RSS (MB) during the pages: {entry.get('rss_pages')}\n", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--postgres", action="store_true", help="fresh PostgreSQL database (BENCH_POSTGRES_URL)"
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("-n", "--requests", type=int, default=1000, help="requests per scenario")
    ap.add_argument("-c", "--concurrency", type=int, default=16)
    ap.add_argument("--scenarios", default="all+")
    ap.add_argument("--repeat", type=int, default=1, help="load runs per size; median kept")
    ap.add_argument("--max-seconds", type=float, default=120, help="time bound per scenario")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers (README: 2)")
    ap.add_argument("--port", type=int, default=8150)
    ap.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="REDIS_URL of the server (the README's deploy sets one); '' for none",
    )
    ap.add_argument("--page-requests", type=int, default=50)
    ap.add_argument("--no-pages", action="store_true")
    ap.add_argument(
        "--ceiling",
        action="store_true",
        help="also load the bare-Django ceiling (benchmarks/ceiling/) after ours, per size",
    )
    ap.add_argument("--load", default=os.environ.get("ARTIFACT_LOAD", str(DEFAULT_LOAD)))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = ap.parse_args()
    if sorted(args.sizes) != args.sizes:
        raise SystemExit("--sizes must be ascending")
    run(args)


if __name__ == "__main__":
    main()

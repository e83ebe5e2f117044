#!/usr/bin/env python3
"""Server CPU per request, for choosing a server and its worker/thread counts on a noisy machine.

Starts each server command in turn on the same already-seeded database, sends one scenario of
../shared/bench/artifact_load.py through it, and reports requests/s, p99 and the CPU seconds the
server's whole process tree (master and workers) and the load generator used per request. Rounds
interleave the commands, so a busy minute hurts each alike; CPU per request moves much less
with the machine's load than requests/s does.

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python benchmarks/server_cpu.py \\
        --scenario latest --rounds 3 -n 3000 \\
        'gunicorn artifacts_app.asgi:application -k uvicorn_worker.UvicornWorker -w 2' \\
        'gunicorn artifacts_app.wsgi:application -k gthread -w 2 --threads 8' \\
        'REDIS_URL=redis://127.0.0.1:6379/0 gunicorn artifacts_app.asgi:application -k uvicorn_worker.UvicornWorker -w 2'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from run_bench import DEFAULT_LOAD, load_module  # noqa: E402


def tree_cpu_seconds(pid: int) -> float:
    """utime + stime of a process and all its live descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            with open(f"/proc/{current}/task/{current}/children") as fh:
                todo += [int(p) for p in fh.read().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


def start(command: str, port: int, env: dict) -> subprocess.Popen:
    argv = shlex.split(command)
    env = dict(env)
    while "=" in argv[0]:  # leading NAME=value settings, as in a shell
        name, _, value = argv.pop(0).partition("=")
        env[name] = value
    argv[0] = str(Path(sys.executable).parent / argv[0])
    argv += ["-b", f"127.0.0.1:{port}"] if "gunicorn" in argv[0] else ["--port", str(port)]
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit(f"{command} did not answer within 90 s")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("commands", nargs="+", help="server commands, without the bind address")
    ap.add_argument("--scenario", default="latest")
    ap.add_argument("-n", type=int, default=3000)
    ap.add_argument("-c", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--port", type=int, default=8171)
    ap.add_argument("--token", default=os.environ.get("ARTIFACTS_API_TOKEN", ""))
    ap.add_argument("--json-out", default="")
    args = ap.parse_args()
    load = load_module(DEFAULT_LOAD)
    load.AUTH_TOKEN = args.token
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "benchmark-only-secret-key-not-for-production-use-0123456789",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    target = load.parse_target(f"http://127.0.0.1:{args.port}/api")
    results: dict[str, list[dict]] = {c: [] for c in args.commands}
    for round_no in range(args.rounds):
        for command in args.commands:
            proc = start(command, args.port, env)
            try:

                async def run(proc=proc):
                    ctx = {"progress_ids": []}
                    if args.scenario == "patch":
                        ctx["progress_ids"] = await load.fetch_progress_ids(target)
                    make = load.build_scenario(args.scenario, ctx)
                    await load.run_requests(target, make, 200, args.c, 60, None)  # warm
                    before = tree_cpu_seconds(proc.pid)
                    out = await load.run_requests(target, make, args.n, args.c, 300, None)
                    out["server_cpu_s"] = tree_cpu_seconds(proc.pid) - before
                    return out

                out = asyncio.run(run())
            finally:
                stop(proc)
            out["server_cpu_us_per_request"] = round(1e6 * out["server_cpu_s"] / out["requests"])
            gen = out["gen_cpu_pct"] / 100 * out["wall_s"]
            out["load_cpu_us_per_request"] = round(1e6 * gen / out["requests"])
            results[command].append(out)
            print(
                f"round {round_no + 1} {command[:70]:70} {out['ok_rps']:8} req/s"
                f"  p99 {out['p99_ms']:7} ms  server {out['server_cpu_us_per_request']:6} us/req"
                f"  load {out['load_cpu_us_per_request']:5} us/req  {out['statuses']}",
                flush=True,
            )
    print("\nmedians:")
    for command, runs in results.items():
        print(
            f"{command[:70]:70} {statistics.median(r['ok_rps'] for r in runs):8.1f} req/s"
            f"  server {statistics.median(r['server_cpu_us_per_request'] for r in runs):6.0f} us/req"
        )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

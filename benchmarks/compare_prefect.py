#!/usr/bin/env python3
"""Prefect's server, then ours, on the same machine with the same load, and the ratios.

1. Prefect 3's own server (SQLite, `prefect server start`) through the shared runner
   `../shared/bench/prefect/run_prefect_bench.sh` (seeded with SQL, loaded with artifact_load.py).
2. Our server through `benchmarks/run_bench.py` (SQLite; `--postgres` adds a PostgreSQL run).
3. A table of requests/s and p99 per scenario and size, with ours / Prefect.

Prefect's server needs its own virtualenv (not ours: `make prefect-bench-venv` or
`python3 -m venv .venv-prefect-bench && .venv-prefect-bench/bin/pip install prefect==3.9.1`).

    .venv/bin/python benchmarks/compare_prefect.py --sizes 10000 100000 -n 1000 [--postgres]
    .venv/bin/python benchmarks/compare_prefect.py --prefect-results DIR   # reuse a Prefect run
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = next(
    (p / "shared" / "bench" for p in ROOT.parents if (p / "shared" / "bench").is_dir()),
    ROOT.parent / "shared" / "bench",
)
SCENARIOS = ["create", "latest", "filter", "filter_id", "latest_filter", "patch"]


def run_prefect(args, out: Path) -> Path:
    prefect_dir = out / "prefect"
    env = {
        **os.environ,
        "PREFECT_BIN": args.prefect_bin,
        "PY": sys.executable,
        "PORT": str(args.prefect_port),
        "N": str(args.requests),
        "C": str(args.concurrency),
        "SIZES": " ".join(str(s) for s in args.sizes),
        "SEED_MODE": "sql",
        "SCENARIOS": "all+",
    }
    print(f"== Prefect server ({args.prefect_bin}) -> {prefect_dir}", flush=True)
    subprocess.run(
        ["bash", str(SHARED / "prefect" / "run_prefect_bench.sh"), str(prefect_dir)],
        env=env,
        check=True,
        timeout=args.timeout,
    )
    return prefect_dir


def run_ours(args, out: Path, postgres: bool) -> dict:
    cmd = [
        sys.executable,
        str(ROOT / "benchmarks" / "run_bench.py"),
        "--sizes",
        *[str(s) for s in args.sizes],
        "-n",
        str(args.requests),
        "-c",
        str(args.concurrency),
        "--out",
        str(out / "ours"),
    ]
    if postgres:
        cmd.append("--postgres")
    print(f"== ours ({'PostgreSQL' if postgres else 'SQLite'})", flush=True)
    subprocess.run(cmd, check=True, timeout=args.timeout)
    name = "ours-postgres.json" if postgres else "ours-sqlite.json"
    return json.loads((out / "ours" / name).read_text())


def ratios(prefect_dir: Path, ours: dict, sizes: list[int]) -> dict:
    table: dict = {}
    for size in sizes:
        path = prefect_dir / f"results-{size}.json"
        if not path.exists():
            continue
        theirs = json.loads(path.read_text())["results"]
        mine = ours["sizes"].get(str(size), {}).get("api", {})
        for name in SCENARIOS:
            if name in theirs and name in mine:
                t, m = theirs[name], mine[name]
                table.setdefault(str(size), {})[name] = {
                    "prefect_rps": t["ok_rps"],
                    "ours_rps": m["ok_rps"],
                    "ratio": round(m["ok_rps"] / t["ok_rps"], 1) if t["ok_rps"] else None,
                    "prefect_p99_ms": t["p99_ms"],
                    "ours_p99_ms": m["p99_ms"],
                }
    return table


def print_ratios(label: str, table: dict) -> None:
    print(f"\n== {label}: requests/s (ok) and p99, ours vs Prefect 3.9.1 (SQLite), same run")
    print(
        f"{'size':>8} {'scenario':14} {'prefect':>9} {'ours':>9} {'ratio':>7}"
        f" {'prefect p99':>12} {'ours p99':>9}"
    )
    for size, rows in table.items():
        for name, r in rows.items():
            print(
                f"{int(size):>8,} {name:14} {r['prefect_rps']!s:>9} {r['ours_rps']!s:>9}"
                f" {str(r['ratio']) + 'x':>7} {r['prefect_p99_ms']!s:>12} {r['ours_p99_ms']!s:>9}"
            )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("-n", "--requests", type=int, default=1000)
    ap.add_argument("-c", "--concurrency", type=int, default=16)
    ap.add_argument("--postgres", action="store_true", help="also run ours on PostgreSQL")
    ap.add_argument("--prefect-bin", default=str(ROOT / ".venv-prefect-bench" / "bin" / "prefect"))
    ap.add_argument("--prefect-port", type=int, default=4200)
    ap.add_argument(
        "--prefect-results", help="reuse this Prefect results dir instead of running it"
    )
    ap.add_argument("--timeout", type=float, default=3600, help="bound for each server's run")
    ap.add_argument(
        "--out",
        default=str(ROOT / "benchmarks" / "results" / time.strftime("compare-%Y%m%d-%H%M%S")),
    )
    args = ap.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if args.prefect_results:
        prefect_dir = Path(args.prefect_results).resolve()
    else:
        if not Path(args.prefect_bin).exists():
            raise SystemExit(f"no Prefect CLI at {args.prefect_bin} (see this script's docstring)")
        prefect_dir = run_prefect(args, out)
    summary = {"prefect_results": str(prefect_dir), "sizes": args.sizes, "runs": {}}
    for postgres in [False, True] if args.postgres else [False]:
        ours = run_ours(args, out, postgres)
        label = "ours-postgres" if postgres else "ours-sqlite"
        summary["runs"][label] = ratios(prefect_dir, ours, args.sizes)
    for label, table in summary["runs"].items():
        print_ratios(label, table)
    (out / "compare.json").write_text(json.dumps(summary, indent=2))
    print(f"\nwrote {out / 'compare.json'}")


if __name__ == "__main__":
    main()

"""`artifacts`: the command line for shell users and CI jobs.

    artifacts ls [--all] [--type TYPE] [--json]
    artifacts inspect KEY
    artifacts delete KEY | --id ID
    artifacts create {table,markdown,link,image,progress} ...

Reads ARTIFACTS_API_URL and ARTIFACTS_API_TOKEN. Errors exit non-zero with one line on stderr."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path

from . import artifacts as api
from .errors import ArtifactsError
from .transport import ArtifactsClient, Request


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    return Path(source).read_text(encoding="utf-8")


def _table_from(source: str, fmt: str | None):
    text = _read(source)
    fmt = fmt or (
        "csv" if source.endswith(".csv") else "json" if source.endswith(".json") else None
    )
    if fmt is None:
        fmt = "json" if text.lstrip()[:1] in "[{" else "csv"
    if fmt == "json":
        return json.loads(text)
    return list(csv.DictReader(io.StringIO(text)))


def _print_rows(rows: list[dict]) -> None:
    if not rows:
        print("(no artifacts)")
        return
    width = max(len(r["key"] or "-") for r in rows)
    for row in rows:
        print(
            f"{(row['key'] or '-'):<{width}}  {row['type'] or '-':<9}  {row['updated']}  {row['id']}"
        )


def cmd_ls(args, client: ArtifactsClient) -> int:
    body: dict = {"limit": args.limit, "sort": "UPDATED_DESC"}
    if args.type:
        body["artifacts"] = {"type": {"any_": [args.type]}}
    path = "artifacts/filter" if args.all else "artifacts/latest/filter"
    rows = client.send(Request("POST", path, json=body))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_rows(rows)
    return 0


def cmd_inspect(args, client: ArtifactsClient) -> int:
    latest = client.send(Request("GET", f"artifacts/{args.key}/latest"))
    versions = client.send(
        Request(
            "POST",
            "artifacts/filter",
            json={"artifacts": {"key": {"any_": [args.key]}}, "sort": "CREATED_DESC", "limit": 200},
        )
    )
    latest["versions"] = [{"id": v["id"], "created": v["created"]} for v in versions]
    print(json.dumps(latest, indent=2))
    return 0


def cmd_delete(args, client: ArtifactsClient) -> int:
    if (args.key is None) == (args.id is None):
        raise SystemExit("artifacts delete: give a KEY or --id ID (not both)")
    deleted = api._run(api._delete(key=args.key, artifact_id=args.id), client)
    print(f"deleted {deleted} version{'s' if deleted != 1 else ''}")
    return 0


def cmd_create(args, client: ArtifactsClient) -> int:
    common = {"key": args.key, "description": args.description}
    kind = args.kind
    if kind == "table":
        plan = api._create_table(_table_from(args.source, args.format), **common)
    elif kind == "markdown":
        plan = api._create_markdown(_read(args.source), **common)
    elif kind == "link":
        plan = api._create_link(args.url, link_text=args.text, **common)
    elif kind == "image":
        plan = api._create_image(args.url, **common)
    else:
        plan = api._create_progress(args.value, **common)
    print(api._run(plan, client))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="artifacts", description="Publish and browse artifacts.")
    parser.add_argument(
        "--api-url", help="API base URL (default: $ARTIFACTS_API_URL or http://127.0.0.1:8000/api)"
    )
    parser.add_argument("--token", help="API token (default: $ARTIFACTS_API_TOKEN)")
    sub = parser.add_subparsers(dest="command", required=True)

    ls = sub.add_parser("ls", help="List the latest artifact of every key.")
    ls.add_argument(
        "--all", action="store_true", help="List every version, not only the latest per key."
    )
    ls.add_argument("--type", help="Only this artifact type.")
    ls.add_argument("--json", action="store_true", help="Print JSON.")
    ls.add_argument("--limit", type=int, default=50, help="At most this many rows (max 200).")
    ls.set_defaults(func=cmd_ls)

    inspect = sub.add_parser(
        "inspect", help="Show the latest version of KEY and its version history."
    )
    inspect.add_argument("key")
    inspect.set_defaults(func=cmd_inspect)

    delete = sub.add_parser("delete", help="Delete every version of KEY, or one version with --id.")
    delete.add_argument("key", nargs="?")
    delete.add_argument("--id", help="Delete only this version.")
    delete.set_defaults(func=cmd_delete)

    create = sub.add_parser("create", help="Create an artifact; prints its id.")
    kinds = create.add_subparsers(dest="kind", required=True)
    for kind, help_text in [
        ("table", "A table from a CSV or JSON file (or - for stdin)."),
        ("markdown", "Markdown from a file (or - for stdin)."),
        ("link", "A link."),
        ("image", "An image URL."),
        ("progress", "A progress bar value 0..100."),
    ]:
        p = kinds.add_parser(kind, help=help_text, description=help_text)
        p.add_argument("--key", help="Key (lowercase letters, digits, dashes).")
        p.add_argument("--description", help="Markdown description.")
        if kind in ("table", "markdown"):
            p.add_argument("source", help="File path, or - for stdin.")
        if kind == "table":
            p.add_argument(
                "--format",
                choices=["csv", "json"],
                help="Input format (default: from the file name).",
            )
        if kind in ("link", "image"):
            p.add_argument("url")
        if kind == "link":
            p.add_argument("--text", help="Link text.")
        if kind == "progress":
            p.add_argument("value", type=float)
    create.set_defaults(func=cmd_create)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with ArtifactsClient(api_url=args.api_url, api_token=args.token) as client:
            return args.func(args, client)
    except ArtifactsError as exc:
        print(f"artifacts: {exc.message}", file=sys.stderr)
    except (OSError, ValueError) as exc:
        print(f"artifacts: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

"""`python -m bot leads export --out FILE.csv [--days N] [--force]`: the leads with their
history. The file is written whole or not at all, never over the database or over a file
that is not an export of ours without `--force` (bot/cli/output.py)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.app import build_runtime
from bot.cli.output import OutputError, check_target, write_atomically
from bot.cli.store import require_current_schema, require_existing, sqlite_file
from bot.config import load_settings
from services.leads.export import COLUMNS, export_csv
from services.leads.stats import MAX_DAYS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("leads", help="the manager lead queue")
    actions = parser.add_subparsers(dest="leads_command", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="write every lead and its status history as CSV")
    export.add_argument("--out", type=Path, required=True, help="the CSV file to write")
    export.add_argument(
        "--days", type=int, help=f"only leads opened in the last N days (1-{MAX_DAYS})"
    )
    export.add_argument(
        "--force", action="store_true", help="overwrite --out even if it is not an export of ours"
    )
    export.set_defaults(func=run)


def _our_export(head: bytes) -> bool:
    return head.decode("utf-8-sig", errors="ignore").startswith(",".join(COLUMNS[:2]))


def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    if args.days is not None and not 1 <= args.days <= MAX_DAYS:
        print(f"--days: give a number of days from 1 to {MAX_DAYS}", file=sys.stderr)
        return 2
    settings = load_settings()
    try:
        check_target(
            out,
            "--out",
            database=sqlite_file(settings),
            ours=_our_export,
            kind="lead export",
            force=args.force,
        )
    except OutputError as error:
        print(error, file=sys.stderr)
        return 2
    require_existing(settings)
    runtime = build_runtime(settings)

    async def export() -> tuple[bytes, int]:
        async with runtime.db:
            await require_current_schema(runtime.db.conn)
            return await export_csv(runtime, args.days)

    data, count = asyncio.run(export())
    write_atomically(out, data)
    print(f"wrote {count} leads to {out}")
    return 0

"""`python -m bot loans import FILE.csv`: loans booked elsewhere, all rows or none.

The columns are documented in services/loans/imports.py. Every bad row is printed on
stderr as `line N: reason` and nothing is written; exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.app import build_runtime
from bot.cli.store import require_current_schema, require_existing
from bot.config import load_settings
from services.loans import imports as loan_import

Importer = Callable[..., Awaitable[loan_import.ImportResult]]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("loans", help="loans after disbursement")
    actions = parser.add_subparsers(dest="loans_command", metavar="ACTION", required=True)
    command = actions.add_parser(
        "import", help="book loans from a CSV file (all rows or none; see the README for columns)"
    )
    add_import_arguments(command, "a loan_ref")
    command.set_defaults(func=run)


def add_import_arguments(command: argparse.ArgumentParser, reference: str) -> None:
    command.add_argument("file", type=Path, help="the CSV file")
    command.add_argument(
        "--skip-existing",
        action="store_true",
        help=f"skip rows whose {reference} is already booked (and count them) instead of refusing",
    )


def run(args: argparse.Namespace) -> int:
    return run_import(args, loan_import.import_loans, "loans")


def run_import(args: argparse.Namespace, importer: Importer, what: str) -> int:
    """Shared by `loans import` and `payments import`: open, validate, write or report."""
    path: Path = args.file
    settings = load_settings()
    require_existing(settings)
    runtime = build_runtime(settings)

    async def work() -> loan_import.ImportResult:
        async with runtime.db:
            await require_current_schema(runtime.db.conn)
            return await importer(runtime, path, skip_existing=args.skip_existing)

    try:
        result = asyncio.run(work())
    except loan_import.ImportFileError as error:
        print(str(error), file=sys.stderr)
        return 2
    except ValueError as error:
        # A row that passed validation but conflicted while writing (someone changed the
        # same lead meanwhile): the transaction was rolled back, nothing was written.
        print(f"{path}: nothing imported: {error}", file=sys.stderr)
        return 2
    if not result.ok:
        if len(result.errors) == 1:
            print(f"{path}: {result.errors[0]}; nothing imported", file=sys.stderr)
            return 2
        for error in result.errors:
            print(f"{path}: {error}", file=sys.stderr)
        print(
            f"{path}: nothing imported ({len(result.errors)} bad row(s); fix them and run again)",
            file=sys.stderr,
        )
        return 2
    skipped = f"; skipped {result.skipped} already imported" if result.skipped else ""
    print(f"imported {result.written} {what} from {path}{skipped}")
    return 0

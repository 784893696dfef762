"""`python -m bot sources add NAME --bot USERNAME [--qr FILE.png]` and `sources list`.

The same as /sources in chat, for whoever prepares the printed stands: creates the named
lead source (or finds the existing one of that name) and prints its deep link; `--qr`
writes the QR code picture. The bot's username (what t.me links need) comes from `--bot`
or TELEGRAM_BOT_USERNAME. Bad input exits 2 with one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.app import build_runtime
from bot.cli.quote import one_line_errors
from bot.config import load_settings
from services import sources
from storage.migrations import MigrationError, current_version, latest_version, migrate


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sources", help="lead sources: deep links and QR codes")
    one_line_errors(parser)
    actions = parser.add_subparsers(dest="sources_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="create a named source and print its link")
    one_line_errors(add)
    add.add_argument("name", metavar="NAME", help='e.g. "Shanghai Auto Show 2026"')
    add.add_argument("--qr", type=Path, help="also write the link's QR code as a PNG here")
    listing = actions.add_parser("list", help="every source with its link")
    one_line_errors(listing)
    for action in (add, listing):
        action.add_argument("--bot", help="the bot's username (default TELEGRAM_BOT_USERNAME)")
    add.set_defaults(func=run_add)
    listing.set_defaults(func=run_list)


def _username(args: argparse.Namespace) -> str | None:
    name = (args.bot or load_settings().telegram_bot_username or "").strip().lstrip("@")
    return name or None


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


def run_add(args: argparse.Namespace) -> int:
    username = _username(args)
    if username is None:
        return _fail("--bot: give the bot's username (or set TELEGRAM_BOT_USERNAME)")
    if args.qr is not None and not args.qr.parent.is_dir():
        return _fail(f"--qr: directory {args.qr.parent} does not exist")
    try:
        sources.clean_name(args.name)
    except sources.SourceError as error:
        return _fail(f"NAME: {error}")
    runtime = build_runtime(load_settings())

    async def add() -> sources.Source:
        async with runtime.db:
            await migrate(runtime.db.conn)
            return await sources.create_source(runtime, args.name)

    try:
        source = asyncio.run(add())
    except MigrationError as error:
        return _fail(f"DATABASE_PATH: {error}")
    link = source.link(username)
    print(f"{'created' if source.created else 'exists'}: {source.name}")
    print(link)
    if args.qr is not None:
        args.qr.write_bytes(sources.qr_png(link))
        print(f"QR code written to {args.qr}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    username = _username(args)
    if username is None:
        return _fail("--bot: give the bot's username (or set TELEGRAM_BOT_USERNAME)")
    settings = load_settings()
    if not Path(settings.database_path).is_file():
        return _fail(f"DATABASE_PATH: {settings.database_path} does not exist")
    runtime = build_runtime(settings)

    async def listing() -> list[sources.Source]:
        async with runtime.db:
            if await current_version(runtime.db.conn) < latest_version():
                raise MigrationError("database needs `python -m bot migrate` first")
            return await sources.list_sources(runtime)

    try:
        listed = asyncio.run(listing())
    except MigrationError as error:
        return _fail(f"DATABASE_PATH: {error}")
    for source in listed:
        print(f"{source.name}\t{source.link(username)}")
    return 0

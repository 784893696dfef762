"""`python -m bot sources add NAME --bot USERNAME [--slug CODE] [--qr FILE.png|.svg]` and
`sources list`.

The same as /sources in chat, for whoever prepares the printed stands: creates the named
lead source (or finds the existing one of that name) and prints its deep link; `--qr`
writes the QR code picture (at least 1,000 px, or SVG). The bot's username (what t.me
links need) comes from `--bot` or TELEGRAM_BOT_USERNAME. Everything is checked before the
source is saved; bad input exits 2 with one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.app import build_runtime
from bot.cli.output import OutputError, check_target, write_atomically
from bot.cli.store import require_current_schema, require_existing, sqlite_file
from bot.config import Settings, load_settings
from services.leads import sources
from storage.db import check_database_file
from storage.migrations import migrate


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sources", help="lead sources: deep links and QR codes")
    actions = parser.add_subparsers(dest="sources_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="create a named source and print its link")
    add.add_argument("name", metavar="NAME", help='e.g. "Shanghai Auto Show 2026"')
    add.add_argument(
        "--qr", type=Path, help="also write the link's QR code here (.png, 1000 px or more; .svg)"
    )
    add.add_argument(
        "--slug", help="the link's start parameter (default: from the name, Chinese as pinyin)"
    )
    add.add_argument("--force", action="store_true", help="overwrite --qr even if not ours")
    listing = actions.add_parser("list", help="every source with its link")
    for action in (add, listing):
        action.add_argument("--bot", help="the bot's username (default TELEGRAM_BOT_USERNAME)")
    add.set_defaults(func=run_add)
    listing.set_defaults(func=run_list)


# What each --qr suffix is written as, and how a file of ours begins.
QR_KINDS = {
    ".png": (sources.qr_png, lambda head: head.startswith(b"\x89PNG")),
    ".svg": (sources.qr_svg, lambda head: b"<svg" in head or head.startswith(b"<?xml")),
}


def _username(args: argparse.Namespace, settings: Settings) -> str:
    """`--bot`, else TELEGRAM_BOT_USERNAME, checked by Telegram's rules."""
    option = "--bot" if args.bot else "TELEGRAM_BOT_USERNAME"
    text = args.bot or settings.telegram_bot_username
    if not text:
        raise sources.SourceError(
            "no_username", "--bot: give the bot's username (or set TELEGRAM_BOT_USERNAME)"
        )
    try:
        return sources.bot_username(text)
    except sources.SourceError as error:
        raise sources.SourceError(error.code, f"{option}: {error}") from None


def _fail(message: object) -> int:
    print(message, file=sys.stderr)
    return 2


def _check_qr(args: argparse.Namespace, settings: Settings) -> None:
    if args.qr is None:
        return
    if args.qr.suffix.lower() not in QR_KINDS:
        raise OutputError(f"--qr: give a .png or .svg file name, got {args.qr.name!r}")
    check_target(
        args.qr,
        "--qr",
        database=sqlite_file(settings),
        ours=QR_KINDS[args.qr.suffix.lower()][1],
        kind="QR picture",
        force=args.force,
    )


def run_add(args: argparse.Namespace) -> int:
    """Check everything (username, name, slug, QR target, database) before saving."""
    settings = load_settings()
    try:
        username = _username(args, settings)
    except sources.SourceError as error:
        return _fail(error)
    checks = (
        ("NAME", lambda: sources.clean_name(args.name)),
        ("--slug", lambda: args.slug is None or sources.check_code(args.slug)),
    )
    for option, check in checks:
        try:
            check()
        except sources.SourceError as error:
            return _fail(f"{option}: {error}")
    try:
        _check_qr(args, settings)
    except OutputError as error:
        return _fail(error)
    if sqlite_file(settings) is not None:
        check_database_file(settings.database_path)
    runtime = build_runtime(settings)

    async def add() -> sources.Source:
        async with runtime.db:
            await migrate(runtime.db.conn)
            return await sources.create_source(runtime, args.name, code=args.slug)

    try:
        source = asyncio.run(add())
    except sources.SourceError as error:
        return _fail(f"--slug: {error}")
    link = source.link(username)
    print(f"{'created' if source.created else 'exists'}: {source.name}")
    print(link)
    if args.qr is not None:
        write_atomically(args.qr, QR_KINDS[args.qr.suffix.lower()][0](link))
        print(f"QR code written to {args.qr}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        username = _username(args, settings)
    except sources.SourceError as error:
        return _fail(error)
    require_existing(settings)
    runtime = build_runtime(settings)

    async def listing() -> list[sources.Source]:
        async with runtime.db:
            await require_current_schema(runtime.db.conn)
            return await sources.list_sources(runtime)

    listed = asyncio.run(listing())
    for source in listed:
        print(f"{source.name}\t{source.link(username)}")
    return 0

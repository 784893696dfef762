"""`python -m bot demo [--script FILE] [--tour]`: the bot offline, against the sandbox."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="talk to the bot offline (no token), or play a script or the tour"
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--script", type=Path, metavar="FILE", help="read input lines from FILE")
    source.add_argument("--tour", action="store_true", help="play the built-in journey")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.demo import run_demo
    from bot.sandbox.tour import TOUR_STEPS

    lines: list[str] | None = None
    if args.tour:
        lines = TOUR_STEPS
    elif args.script is not None:
        try:
            lines = args.script.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            print(f"--script: cannot read {args.script}: {error.strerror}")
            return 2
    database = os.environ.get("DATABASE_PATH")
    locale = os.environ.get("DEFAULT_LOCALE") or "en"
    if locale not in ("en", "zh"):
        print(f"DEFAULT_LOCALE: expected en or zh, got {locale!r}")
        return 2
    return asyncio.run(
        run_demo(lines, database_path=Path(database) if database else None, default_locale=locale)
    )

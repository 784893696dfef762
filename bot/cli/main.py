"""The command line's entry point: one subcommand per module listed in SUBCOMMANDS."""

from __future__ import annotations

import argparse
import importlib
import sys

from bot.config import ConfigError

# Each module is bot.cli.<name> and exposes register(subparsers).
SUBCOMMANDS = [
    "run",
    "database",
    "quote",
    "assess",
    "policy",
    "demo",
    "leads",
    "loans",
    "payments",
    "sources",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Car-loan assistant for Telegram."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"bot.cli.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"bot.cli.{name}":
                raise
            continue  # a subcommand still being built; its module lands separately
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

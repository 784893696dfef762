"""The command line's entry point: one subcommand per module listed in SUBCOMMANDS."""

from __future__ import annotations

import argparse
import importlib
import sys

from bot.config import ConfigError
from lending.policy import PolicyError

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
        importlib.import_module(f"bot.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    except PolicyError as error:
        # The policy the bot would run with (POLICY_PATH, or the default) is unusable.
        print(f"POLICY_PATH: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

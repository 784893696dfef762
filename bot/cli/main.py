"""The command line's entry point: one subcommand per module listed in SUBCOMMANDS."""

from __future__ import annotations

import argparse
import importlib
import os
import sqlite3
import sys
from typing import NoReturn

from bot.config import ConfigError, load_settings
from lending.policy import PolicyError
from storage.db import DatabaseFileError, locked_message
from storage.migrations import MigrationError

# Each module is bot.cli.<name> and exposes register(subparsers).
SUBCOMMANDS = [
    "run",
    "status",
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


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line on stderr, exit 2, for every subcommand (subparsers are
    made of their parent's class)."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message}", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m bot", description="Car-loan assistant for Telegram.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(f"bot.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; whatever goes wrong ends as one line on stderr, never a traceback."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at interpreter exit
        return status
    except (ConfigError, DatabaseFileError) as error:
        print(error, file=sys.stderr)
        return 2
    except MigrationError as error:
        # An older, newer or unmigratable schema, from whichever command met it.
        database = "DATABASE_URL" if _setting("database_url") else "DATABASE_PATH"
        print(f"{database}: {error}", file=sys.stderr)
        return 2
    except PolicyError as error:
        # The policy the bot would run with (POLICY_PATH, or the default) is unusable.
        print(f"POLICY_PATH: {error}", file=sys.stderr)
        return 2
    except sqlite3.OperationalError as error:
        if "locked" not in str(error):
            return _unexpected(error)
        print(locked_message(_setting("database_path") or "the database"), file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `python -m bot quote ... | head`: the reader has what it wanted. Point stdout at
        # /dev/null so the interpreter's last flush does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # what a shell reports for a command ended by SIGPIPE
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - the promise is one line, never a traceback
        return _unexpected(error)


def _unexpected(error: BaseException) -> int:
    """A fault of ours, not of the input: one line, status 1 (set LOG_LEVEL=DEBUG to see
    where it came from)."""
    if _setting("log_level") == "DEBUG":
        raise error
    print(f"internal error: {type(error).__name__}: {error}", file=sys.stderr)
    return 1


def _setting(name: str) -> object:
    """One setting for an error message, None when the settings themselves are bad."""
    try:
        return getattr(load_settings(), name)
    except ConfigError:
        return None

"""`python -m bot policy check FILE.toml`: validate a lending policy and say what it means.

Exit 0 and a plain-words summary when the file is good; exit 2 and one line naming the
file and the field when it is not, so a bad policy never reaches a running bot.
`python -m bot policy whatif NEW.toml [--days 90]` shows how the stored applications'
decisions would change under NEW.toml, reading the database read-only.
"""

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.cli.quote import one_line_errors
from bot.cli.store import require_existing
from bot.config import load_settings
from lending.policy import PolicyError, load_policy
from lending.policy_checks import policy_problems
from lending.policy_summary import describe_policy
from services.applications.whatif import (
    read_only_uri,
    report_json,
    table_lines,
    what_if_file,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `policy check`."""
    parser = subparsers.add_parser("policy", help="lending policy files")
    one_line_errors(parser)
    actions = parser.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate a policy file and summarize it")
    one_line_errors(check)
    check.add_argument("file", metavar="FILE.toml")
    check.set_defaults(func=run)
    # Issue 10: re-assess a period's applications under another policy; writes nothing.
    whatif = actions.add_parser("whatif", help="how decisions would change under a new policy")
    one_line_errors(whatif)
    whatif.add_argument("file", metavar="NEW.toml")
    whatif.add_argument("--days", type=int, default=90, help="applications of the last N days")
    whatif.add_argument("--json", action="store_true", help="print JSON")
    whatif.set_defaults(func=run_whatif)


def run(args: argparse.Namespace) -> int:
    """Validate `args.file`; print the summary or the one-line error."""
    try:
        policy = load_policy(args.file, checked=False)
    except PolicyError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    problems = policy_problems(policy)
    for problem in problems:
        print(f"{Path(args.file).name}: {problem}", file=sys.stderr)
    if problems:
        return 2
    print(f"{args.file}: OK")
    for line in describe_policy(policy):
        print(line)
    return 0


def run_whatif(args: argparse.Namespace) -> int:
    """Print the what-if table for the stored applications; exit 2 on bad input."""
    if not 1 <= args.days <= 3650:
        print(f"--days: give a number of days from 1 to 3650, got {args.days}", file=sys.stderr)
        return 2
    try:
        policy = load_policy(args.file)
    except PolicyError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    settings = load_settings()
    require_existing(settings)
    now = datetime.now(UTC)
    database = settings.database  # DATABASE_URL when set, else the SQLite file
    if isinstance(database, Path):
        database = read_only_uri(database)
    # A read-only transaction on PostgreSQL, a read-only connection on SQLite.
    report = asyncio.run(what_if_file(database, policy, days=args.days, now=now, tz=settings.tz))
    if args.json:
        print(json.dumps(report_json(report), indent=2))
    else:
        print("\n".join(table_lines(report)))
    return 0

"""`python -m bot policy check FILE.toml`: validate a lending policy and say what it means.

Exit 0 and a plain-words summary when the file is good; exit 2 and one line naming the
file and the field when it is not, so a bad policy never reaches a running bot.
"""

import argparse
import sys

from bot.cli.quote import one_line_errors
from lending.policy import PolicyError, load_policy
from lending.policy_summary import describe_policy


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `policy check`."""
    parser = subparsers.add_parser("policy", help="lending policy files")
    one_line_errors(parser)
    actions = parser.add_subparsers(dest="policy_command", required=True)
    check = actions.add_parser("check", help="validate a policy file and summarize it")
    one_line_errors(check)
    check.add_argument("file", metavar="FILE.toml")
    check.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate `args.file`; print the summary or the one-line error."""
    try:
        policy = load_policy(args.file)
    except PolicyError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"{args.file}: OK")
    for line in describe_policy(policy):
        print(line)
    return 0

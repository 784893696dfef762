"""`python -m bot payments import FILE.csv`: payments received, all rows or none.

The columns are documented in services/loans/imports.py; bad rows are printed as
`line N: reason` on stderr and nothing is written (exit status 2).
"""

from __future__ import annotations

import argparse

from bot.cli.loans import add_import_arguments, run_import
from services.loans import imports as loan_import


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("payments", help="repayments received")
    actions = parser.add_subparsers(dest="payments_command", metavar="ACTION", required=True)
    command = actions.add_parser("import", help="record payments from a CSV file (all or none)")
    add_import_arguments(command, "payment_ref")
    command.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_import(args, loan_import.import_payments, "payments")

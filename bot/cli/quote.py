"""`python -m bot quote`: a repayment schedule and its annualized rate, no policy involved.

What a manager types to answer "what would 140,000 over 36 months cost me?":
    python -m bot quote --price 200000 --down 60000 --term 36 --rate 4.5 --fee 1400
Prints a table, or with `--json` the schedule with money as decimal strings. With
`--compare` it prints the three repayment methods side by side instead (lending.comparison).
Bad input exits 2 with one line naming the option.
"""

import argparse
import json
import sys
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

from lending.apr import APR_CONVENTION, annualized_rate
from lending.bounds import MAX_RATE_PERCENT, MAX_TERM_MONTHS, MIN_LOAN, amount_problem
from lending.comparison import Comparison, compare_methods
from lending.money import HUNDRED, money
from lending.policy import Balloon
from lending.schedule import RepaymentMethod, Schedule, build_schedule


class InputError(ValueError):
    """Bad command-line input; the message names the option."""


def one_line_errors(parser: argparse.ArgumentParser) -> None:
    """Make argparse report a usage error as one line on stderr, exit 2 (no usage dump)."""

    def error(message: str) -> NoReturn:
        print(f"{parser.prog}: {message}", file=sys.stderr)
        sys.exit(2)

    parser.error = error  # type: ignore[method-assign]


def parse_amount(text: str, option: str) -> Decimal:
    """ "200000", "200,000" or "¥200000" as a Decimal; anything else names the option."""
    cleaned = text.strip().replace(",", "").replace("¥", "").replace("_", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InputError(f"{option}: expected a number, got {text!r}") from None
    if not value.is_finite():
        raise InputError(f"{option}: expected a finite number, got {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `quote`."""
    parser = subparsers.add_parser("quote", help="repayment schedule and annualized rate")
    one_line_errors(parser)
    parser.add_argument("--price", required=True, help="car price, yuan")
    parser.add_argument("--down", required=True, help="down payment, yuan")
    parser.add_argument("--term", required=True, help="term in months")
    parser.add_argument("--rate", required=True, help="annual rate, percent (4.5 = 4.5%%)")
    parser.add_argument("--method", default="annuity", choices=[m.value for m in RepaymentMethod])
    parser.add_argument("--balloon", default=None, help="balloon, percent of the price")
    parser.add_argument("--fee", default="0", help="upfront fee, yuan (raises the APR)")
    parser.add_argument("--start", default=None, help="payout date YYYY-MM-DD (default today)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--compare", action="store_true", help="the three repayment methods side by side"
    )
    parser.set_defaults(func=run)


def build_quote(args: argparse.Namespace) -> dict[str, Any]:
    """Validate the options and compute the quote as a JSON-ready dict."""
    principal, rate, term, start, method, balloon, fee = quote_inputs(args)
    schedule = build_schedule(principal, rate, term, start, method, balloon)
    return quote_json(schedule, _apr(principal, fee, schedule.payments), fee)


def _apr(principal: Decimal, fee: Decimal, payments: list[Decimal]) -> Decimal:
    """The annualized rate with the fee; a fee so large it has none is the fee's fault."""
    try:
        return annualized_rate(principal - money(fee), payments)
    except ValueError:
        raise InputError(
            f"--fee: {fee} on a loan of {principal} makes the annualized rate absurd;"
            " a fee is usually a few percent of the loan"
        ) from None


def quote_inputs(
    args: argparse.Namespace,
) -> tuple[Decimal, Decimal, int, date, RepaymentMethod, Decimal, Decimal]:
    """The validated options: principal, rate, term, start, method, balloon amount, fee."""
    compare = getattr(args, "compare", False)
    price = parse_amount(args.price, "--price")
    down = parse_amount(args.down, "--down")
    rate = parse_amount(args.rate, "--rate")
    fee = parse_amount(args.fee, "--fee")
    try:
        term = int(args.term)
    except ValueError:
        raise InputError(f"--term: expected a whole number of months, got {args.term!r}") from None
    for option, value, minimum in (
        ("--price", price, MIN_LOAN),
        ("--down", down, 0),
        ("--fee", fee, 0),
    ):
        problem = amount_problem(value, minimum=Decimal(minimum))
        if problem:
            raise InputError(f"{option}: {problem}")
    if down >= price:
        raise InputError(f"--down: must be less than the price {args.price}, got {args.down}")
    if price - down < MIN_LOAN:
        raise InputError(
            f"--down: leaves a loan of {price - down}; a loan is at least {MIN_LOAN:,} yuan"
        )
    if not 1 <= term <= MAX_TERM_MONTHS:
        raise InputError(f"--term: must be between 1 and {MAX_TERM_MONTHS} months, got {args.term}")
    if not 0 <= rate <= MAX_RATE_PERCENT:
        raise InputError(
            f"--rate: must be a percent between 0 and {MAX_RATE_PERCENT}, got {args.rate}"
        )
    method = RepaymentMethod(args.method)
    balloon_pct = Decimal(0)
    # A comparison always has a balloon column, so --balloon is allowed with it.
    if method is RepaymentMethod.BALLOON or compare:
        balloon_pct = (
            Balloon().default_percent
            if args.balloon is None
            else parse_amount(args.balloon, "--balloon")
        )
        if not 0 <= balloon_pct <= 100:
            raise InputError(f"--balloon: must be a percent from 0 to 100, got {args.balloon}")
    elif args.balloon is not None:
        raise InputError("--balloon: only applies with --method balloon")
    principal = money(price - down)
    balloon = money(price * balloon_pct / HUNDRED)
    if not 0 <= balloon <= principal:
        raise InputError(
            f"--balloon: {balloon_pct}% of the price is more than the loan {principal}"
        )
    if not 0 <= fee < principal:
        raise InputError(f"--fee: must be at least 0 and less than the loan, got {args.fee}")
    try:
        start = date.fromisoformat(args.start) if args.start else date.today()
    except ValueError:
        raise InputError(f"--start: expected a date like 2026-01-31, got {args.start!r}") from None
    if not date(2000, 1, 1) <= start <= date(2099, 12, 31):
        raise InputError(f"--start: expected a date from 2000 to 2099, got {args.start}")
    return principal, rate, term, start, method, balloon, fee


def build_comparison(args: argparse.Namespace) -> dict[str, Any]:
    """`--compare`: the same loan under each method, as a JSON-ready dict."""
    principal, rate, term, start, _method, balloon, fee = quote_inputs(args)
    comparison = compare_methods(principal, rate, term, start, balloon)
    for row in comparison.rows:
        _apr(principal, fee, row.schedule.payments)  # an absurd fee is one line, not a crash
    return comparison_json(comparison, fee)


def comparison_json(comparison: Comparison, fee: Decimal) -> dict[str, Any]:
    """The stable JSON shape of `quote --compare --json`."""
    received = comparison.principal - money(fee)
    return {
        "principal": str(comparison.principal),
        "annual_rate": str(comparison.annual_rate),
        "term_months": comparison.term_months,
        "upfront_fee": str(money(fee)),
        "least_interest": comparison.least_interest.value,
        "methods": [
            {
                "method": row.method.value,
                "first_payment": str(row.first_payment),
                "last_payment": str(row.last_payment),
                "remaining_at_end": str(row.remaining_at_end),
                "final_payment": str(row.final_payment),
                "total_interest": str(row.total_interest),
                "total_paid": str(row.total_paid),
                "apr": str(annualized_rate(received, row.schedule.payments)),
                "suits": row.suits("en"),
            }
            for row in comparison.rows
        ],
    }


def render_comparison(data: dict[str, Any]) -> str:
    """The comparison as a plain-text table, one column per method."""
    methods = data["methods"]
    rows = [
        ("", [m["method"] for m in methods]),
        ("first payment", [m["first_payment"] for m in methods]),
        ("last payment", [m["last_payment"] for m in methods]),
        ("balloon at end", [m["remaining_at_end"] for m in methods]),
        ("total interest", [m["total_interest"] for m in methods]),
        ("total paid", [m["total_paid"] for m in methods]),
        ("APR %", [m["apr"] for m in methods]),
    ]
    lines = [
        f"Loan {data['principal']} at {data['annual_rate']}% a year over "
        f"{data['term_months']} months; least interest: {data['least_interest']}",
        "",
    ]
    lines += [f"{title:<15}" + "".join(f"{v:>17}" for v in values) for title, values in rows]
    lines.append("")
    lines += [f"{m['method']}: {m['suits']}" for m in methods]
    lines.append(APR_CONVENTION)
    return "\n".join(lines)


def quote_json(schedule: Schedule, apr: Decimal, fee: Decimal) -> dict[str, Any]:
    """The schedule as the stable JSON shape of `quote --json`."""
    return {
        "principal": str(schedule.principal),
        "annual_rate": str(schedule.annual_rate),
        "apr": str(apr),
        "method": schedule.method.value,
        "term_months": schedule.term_months,
        "upfront_fee": str(money(fee)),
        "balloon_amount": str(schedule.balloon_amount),
        "monthly_payment": str(schedule.monthly_payment),
        "final_payment": str(schedule.final_payment),
        "total_interest": str(schedule.total_interest),
        "total_paid": str(schedule.total_paid),
        "installments": [
            {
                "n": i.n,
                "due_date": i.due_date.isoformat(),
                "payment": str(i.payment),
                "principal": str(i.principal),
                "interest": str(i.interest),
                "balance": str(i.balance),
            }
            for i in schedule.installments
        ],
    }


def render_table(quote: dict[str, Any]) -> str:
    """A plain-text table for the terminal."""
    lines = [
        f"Loan {quote['principal']} at {quote['annual_rate']}% a year "
        f"({quote['method']}, {quote['term_months']} months); APR {quote['apr']}%",
        f"Monthly payment {quote['monthly_payment']}, final payment {quote['final_payment']}, "
        f"total interest {quote['total_interest']}, total paid {quote['total_paid']}",
        APR_CONVENTION,
        "",
        f"{'#':>3}  {'due':<10}  {'payment':>12}  {'principal':>12}  {'interest':>10}  {'balance':>12}",
    ]
    for i in quote["installments"]:
        lines.append(
            f"{i['n']:>3}  {i['due_date']:<10}  {i['payment']:>12}  {i['principal']:>12}  "
            f"{i['interest']:>10}  {i['balance']:>12}"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the quote; exit 2 with one line on bad input."""
    try:
        quote = build_comparison(args) if args.compare else build_quote(args)
    except InputError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    render = render_comparison if args.compare else render_table
    print(json.dumps(quote, ensure_ascii=False, indent=2) if args.json else render(quote))
    return 0

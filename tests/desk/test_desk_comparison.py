"""Compare methods: every figure is the lending engine's own schedule, in both locales."""

import argparse
import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import numpy_financial as npf
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import quote as quote_cli
from lending.answers import parse_answers
from lending.assessment import assess
from lending.comparison import METHODS, compare_for_answers, compare_methods, suits_text
from lending.policy import load_policy
from lending.schedule import RepaymentMethod, build_schedule

START = date(2026, 3, 3)
ANSWERS = {
    "vehicle_condition": "new",
    "powertrain": "fuel",
    "use": "personal",
    "price": 200000,
    "down_payment": 60000,
    "term_months": 36,
    "method": "annuity",
    "employment": "salaried",
    "employment_months": 36,
    "monthly_income": 20000,
    "monthly_debt": 0,
    "credit_history": "clean",
    "age": 35,
}


def test_a_known_loan_reads_like_the_schedules() -> None:
    comparison = compare_methods(Decimal(140000), Decimal("4.5"), 36, START, Decimal(60000))
    annuity = comparison.row("annuity")
    assert annuity.first_payment == Decimal("4164.57")
    assert annuity.total_interest == Decimal("9924.50")
    equal = comparison.row("equal-principal")
    assert equal.first_payment > equal.last_payment  # falling payments
    balloon = comparison.row("balloon")
    assert balloon.remaining_at_end == Decimal("60000.00")
    assert balloon.final_payment == balloon.last_payment + Decimal(60000)
    assert comparison.least_interest is RepaymentMethod.EQUAL_PRINCIPAL
    assert comparison.lowest_first_payment is RepaymentMethod.BALLOON


def _fen(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    principal=st.integers(10_000, 800_000),
    rate=st.decimals(min_value=0, max_value=15, places=2),
    term=st.sampled_from([12, 24, 36, 48, 60]),
    balloon_share=st.integers(0, 40),
)
def test_every_figure_matches_numpy_financial(principal, rate, term, balloon_share) -> None:
    """Independent oracle: numpy-financial's payment and balances, and the closed forms.

    The first payment is the level payment rounded to the fen; totals may differ from the
    unrounded figures by the fen roundings of each line (at most a fen a month)."""
    loan = Decimal(principal)
    lump = (loan * balloon_share / 100).quantize(Decimal("0.01"))
    comparison = compare_methods(loan, rate, term, START, lump)
    assert [r.method for r in comparison.rows] == list(METHODS)
    r = float(rate) / 1200
    tolerance = Decimal("0.01") * term
    for row in comparison.rows:
        fv = float(lump) if row.method == "balloon" else 0.0
        if row.method == "equal-principal":
            # The principal part and the first month's interest, each rounded half-up.
            first = _fen(float(loan) / term) + _fen(float(loan) * r)
            interest = loan * Decimal(rate) / 1200 * (term + 1) / 2
            assert row.first_payment == first
        else:
            level = float(-npf.pmt(r, term, float(loan), -fv)) if r else (principal - fv) / term
            assert row.first_payment == _fen(level)
            interest = Decimal(repr(level)) * term + Decimal(repr(fv)) - loan
        assert abs(row.total_interest - interest) <= tolerance
        assert row.total_paid == loan + row.total_interest
        assert row.remaining_at_end == (lump if row.method == "balloon" else 0)
        assert row.final_due_date == date(2026 + term // 12, 3, 3)  # term months after START
        if row.method == "balloon":
            assert abs(row.final_payment - (lump + row.last_payment)) == 0
            assert abs(row.final_payment - Decimal(repr(level)) - lump) <= tolerance


def test_buyer_comparison_uses_their_offered_rate_and_policy_balloon() -> None:
    policy = load_policy()
    answers = parse_answers(ANSWERS)
    assessment = assess(answers, policy, START)
    comparison = compare_for_answers(answers, policy, START)
    assert comparison.annual_rate == assessment.annual_rate
    assert comparison.row("annuity").schedule.payments == assessment.schedule.payments
    # The balloon column uses the policy's default share of the price (30% of 200,000).
    assert comparison.row("balloon").remaining_at_end == Decimal("60000.00")
    assert all(row.decision is not None for row in comparison.rows)


def test_suits_lines_exist_in_both_locales() -> None:
    for method in METHODS:
        en, zh = suits_text(method, "en"), suits_text(method, "zh")
        assert en and zh and en != zh


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bot")
    quote_cli.register(parser.add_subparsers(dest="command", required=True))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return args.func(args)


def test_quote_compare_json_matches_the_engine(capsys) -> None:
    argv = ["quote", "--price", "200000", "--down", "60000", "--term", "36", "--rate", "4.5"]
    assert _cli([*argv, "--compare", "--json", "--start", "2026-03-03", "--balloon", "25"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_method = {m["method"]: m for m in data["methods"]}
    for method in METHODS:
        lump = Decimal(50000) if method is RepaymentMethod.BALLOON else Decimal(0)
        schedule = build_schedule(Decimal(140000), Decimal("4.5"), 36, START, method, lump)
        assert by_method[method.value]["first_payment"] == str(schedule.monthly_payment)
        assert by_method[method.value]["total_interest"] == str(schedule.total_interest)
        assert by_method[method.value]["final_payment"] == str(schedule.final_payment)
    assert _cli([*argv, "--compare"]) == 0
    assert "equal-principal" in capsys.readouterr().out


def test_quote_compare_bad_input_is_one_line(capsys) -> None:
    argv = ["quote", "--price", "200000", "--down", "60000", "--term", "36", "--rate", "4.5"]
    assert _cli([*argv, "--compare", "--balloon", "90"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("--balloon:") and "\n" not in err

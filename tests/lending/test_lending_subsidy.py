"""The car-loan interest subsidy, month by month as the programme pays it.

Hand-worked: a 12,000 loan in equal principal parts of 1,000 opens its months with
12,000, 11,000, ..., 1,000 owed. One point a year on those is balance / 1,200 a month:
10.00, 9.17, 8.33, 7.50, 6.67, 5.83, 5.00, 4.17, 3.33, 2.50, 1.67, 0.83 (total 65.00).
A month counts when all its days (payout or due date to the day before the next) lie in
the programme's periods.
"""

from datetime import date
from decimal import Decimal

import numpy_financial as npf

from lending.answers import parse_answers
from lending.assessment import Decision, assess
from lending.policy import Policy, Subsidy
from lending.subsidy import estimate_subsidy

OPENING = [Decimal(12000 - 1000 * k) for k in range(12)] + [Decimal(0)]
MONTHLY = [
    Decimal(v) for v in "10.00 9.17 8.33 7.50 6.67 5.83 5.00 4.17 3.33 2.50 1.67 0.83".split()
]
YEAR_2026 = {"periods": [{"start": date(2026, 1, 1), "end": date(2026, 12, 31)}]}


def programme(**changes: object) -> Subsidy:
    return Subsidy.model_validate({"lender_participates": True, **YEAR_2026, **changes})


def test_signed_on_the_first_day_of_the_period_every_month_counts():
    estimate = estimate_subsidy(OPENING, Decimal("3.8"), date(2026, 1, 1), programme())
    assert estimate is not None
    assert estimate.amount == sum(MONTHLY) == Decimal("65.00")
    assert estimate.months == 12
    assert estimate.until == date(2026, 12, 31)  # the 12th month runs 1 Dec to 31 Dec


def test_signed_in_the_middle_the_month_that_runs_past_the_end_is_left_out():
    """Paid out 15 June: the months opening 15 June ... 15 November end by 14 December; the
    one opening 15 December runs to 14 January, past the period."""
    estimate = estimate_subsidy(OPENING, Decimal("3.8"), date(2026, 6, 15), programme())
    assert estimate is not None
    assert estimate.amount == sum(MONTHLY[:6]) == Decimal("47.50")
    assert (estimate.months, estimate.until) == (6, date(2026, 12, 14))


def test_signed_in_the_last_month_of_the_period():
    first_day = estimate_subsidy(OPENING, Decimal("3.8"), date(2026, 12, 1), programme())
    assert first_day is not None
    assert (first_day.amount, first_day.months) == (Decimal("10.00"), 1)
    assert estimate_subsidy(OPENING, Decimal("3.8"), date(2026, 12, 2), programme()) is None
    assert estimate_subsidy(OPENING, Decimal("3.8"), date(2027, 1, 1), programme()) is None


def test_paid_out_before_the_period_counts_only_the_months_inside_it():
    """Paid out 1 October 2025: the months opening 1 January 2026 onwards (the 4th to the
    12th, balances 9,000 ... 1,000) are inside."""
    estimate = estimate_subsidy(OPENING, Decimal("3.8"), date(2025, 10, 1), programme())
    assert estimate is not None
    assert estimate.amount == sum(MONTHLY[3:]) == Decimal("37.50")


def test_the_points_are_at_most_half_the_contract_rate():
    """At 1.2% the subsidy is 0.6 points: 12,000 x 0.6% / 12 = 6.00 in the first month."""
    estimate = estimate_subsidy(OPENING[:2] + [Decimal(0)], Decimal("1.2"), date(2026, 1, 1),
                                programme())  # fmt: skip
    assert estimate is not None
    assert estimate.amount == Decimal("6.00") + Decimal("5.50")
    assert estimate_subsidy(OPENING, Decimal(0), date(2026, 1, 1), programme()) is None


def test_the_yearly_cap_applies_per_calendar_year():
    """600,000 owed all year at one point: 500.00 a month. Paid out 1 July 2026 on a
    programme running to the end of 2027: six months in 2026 (3,000) and six in 2027
    (3,000); a yearly cap of 2,500 leaves 2,500 + 2,500."""
    balances = [Decimal(600000)] * 12 + [Decimal(0)]
    long_run = {"periods": [{"start": date(2026, 1, 1), "end": date(2027, 12, 31)}]}
    uncapped = estimate_subsidy(balances, Decimal("3.8"), date(2026, 7, 1), programme(**long_run))
    assert uncapped is not None and uncapped.amount == Decimal(6000)
    capped = estimate_subsidy(
        balances, Decimal("3.8"), date(2026, 7, 1), programme(**long_run, yearly_cap=2500)
    )
    assert capped is not None and capped.amount == Decimal(5000)


def test_a_base_cap_limits_the_balance_the_subsidy_is_computed_on():
    """140,000 owed, a base cap of 50,000: 50,000 / 1,200 = 41.666... -> 41.67 a month."""
    balances = [Decimal(140000)] * 3 + [Decimal(0)]
    periods = [{"start": date(2026, 1, 1), "end": date(2026, 12, 31), "base_cap": 50000}]
    estimate = estimate_subsidy(
        balances, Decimal("3.8"), date(2026, 1, 1), programme(periods=periods)
    )
    assert estimate is not None and estimate.amount == Decimal("41.67") * 3


def test_back_to_back_periods_join_and_a_gap_breaks_them():
    """Paid out 15 August 2026: the month 15 Aug - 14 Sep straddles two periods."""
    joined = [
        {"start": date(2025, 9, 1), "end": date(2026, 8, 31)},
        {"start": date(2026, 9, 1), "end": date(2026, 12, 31)},
    ]
    gap = [
        {"start": date(2025, 9, 1), "end": date(2026, 8, 31)},
        {"start": date(2026, 9, 2), "end": date(2026, 12, 31)},
    ]
    start = date(2026, 8, 15)
    whole = estimate_subsidy(OPENING, Decimal("3.8"), start, programme(periods=joined))
    broken = estimate_subsidy(OPENING, Decimal("3.8"), start, programme(periods=gap))
    assert whole is not None and whole.amount == sum(MONTHLY[:4])  # Aug, Sep, Oct, Nov
    assert broken is not None and broken.amount == sum(MONTHLY[1:4])  # Sep 15 on


README_BUYER = {
    "vehicle_condition": "new", "powertrain": "nev", "use": "personal", "price": 200000,
    "down_payment": 60000, "term_months": 36, "method": "annuity", "employment": "salaried",
    "employment_months": 48, "monthly_income": 20000, "monthly_debt": 0,
    "credit_history": "clean", "age": 35,
}  # fmt: skip
TAKING_PART = Policy.model_validate({"subsidy": {"lender_participates": True}})


def _npf_subsidy(months: int) -> Decimal:
    """numpy-financial's balances of 140,000 at 3.8% paying 4,120.91 a month, one point."""
    r = 0.038 / 12
    total = Decimal(0)
    for k in range(months):
        balance = float(-npf.fv(r, k, -4120.91, 140000))
        total += Decimal(repr(balance / 1200)).quantize(Decimal("0.01"))
    return total


def test_the_readme_buyer_signed_in_march_gets_the_interest_until_the_end_of_2026():
    """Paid out 1 March 2026: ten months (March to December) inside the programme."""
    result = assess(parse_answers(README_BUYER), TAKING_PART, date(2026, 3, 1))
    assert result.decision is Decision.PREQUALIFIED and result.annual_rate == Decimal("3.8")
    assert result.monthly_payment == Decimal("4120.91")
    assert result.subsidy is not None
    assert result.subsidy.amount == Decimal("1027.59")
    assert abs(result.subsidy.amount - _npf_subsidy(10)) <= Decimal("0.01")
    assert result.subsidy.until == date(2026, 12, 31)
    note = next(n for n in result.notes if n.code == "subsidy_estimate")
    assert note.text("en") == (
        "The car-loan interest subsidy could pay about ¥1,027.59 of your interest: what "
        "accrues until 2026-12-31, the end of your last whole month of payments inside the "
        "programme (it runs until 2026-12-31)."
    )


def test_signed_on_the_last_day_nothing_is_promised():
    """Paid out 31 December 2026: its first month runs to 30 January 2027."""
    result = assess(parse_answers(README_BUYER), TAKING_PART, date(2026, 12, 31))
    assert result.subsidy is None and result.subsidy_saving is None
    assert "subsidy_estimate" not in [n.code for n in result.notes]


def test_only_a_participating_lender_and_only_a_prequalified_buyer_see_it():
    answers = parse_answers(README_BUYER)
    assert assess(answers, Policy(), date(2026, 3, 1)).subsidy is None
    review = parse_answers({**README_BUYER, "employment": "other", "employment_months": 3,
                            "credit_history": "late", "monthly_income": 12000})  # fmt: skip
    reviewed = assess(review, TAKING_PART, date(2026, 3, 1))
    assert reviewed.decision is Decision.REVIEW and reviewed.subsidy is None
    declined = assess(parse_answers({**README_BUYER, "credit_history": "default"}), TAKING_PART,
                      date(2026, 3, 1))  # fmt: skip
    assert declined.decision is Decision.DECLINED and declined.subsidy_saving is None

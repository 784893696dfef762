"""Collateral risk: when the balance falls below the car's value, and negative equity."""

from datetime import date
from decimal import Decimal

import pytest

from lending.answers import parse_answers
from lending.assessment import assess
from lending.collateral import collateral_for, collateral_risk
from lending.policy import PolicyError, load_policy, parse_policy
from lending.residual import residual_percent
from lending.schedule import build_schedule

START = date(2026, 3, 3)
NO_DROP = {"purchase_drop": {"fuel": 0, "nev": 0}}


def test_negative_equity_month_on_a_known_case() -> None:
    """95,000 at 0% over 60 months on a 100,000 new NEV: 1,583.33 a month.

    Value falls 2,333.33 a month in year 1 (100% -> 72%) and 1,166.67 a month in year 2
    (72% -> 58%). The balance is above it from month 7 (84,916.69 > 83,666.67) through
    month 21 (61,750.07 > 61,500.00); from month 22 on the car covers the debt.
    """
    policy = parse_policy({"depreciation": NO_DROP})
    schedule = build_schedule(Decimal(95000), Decimal(0), 60, START)
    risk = collateral_risk(schedule, Decimal(100000), "new", "nev", policy.depreciation)
    assert risk.balances[6] <= risk.values[6]
    assert risk.balances[7] > risk.values[7]
    assert risk.balances[21] > risk.values[21]
    assert risk.balances[22] <= risk.values[22]
    assert risk.covered_from_month == 22
    assert risk.negative_months == 15
    assert risk.worst_gap == Decimal("4000.04")  # month 12: 76,000.04 owed on a 72,000 car
    assert risk.worst_gap_month == 12
    assert risk.flagged  # 15 months > the default allowance of 6


def test_the_drop_at_purchase_puts_a_new_car_under_water_from_the_first_day() -> None:
    """The same loan with the default 12% drop for a new NEV: the car is worth 88,000 at
    payout and falls 1,333.33 a month to 72,000 at month 12, while the balance falls
    1,583.33 a month: the gap is 7,000 - 250 m in year 1 (largest at payout), then
    4,000.04 - 416.66 (m - 12) in year 2, still 250.07 at month 21 and gone at month 22."""
    policy = load_policy()
    schedule = build_schedule(Decimal(95000), Decimal(0), 60, START)
    risk = collateral_risk(schedule, Decimal(100000), "new", "nev", policy.depreciation)
    assert risk.values[0] == Decimal("88000.00") and risk.values[12] == Decimal("72000.00")
    assert risk.worst_gap == Decimal("7000.00") and risk.worst_gap_month == 0
    assert risk.balances[21] - risk.values[21] == Decimal("250.07")
    assert risk.negative_months == 22 and risk.covered_from_month == 22


def test_allowance_is_policy_and_a_fuel_car_keeps_its_value_better() -> None:
    lenient = parse_policy({"depreciation": {"negative_equity_max_months": 15, **NO_DROP}})
    schedule = build_schedule(Decimal(95000), Decimal(0), 60, START)
    assert not collateral_risk(
        schedule, Decimal(100000), "new", "nev", lenient.depreciation
    ).flagged
    fuel = collateral_risk(schedule, Decimal(100000), "new", "fuel", lenient.depreciation)
    assert fuel.negative_months == 0 and fuel.covered_from_month == 0


def test_curve_is_linear_within_a_year_and_keeps_falling_after_the_table() -> None:
    curve = [Decimal(80), Decimal(60)]
    assert residual_percent(curve, 0) == 100
    assert residual_percent(curve, 6) == 90
    assert residual_percent(curve, 24) == 60
    assert residual_percent(curve, 36) == Decimal(45)  # 60 x (60/80)
    assert residual_percent(curve, 30) < 60


def test_an_assessed_plan_gets_its_picture() -> None:
    answers = parse_answers(
        {
            "vehicle_condition": "used", "powertrain": "nev", "use": "personal",
            "price": 100000, "vehicle_age_years": 2, "down_payment": 30000,
            "term_months": 36, "method": "balloon", "employment": "salaried",
            "employment_months": 36, "monthly_income": 20000, "monthly_debt": 0,
            "credit_history": "clean", "age": 35,
        }
    )  # fmt: skip
    risk = collateral_for(assess(answers, load_policy(), START))
    assert risk is not None
    # 5% off at purchase, then what a NEV loses from age 2 (58%) to age 5 (36%):
    # 100,000 x 0.95 x 36 / 58 = 58,965.517...
    assert risk.balances[0] == Decimal("70000.00") and risk.values[0] == Decimal("95000.00")
    assert risk.balances[-1] == 0
    assert risk.values[-1] == Decimal("58965.52")
    # Even the balloon's 30,000 owing until the end stays under the car's value.
    assert Decimal(30000) < risk.balances[-2] < risk.values[-2]
    assert risk.negative_months == 0 and not risk.flagged


@pytest.mark.parametrize(
    "section, message",
    [
        ({"new_fuel": [80, 90]}, "must not rise"),
        ({"new_nev": []}, "at least one"),
        ({"purchase_drop": {"fuel": 8}}, "nev"),
        ({"negative_equity_action": "ignore"}, "review"),
        ({"new_nev": [120]}, "at most 100"),
        ({"hybrid": [80]}, "hybrid"),
    ],
)
def test_bad_depreciation_sections_are_one_line(section, message) -> None:
    with pytest.raises(PolicyError, match=message) as info:
        parse_policy({"depreciation": section}, "new.toml")
    assert "\n" not in str(info.value) and "depreciation" in str(info.value)

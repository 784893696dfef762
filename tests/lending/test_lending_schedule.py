"""Repayment schedules and the annualized rate: invariants, closed forms, an oracle."""

import random
from datetime import date
from decimal import Decimal

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.apr import annualized_rate
from lending.dates import add_months
from lending.money import money
from lending.schedule import RepaymentMethod, build_schedule, first_payment, level_payment

PROPERTY = settings(derandomize=True, max_examples=300, deadline=None)

principals = st.integers(min_value=1_000_00, max_value=2_000_000_00).map(lambda c: Decimal(c) / 100)
rates = st.integers(min_value=0, max_value=2400).map(lambda bp: Decimal(bp) / 100)
terms = st.sampled_from([1, 2, 3, 6, 12, 18, 24, 36, 48, 60, 72, 84])
methods = st.sampled_from(list(RepaymentMethod))
balloon_shares = st.integers(min_value=0, max_value=60)
# Car loans start at 10,000 yuan (the policy minimum); below that a single fen of interest
# rounding moves a one-month APR by more than 0.005 points.
loan_sized = st.integers(min_value=10_000_00, max_value=2_000_000_00).map(
    lambda c: Decimal(c) / 100
)
starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@PROPERTY
@given(principals, rates, terms, methods, balloon_shares, starts)
def test_principal_parts_add_up_and_balances_fall_to_zero(p, rate, term, method, share, start):
    balloon = money(p * share / 100)
    schedule = build_schedule(p, rate, term, start, method, balloon)
    parts = schedule.installments
    assert len(parts) == term
    assert sum(i.principal for i in parts) == money(p)
    assert parts[-1].balance == 0
    previous = money(p)
    for i in parts:
        assert i.payment == i.principal + i.interest
        assert i.principal >= 0 and i.interest >= 0
        assert i.balance <= previous
        previous = i.balance
    assert schedule.total_paid == money(p) + schedule.total_interest
    assert first_payment(money(p), rate, term, method, schedule.balloon_amount) == (
        schedule.monthly_payment
    )


@PROPERTY
@given(loan_sized, rates, terms, methods, balloon_shares)
def test_apr_equals_the_nominal_rate_without_fees_and_exceeds_it_with_them(
    p, rate, term, method, share
):
    schedule = build_schedule(p, rate, term, date(2025, 3, 15), method, money(p * share / 100))
    assert annualized_rate(money(p), schedule.payments) == rate.quantize(Decimal("0.01"))
    fee = money(p * Decimal("0.01"))
    assert annualized_rate(money(p) - fee, schedule.payments) > rate


def test_annuity_payment_matches_numpy_financial_to_the_cent():
    rnd = random.Random(20250901)
    for _ in range(3000):
        p = Decimal(rnd.randint(1_000_00, 3_000_000_00)) / 100
        rate = Decimal(rnd.randint(1, 3000)) / 100
        term = rnd.randint(2, 120)
        oracle = Decimal(str(float(-npf.pmt(float(rate) / 1200, term, float(p)))))
        schedule = build_schedule(p, rate, term, date(2025, 1, 1))
        assert abs(schedule.monthly_payment - oracle) <= Decimal("0.005"), (p, rate, term)


def test_balloon_payment_matches_numpy_financial_with_a_future_value():
    rnd = random.Random(7)
    for _ in range(1000):
        p = Decimal(rnd.randint(10_000, 1_000_000))
        rate = Decimal(rnd.randint(1, 2000)) / 100
        term = rnd.choice([12, 24, 36, 48, 60])
        balloon = money(p * rnd.randint(0, 50) / 100)
        oracle = Decimal(str(float(-npf.pmt(float(rate) / 1200, term, float(p), -float(balloon)))))
        schedule = build_schedule(p, rate, term, date(2025, 1, 1), "balloon", balloon)
        assert abs(schedule.monthly_payment - oracle) <= Decimal("0.005")
        # The last installment is one regular payment plus the balloon, give or take the
        # fen of rounding carried through the schedule.
        assert abs(schedule.final_payment - (schedule.monthly_payment + balloon)) <= term * Decimal(
            "0.01"
        )


def test_equal_principal_matches_its_closed_form():
    p, rate, term = Decimal(120000), Decimal("6"), 24
    r = rate / 1200
    schedule = build_schedule(p, rate, term, date(2025, 1, 1), "equal-principal")
    part = p / term
    for k, i in enumerate(schedule.installments):
        assert i.principal == money(part)
        assert i.interest == money((p - k * part) * r)
    closed_form_interest = p * r * (term + 1) / 2
    assert abs(schedule.total_interest - closed_form_interest) <= term * Decimal("0.01")
    payments = [i.payment for i in schedule.installments]
    assert payments == sorted(payments, reverse=True)


def test_zero_rate_splits_the_loan_evenly_and_the_last_installment_takes_the_remainder():
    schedule = build_schedule(Decimal(100000), Decimal(0), 3, date(2025, 1, 10))
    assert [i.payment for i in schedule.installments] == [
        Decimal("33333.33"),
        Decimal("33333.33"),
        Decimal("33333.34"),
    ]
    assert schedule.total_interest == 0
    assert annualized_rate(Decimal(100000), schedule.payments) == Decimal("0.00")
    assert level_payment(Decimal(1200), Decimal(0), 12) == Decimal(100)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (date(2025, 1, 31), [date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30)]),
        (date(2024, 1, 31), [date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)]),
        (date(2025, 11, 30), [date(2025, 12, 30), date(2026, 1, 30), date(2026, 2, 28)]),
    ],
)
def test_due_dates_keep_the_start_day_clamped_to_month_end(start, expected):
    schedule = build_schedule(Decimal(30000), Decimal(5), 3, start)
    assert [i.due_date for i in schedule.installments] == expected


def test_first_due_date_can_be_chosen():
    schedule = build_schedule(
        Decimal(30000), Decimal(5), 3, date(2025, 1, 5), first_due=date(2025, 2, 20)
    )
    assert [i.due_date for i in schedule.installments] == [
        date(2025, 2, 20),
        date(2025, 3, 20),
        date(2025, 4, 20),
    ]
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


def test_bad_schedule_inputs_name_the_field():
    with pytest.raises(ValueError, match="term_months"):
        build_schedule(Decimal(1000), Decimal(5), 0, date(2025, 1, 1))
    with pytest.raises(ValueError, match="balloon_amount"):
        build_schedule(Decimal(1000), Decimal(5), 12, date(2025, 1, 1), "balloon", Decimal(2000))
    with pytest.raises(ValueError, match="annual_rate"):
        build_schedule(Decimal(1000), Decimal(-1), 12, date(2025, 1, 1))


def test_worked_example_140k_over_36_months_at_4_5_percent():
    schedule = build_schedule(Decimal(140000), Decimal("4.5"), 36, date(2025, 1, 31))
    assert schedule.monthly_payment == Decimal("4164.57")
    assert schedule.final_payment == Decimal("4164.55")
    assert schedule.total_interest == Decimal("9924.50")
    assert annualized_rate(Decimal(138600), schedule.payments) == Decimal("5.17")

"""Collateral risk: the loan balance against what the car is still worth, month by month.

A car loses value while its loan is paid down. While the balance owed is above the car's
value (negative equity) a borrower who stops paying leaves the lender with a car worth
less than the debt, and a borrower who wants to sell cannot clear the loan from the sale.
The depreciation curve is policy data (`[depreciation]`); `lending.residual` reads it for
both this picture and the decision.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from lending.answers import Answers
from lending.assessment import Assessment, balloon_amount
from lending.money import money
from lending.policy import Depreciation, Policy
from lending.residual import forecast_percents, forecast_value
from lending.schedule import Schedule, build_schedule


@dataclass(frozen=True)
class CollateralRisk:
    """The balance-versus-value picture of one plan.

    `covered_from_month` is the first month from which the balance stays at or below the
    car's estimated value to the end (0: from the payout); `negative_months` counts the
    months with the balance above the value; `flagged` is True when that exceeds the
    policy's allowance; `worst_gap` is the largest excess of balance over value and
    `worst_gap_month` the month it occurs (0 when the car always covers the balance).
    """

    price: Decimal
    balances: tuple[Decimal, ...]
    values: tuple[Decimal, ...]
    covered_from_month: int
    negative_months: int
    worst_gap: Decimal
    max_negative_months: int
    worst_gap_month: int = 0

    @property
    def flagged(self) -> bool:
        return self.negative_months > self.max_negative_months


def collateral_risk(
    schedule: Schedule,
    price: Decimal,
    condition: str,
    powertrain: str,
    depreciation: Depreciation,
    vehicle_age_years: int = 0,
) -> CollateralRisk:
    """Compare the balance after each installment with the car's value that month.

    Month 0 is the payout (balance = the loan); month m is after the m-th installment. A
    balloon loan's balance stays high until the final payment, which is exactly the risk.
    """
    balances = (schedule.principal, *(i.balance for i in schedule.installments))
    percents = forecast_percents(
        depreciation, condition, powertrain, vehicle_age_years, len(balances) - 1
    )
    values = tuple(forecast_value(price, p) for p in percents)
    underwater = [b > v for b, v in zip(balances, values, strict=True)]
    covered_from = len(balances) - 1
    while covered_from > 0 and not underwater[covered_from - 1]:
        covered_from -= 1
    gaps = [b - v for b, v in zip(balances, values, strict=True)]
    worst = max(gaps)
    return CollateralRisk(
        price=money(price),
        balances=tuple(balances),
        values=values,
        covered_from_month=covered_from,
        negative_months=sum(underwater),
        worst_gap=max(worst, money(0)),
        max_negative_months=depreciation.negative_equity_max_months,
        worst_gap_month=gaps.index(worst) if worst > 0 else 0,
    )


def collateral_for(assessment: Assessment) -> CollateralRisk | None:
    """The collateral picture of an assessed plan (None when nothing would be lent)."""
    if assessment.loan_amount <= 0:
        return None
    answers = assessment.answers
    return collateral_risk(
        assessment.schedule,
        answers.price,
        answers.vehicle_condition,
        answers.powertrain,
        assessment.policy.depreciation,
        answers.vehicle_age_years,
    )


def collateral_for_plan(
    answers: dict[str, Any],
    loan_amount: str | Decimal | None,
    annual_rate: str | Decimal | None,
    policy: Policy,
    start: date,
) -> CollateralRisk | None:
    """The picture for a stored plan: its answers and the loan and rate it was offered.

    Reads what was offered (not a fresh assessment, which a changed policy could price
    differently). None when the stored data cannot describe a loan - an application
    opened before the buyer finished, say - so a card never fails over it.
    """
    try:
        plan = Answers.model_validate(answers)
        loan = money(Decimal(str(loan_amount)))
        rate = Decimal(str(annual_rate))
    except (ValidationError, InvalidOperation, TypeError, ValueError):
        return None
    if loan <= 0 or rate < 0:
        return None
    lump = min(balloon_amount(plan, policy), loan)
    schedule = build_schedule(loan, rate, plan.term_months, start, plan.method, lump)
    return collateral_risk(
        schedule,
        plan.price,
        plan.vehicle_condition,
        plan.powertrain,
        policy.depreciation,
        plan.vehicle_age_years,
    )

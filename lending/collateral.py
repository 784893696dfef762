"""Collateral risk: the loan balance against what the car is still worth, month by month.

A car loses value while its loan is paid down. While the balance owed is above the car's
value (negative equity) a borrower who stops paying leaves the lender with a car worth
less than the debt, and a borrower who wants to sell cannot clear the loan from the sale.
The depreciation curve is policy data (`[depreciation]`); this module only reads it.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from lending.answers import Answers
from lending.assessment import Assessment, balloon_amount
from lending.money import HUNDRED, TWELVE, money
from lending.policy import Depreciation, Policy
from lending.schedule import Schedule, build_schedule


def residual_percent(curve: list[Decimal], month: int) -> Decimal:
    """The car's value after `month` months, percent of the price paid.

    Linear between the curve's year ends (month 0 is 100%); beyond the last year it keeps
    falling by the last year's ratio, so a long term never meets a flat line.
    """
    year, into = divmod(month, 12)
    anchors = [HUNDRED, *curve]
    if year + 1 < len(anchors):
        start, end = anchors[year], anchors[year + 1]
        return start + (end - start) * into / TWELVE
    last = anchors[-1]
    ratio = anchors[-1] / anchors[-2]
    extra_years = Decimal(month) / TWELVE - (len(anchors) - 1)
    return last * ratio**extra_years  # type: ignore[no-any-return]


@dataclass(frozen=True)
class CollateralRisk:
    """The balance-versus-value picture of one plan.

    `covered_from_month` is the first month from which the balance stays at or below the
    car's estimated value to the end (0: from the payout); `negative_months` counts the
    months with the balance above the value; `flagged` is True when that exceeds the
    policy's allowance.
    """

    price: Decimal
    balances: tuple[Decimal, ...]
    values: tuple[Decimal, ...]
    covered_from_month: int
    negative_months: int
    worst_gap: Decimal
    max_negative_months: int

    @property
    def flagged(self) -> bool:
        return self.negative_months > self.max_negative_months


def collateral_risk(
    schedule: Schedule,
    price: Decimal,
    condition: str,
    powertrain: str,
    depreciation: Depreciation,
) -> CollateralRisk:
    """Compare the balance after each installment with the car's value that month.

    Month 0 is the payout (balance = the loan); month m is after the m-th installment. A
    balloon loan's balance stays high until the final payment, which is exactly the risk.
    """
    curve = depreciation.curve(str(condition), str(powertrain))
    balances = (schedule.principal, *(i.balance for i in schedule.installments))
    values = tuple(
        money(price * residual_percent(curve, m) / HUNDRED) for m in range(len(balances))
    )
    underwater = [b > v for b, v in zip(balances, values, strict=True)]
    covered_from = len(balances) - 1
    while covered_from > 0 and not underwater[covered_from - 1]:
        covered_from -= 1
    gaps = [b - v for b, v in zip(balances, values, strict=True)]
    return CollateralRisk(
        price=money(price),
        balances=tuple(balances),
        values=values,
        covered_from_month=covered_from,
        negative_months=sum(underwater),
        worst_gap=max(max(gaps), money(0)),
        max_negative_months=depreciation.negative_equity_max_months,
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
        schedule, plan.price, plan.vehicle_condition, plan.powertrain, policy.depreciation
    )

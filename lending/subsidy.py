"""The car-loan interest subsidy estimate, month by month as the programme pays it.

The state pays a number of percentage points on the balance outstanding, for interest
accrued inside the programme's periods, capped per borrower per lender in a calendar year
(`[subsidy]` in the policy). A month of the schedule counts when every day of it (from one
due date to the day before the next) lies inside the periods: an estimate a buyer reads as
"about ¥X" must never promise a subsidy for days the programme does not cover, so the
month that straddles the end is left out. The month's subsidy is its opening balance
(capped by the period's `base_cap`) times the points over twelve, rounded half-up to the fen.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from lending.dates import due_dates
from lending.money import CENT, HUNDRED, TWELVE, ZERO
from lending.policy import Subsidy, SubsidyPeriod

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class SubsidyEstimate:
    """The estimate, the number of months it covers, the last day of interest counted (the
    day before the due date that closes the last whole month of payments inside the periods,
    so it falls on the payout's day of the month, not on the periods' end) and the last day
    of the periods that hold it, which a buyer needs beside it to see why it stops there."""

    amount: Decimal
    months: int
    until: date
    ends: date


def _period_of(day: date, periods: list[SubsidyPeriod]) -> int | None:
    for index, period in enumerate(periods):
        if period.start <= day <= period.end:
            return index
    return None


def _covered_until(index: int, periods: list[SubsidyPeriod]) -> date:
    """The last day of the run of back-to-back periods that starts with `periods[index]`."""
    end = periods[index].end
    for later in periods[index + 1 :]:
        if later.start != end + _DAY:
            break
        end = later.end
    return end


def estimate_subsidy(
    balances: list[Decimal],
    annual_rate: Decimal,
    start: date,
    subsidy: Subsidy,
    first_due: date | None = None,
) -> SubsidyEstimate | None:
    """The subsidy on a loan paid out on `start` with these opening balances (balance at
    payout, then after each installment); None when no month falls inside the periods."""
    points = subsidy.subsidy_rate(Decimal(annual_rate))
    if points <= 0 or not subsidy.periods:
        return None
    term = len(balances) - 1
    dues = due_dates(start, term, first_due)
    opens = [start, *dues[:-1]]
    by_year: dict[int, Decimal] = {}
    months = 0
    until: date | None = None
    ends: date | None = None
    for opened, due, balance in zip(opens, dues, balances, strict=False):
        index = _period_of(opened, subsidy.periods)
        if index is None:
            continue
        covered = _covered_until(index, subsidy.periods)
        if due - _DAY > covered:
            continue
        cap = subsidy.periods[index].base_cap
        base = balance if cap is None else min(balance, cap)
        amount = (base * points / HUNDRED / TWELVE).quantize(CENT, rounding=ROUND_HALF_UP)
        by_year[opened.year] = by_year.get(opened.year, ZERO) + amount
        months += 1
        until, ends = due - _DAY, covered
    if until is None or ends is None:
        return None
    total = sum((min(v, subsidy.yearly_cap) for v in by_year.values()), ZERO)
    return SubsidyEstimate(total, months, until, ends) if total > 0 else None

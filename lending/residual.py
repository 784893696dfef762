"""The car's forecast value month by month, from the policy's depreciation tables.

Both the decision (a balloon the car will not cover, a balance that runs ahead of the
car's value for too long) and the manager's collateral picture read these figures, so
they can never disagree. The tables are policy data (`[depreciation]`).
"""

from decimal import Decimal

from lending.money import HUNDRED, TWELVE, money
from lending.policy import Depreciation


def residual_percent(curve: list[Decimal], month: int, start: Decimal = HUNDRED) -> Decimal:
    """A car's value at `month` months of age, percent of its price new (`start` at 0).

    Linear between the curve's year ends; beyond the last year it keeps falling by the
    last year's ratio, so a long term never meets a flat line.
    """
    year, into = divmod(month, 12)
    anchors = [start, *curve]
    if year + 1 < len(anchors):
        begin, end = anchors[year], anchors[year + 1]
        return begin + (end - begin) * into / TWELVE
    last = anchors[-1]
    ratio = anchors[-1] / anchors[-2]
    extra_years = Decimal(month) / TWELVE - (len(anchors) - 1)
    return last * ratio**extra_years  # type: ignore[no-any-return]


def forecast_percents(
    depreciation: Depreciation, condition: str, powertrain: str, age_years: int, months: int
) -> tuple[Decimal, ...]:
    """The forecast value after 0..`months` months of the loan, percent of the price paid.

    A new car drops by its purchase drop at once, then falls to the curve's first year end.
    A used car drops by the used-car drop and then loses what the curve says a car of its
    age loses: its value moves with curve(age + m) / curve(age).
    """
    curve = depreciation.curve(str(powertrain))
    drop = depreciation.drop(str(condition), str(powertrain))
    if str(condition) != "used":
        start = HUNDRED - drop
        return tuple(residual_percent(curve, m, start) for m in range(months + 1))
    base_age = age_years * 12
    base = residual_percent(curve, base_age)
    kept = (HUNDRED - drop) / base
    return tuple(kept * residual_percent(curve, base_age + m) for m in range(months + 1))


def forecast_value(price: Decimal, percent: Decimal) -> Decimal:
    """A forecast value in yuan, to the fen."""
    return money(price * percent / HUNDRED)

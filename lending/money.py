"""Money and rates as `Decimal`.

Every amount a borrower sees is rounded half-up to the fen (0.01 yuan), the way a bank
statement rounds; floats never touch money because binary fractions drift by a fen over a
60-month schedule. Rates are annual percentages (`Decimal("4.5")` is 4.5% a year).
"""

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal(0)
HUNDRED = Decimal(100)
TWELVE = Decimal(12)


def money(x: Decimal | int | str | float) -> Decimal:
    """Round an amount half-up to 0.01 (floats go through `str` so 0.1 stays 0.1)."""
    if isinstance(x, float):
        x = str(x)
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def round_down_to(amount: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of `step` not above `amount` (e.g. a car price on 1,000 yuan)."""
    return (amount / step).to_integral_value(rounding=ROUND_FLOOR) * step


def round_up_to(amount: Decimal, step: Decimal) -> Decimal:
    """The smallest multiple of `step` not below `amount` (e.g. an extra down payment)."""
    return (amount / step).to_integral_value(rounding=ROUND_CEILING) * step


def monthly_rate(annual_rate_percent: Decimal) -> Decimal:
    """Nominal monthly rate as a fraction: 4.5 (% a year) -> 0.00375."""
    return Decimal(annual_rate_percent) / HUNDRED / TWELVE


_PERCENT_MONTHS = Decimal(1200)


def month_interest(balance: Decimal, annual_rate_percent: Decimal) -> Decimal:
    """A month's interest on a balance, half-up to the fen.

    Computed as balance × rate / 1200, not balance × (rate / 1200): a monthly rate such as
    2.68 / 1200 = 0.0022333... cannot be held exactly, and 427,050 × it would come out as
    953.74499... where the true interest is 953.745, which rounds half-up to 953.75.
    """
    return (balance * annual_rate_percent / _PERCENT_MONTHS).quantize(CENT, rounding=ROUND_HALF_UP)


def percent(part: Decimal, whole: Decimal) -> Decimal:
    """`part` as a percent of `whole`, to 0.01 (0 when `whole` is 0)."""
    if not whole:
        return ZERO
    return (part * HUNDRED / whole).quantize(CENT, rounding=ROUND_HALF_UP)

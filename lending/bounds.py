"""The bounds of every figure a person types or a file brings in, in one place.

The command line (`quote`, `assess`), the CSV imports and the README quote these. They
are sanity bounds, not policy: a value outside them is a typo or a file that is not what
it claims (a price of 10^25, an amount in fen read as yuan), never a car loan. What the
company lends within them is the policy's business (lending/default_policy.toml).
"""

from __future__ import annotations

from decimal import Decimal

MAX_AMOUNT = Decimal("10000000")  # ¥10 million: any price, loan, fee, payment or income
MIN_LOAN = Decimal("1000")  # ¥1,000: below this it is not a car loan
MAX_RATE_PERCENT = Decimal(36)  # % a year: the legal ceiling on private lending
MAX_TERM_MONTHS = 120  # ten years; car-loan rules allow five, leases run longer


def amount_problem(value: Decimal, *, minimum: Decimal = Decimal(0)) -> str | None:
    """Why `value` is not a sane amount of yuan (None when it is), in a few words."""
    if not value.is_finite():
        return f"expected a number, got {value}"
    if value < minimum or value > MAX_AMOUNT:
        low = "0" if minimum == 0 else f"{minimum:,}"
        return f"must be from {low} to {MAX_AMOUNT:,} yuan, got {value}"
    return None

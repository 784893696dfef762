"""The annualized rate (年化利率, APR) by the internal-rate-of-return method.

Chinese rules require a loan offer to show the annualized rate with fees included,
computed from the real cash flows: the amount the borrower actually receives (the loan
net of upfront fees) against the installments paid. The monthly IRR times 12 is the
annual figure, so with no fees it equals the nominal rate.
"""

from decimal import ROUND_HALF_UP, Decimal

_CENT_PERCENT = Decimal("0.01")


def _npv(rate: float, received: float, payments: list[float]) -> float:
    """Present value of the installments at a monthly `rate`, minus what was received."""
    factor = 1.0 / (1.0 + rate)
    discount = 1.0
    total = 0.0
    for p in payments:
        discount *= factor
        total += p * discount
    return total - received


def monthly_irr(amount_received: Decimal, payments: list[Decimal]) -> float:
    """The monthly rate at which the installments are worth exactly what was received.

    Bisection on a bracket that always holds a root for a loan (positive payments
    adding up to at least the amount received), tightened by a few secant steps; robust
    for 0% and for very high rates.
    """
    received = float(amount_received)
    flows = [float(p) for p in payments]
    if received <= 0:
        raise ValueError(f"amount_received: must be positive, got {amount_received}")
    if not flows or any(p < 0 for p in flows):
        raise ValueError("payments: must be a non-empty list of non-negative amounts")
    total = sum(payments, Decimal(0))  # exact: a 0% loan must come out at exactly 0
    if total < amount_received:
        raise ValueError("payments: add up to less than the amount received")
    if total == amount_received:
        return 0.0
    lo, hi = 0.0, 0.01
    while _npv(hi, received, flows) > 0:
        lo, hi = hi, hi * 2
        if hi > 100:
            raise ValueError("payments: the implied rate is unreasonably high")
    f_lo, f_hi = _npv(lo, received, flows), _npv(hi, received, flows)
    for _ in range(200):
        # Regula falsi with the Illinois tweak: converges fast and never leaves the bracket.
        mid = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        f_mid = _npv(mid, received, flows)
        if abs(f_mid) < 1e-9 or hi - lo < 1e-15:
            return mid
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo = mid, f_mid
            f_hi /= 2
        else:
            hi, f_hi = mid, f_mid
            f_lo /= 2
    return (lo + hi) / 2


def annualized_rate(amount_received: Decimal, payments: list[Decimal]) -> Decimal:
    """APR in percent a year, to 0.01: monthly IRR × 12 × 100."""
    rate = monthly_irr(amount_received, payments) * 1200
    return Decimal(repr(rate)).quantize(_CENT_PERCENT, rounding=ROUND_HALF_UP)

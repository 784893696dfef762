"""The annualized rate (年化利率, APR) by the internal-rate-of-return method.

Chinese rules require a loan offer to show the annualized rate with fees included,
computed from the real cash flows: the amount the borrower actually receives (the loan
net of upfront fees) against the installments paid. The monthly IRR times 12 is the
annual figure, so with no fees it equals the nominal rate.
"""

from decimal import ROUND_HALF_UP, Decimal

_CENT_PERCENT = Decimal("0.01")

# One line wherever an APR is shown in plain text (chat templates carry their own wording).
APR_CONVENTION = (
    "APR: annualized by the IRR method, fees included, as the monthly rate x 12 "
    "(PBOC Announcement [2021] No. 3)."
)


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

    Exact zero for a 0% loan; Newton's method otherwise (see below), with bisection as a
    fallback that cannot fail for a loan (non-negative payments adding up to more than
    the amount received).
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
    # Newton from r = 0: the present value is convex and decreasing in the rate and is
    # positive at 0, so every step lands at or below the root and the iterates climb to it
    # monotonically (no overshoot, no bracket needed). Typically 4-6 passes over the flows.
    rate = 0.0
    for _ in range(100):
        factor = 1.0 / (1.0 + rate)
        discount = 1.0
        value = -received
        slope = 0.0
        for k, p in enumerate(flows, start=1):
            discount *= factor
            value += p * discount
            slope -= k * p * discount
        step = value / (slope * factor)
        rate -= step
        if abs(step) < 1e-13:
            return rate
    return _bisect(received, flows)


def _bisect(received: float, flows: list[float]) -> float:
    """Fallback for pathological flows: plain bisection on a doubling bracket."""
    lo, hi = 0.0, 0.01
    while _npv(hi, received, flows) > 0:
        lo, hi = hi, hi * 2
        if hi > 100:
            raise ValueError("payments: the implied rate is unreasonably high")
    for _ in range(200):
        mid = (lo + hi) / 2
        if _npv(mid, received, flows) > 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def annualized_rate(amount_received: Decimal, payments: list[Decimal]) -> Decimal:
    """APR in percent a year, to 0.01: monthly IRR × 12 × 100."""
    rate = monthly_irr(amount_received, payments) * 1200
    return Decimal(repr(rate)).quantize(_CENT_PERCENT, rounding=ROUND_HALF_UP)

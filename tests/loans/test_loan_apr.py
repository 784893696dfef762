"""A booked loan's annualized rate counts its upfront fee (numpy-financial as the oracle)."""

from datetime import date
from decimal import Decimal

import numpy_financial as npf
import pytest

from lending.schedule import RepaymentMethod
from services.loans import LoanTerms

PAID_OUT = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("rate", "fee", "method", "balloon"),
    [
        (Decimal(0), Decimal(1200), RepaymentMethod.ANNUITY, Decimal(0)),
        (Decimal("3.8"), Decimal(1400), RepaymentMethod.ANNUITY, Decimal(0)),
        (Decimal("4.5"), Decimal(0), RepaymentMethod.EQUAL_PRINCIPAL, Decimal(0)),
        (Decimal("4.5"), Decimal(2000), RepaymentMethod.BALLOON, Decimal(36000)),
    ],
)
def test_booked_apr_is_the_irr_of_what_was_received_against_the_installments(
    rate, fee, method, balloon
):
    terms = LoanTerms(
        principal=Decimal(120000), annual_rate=rate, term_months=24, method=method,
        first_due_date=date(2026, 4, 1), balloon_amount=balloon, upfront_fee=fee,
    )  # fmt: skip
    schedule = terms.schedule(PAID_OUT)
    flows = [-(120000 - float(fee)), *(float(p) for p in schedule.payments)]
    expected = Decimal(repr(float(npf.irr(flows)) * 1200)).quantize(Decimal("0.01"))
    assert abs(terms.apr(schedule) - expected) <= Decimal("0.01")
    if fee:
        assert terms.apr(schedule) > rate  # the fee is in it
    else:
        assert terms.apr(schedule) == rate

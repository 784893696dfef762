"""A booked loan's annualized rate counts its upfront fee (numpy-financial as the oracle)."""

from datetime import date
from decimal import Decimal

import numpy_financial as npf
import pytest

from lending.schedule import RepaymentMethod
from services.loans.book import LoanTerms

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


@pytest.mark.parametrize(
    ("language", "apr_line", "lpr_line"),
    [
        ("en", "APR: the annualized rate by the IRR method, fees included",
         "your payment will change when the LPR does"),
        ("zh", "年化利率（APR）按内部收益率（IRR）法计算", "LPR变动时，您的月供也会随之变化"),
    ],
)  # fmt: skip
async def test_the_welcome_states_the_apr_convention_and_a_floating_rates_repricing(
    world, language, apr_line, lpr_line
):
    from dataclasses import replace

    from services.loans import book as loans
    from tests.loans.helpers import book, borrower, terms

    user = await borrower(world, 2401, "Li", language)
    floating = replace(terms(fee="1200"), rate_type="floating")
    loan_id = await book(world, 2401, loan_terms=floating)
    fixed_id = await book(world, 2401, loan_terms=terms(fee="1200"))
    async with world.runtime.db.transaction() as conn:
        await loans.queue_welcome(conn, world.runtime, loan_id)
        await loans.queue_welcome(conn, world.runtime, fixed_id)
    await world.settle()
    welcomes = [m.text for m in user.bot_messages() if apr_line in m.text]
    assert len(welcomes) == 2
    assert lpr_line in welcomes[0] and lpr_line not in welcomes[1]

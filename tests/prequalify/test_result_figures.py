"""What the result shows: a balloon's final payment and its date, the APR convention, and
for a floating rate how the payment changes, in both locales."""

from __future__ import annotations

from datetime import date

import pytest

from lending.answers import parse_answers
from lending.assessment import assess
from lending.policy import Policy
from services.applications.submission import assessment_record
from services.rendering import Renderer
from tests.lending.test_lending_subsidy import README_BUYER

RENDERER = Renderer()
# The README's buyer with a fuel car and a balloon.
BALLOON_BUYER = {**README_BUYER, "powertrain": "fuel", "method": "balloon", "monthly_income": 30000}


def render(locale: str, policy: Policy) -> str:
    result = assess(parse_answers(BALLOON_BUYER), policy, date(2026, 3, 1))
    record = assessment_record(result)
    notes = [n.text(locale) for n in result.notes]  # type: ignore[arg-type]
    return RENDERER.render(
        locale, "apply_result_prequalified", r=record, notes=notes, name="Li", phone="138",
        method="Balloon", documents=[], call_when="soon",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("locale", "final", "apr"),
    [
        ("en", "Final payment: <b>¥62,544.73</b>", "APR: the annualized rate by the IRR method"),
        ("zh", "末期还款：<b>¥62,544.73</b>", "年化利率（APR）按内部收益率（IRR）法计算"),
    ],
)
def test_a_balloon_result_shows_the_final_payment_and_its_date(locale, final, apr):
    """The default 30% balloon of 200,000 is 60,000, due with the 36th installment
    (2,544.73, the last regular payment) on 1 March 2029, 36 months after the payout."""
    text = render(locale, Policy())
    assert final in text and apr in text and "¥60,000" in text  # a whole amount, no .00
    assert {"en": "Mar 1, 2029", "zh": "2029年3月1日"}[locale] in text


def test_a_floating_rate_result_says_the_payment_will_change():
    text = render("en", Policy.model_validate({"rates": {"basis": "floating"}}))
    assert "reset every 1 January. Your payment will change when the LPR does." in text

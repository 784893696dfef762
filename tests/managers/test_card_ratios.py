"""The lead card's ratios are those of the payment printed next to them; the stress
test's payment shows only where it decided. Figures worked by hand in each test."""

from __future__ import annotations

import json
from datetime import date

from lending.answers import parse_answers
from lending.assessment import assess
from lending.policy import Policy
from services.applications.submission import assessment_record
from tests.managers.conftest import ANSWERS, group_messages
from tests.submissions import store_submission

POLICY = Policy()


async def _card_for(world, user_id: int, **changes: object) -> str:
    answers = {**ANSWERS, **changes}
    assessment = assess(parse_answers(answers), POLICY, date(2026, 3, 1))
    record = assessment_record(assessment)
    await store_submission(
        world.runtime,
        user_id,
        "Wang Fang",
        answers_json=json.dumps(answers),
        phone="+8613812345678",
        moment=world.runtime.clock.now().isoformat(),
        assessment={
            "decision": record["decision"],
            "tier": record["tier"],
            "score": record["score"],
            "loan_amount": record["loan_amount"],
            "monthly_payment": record["monthly_payment"],
            "annual_rate": record["annual_rate"],
            "apr": str(assessment.apr),
            "result": json.dumps(record),
        },
        human=False,
        now=world.runtime.clock.now(),
    )
    await world.settle()
    return group_messages(world)[-1].text


async def test_the_card_ratio_is_that_of_the_payment_shown(world):
    # 140,000 over 36 months at tier B's 4.8%: 4,120.91 a month; on 25,000 that is 16.48%
    # (the stress rate's 4,290.92 would be 17.16%).
    text = await _card_for(
        world, 1201, powertrain="fuel", monthly_income="25000.00", monthly_debt="0.00",
        employment_months=36,
    )  # fmt: skip
    assert "monthly ¥4,120.91 · PTI 16.48%" in text
    assert "PTI 16.48% · DTI 16.48%\n• " in text
    assert "17.16" not in text and "stress" not in text
    assert "{" not in text


async def test_where_the_stress_test_decided_the_card_says_so(world):
    # 140,000 over 24 months: 6,129.46 at tier B's 4.8% is 39.03% of 15,705 (under the 40%
    # cap); the stress rate's 6,236.48 is 39.71%, under it too, so the stress test does
    # not decide here. At 15,400: 6,129.46 is 39.80%, the stress payment 40.50%: declined
    # on the stress test alone.
    text = await _card_for(
        world, 1202, powertrain="fuel", monthly_income="15400.00", monthly_debt="0.00",
        employment_months=36, term_months=24,
    )  # fmt: skip
    assert "monthly ¥6,129.46 · PTI 39.8%" in text
    assert "DTI 39.8%\n⚠️ stress 6.5%: ¥6,236.48 · PTI 40.5%\n" in text
    assert "{" not in text

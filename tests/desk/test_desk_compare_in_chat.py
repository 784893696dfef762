"""At the method question a buyer can compare the three methods before choosing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.sandbox.world import SandboxWorld
from lending.comparison import compare_methods
from tests.formats import grouped
from tests.prequalify.journey import GOOD, act, begin, keys_for, label


@pytest.mark.parametrize(("locale", "language"), [("en", "en"), ("zh", "zh-hans")])
async def test_compare_at_the_method_question_then_choose(
    world: SandboxWorld, locale: str, language: str
) -> None:
    buyer = world.user(1001, "Li", language)
    await begin(world, buyer, locale)
    keys = keys_for(GOOD)
    for key in keys[: keys.index("method")]:
        await act(world, buyer, locale, key, GOOD[key])
    question = buyer.last_text()

    buyer.press(label(locale, "desk_compare"))
    await world.settle()

    comparison_text, asked_again = [m.text for m in buyer.bot_messages()[-2:]]
    policy = world.runtime.policy
    expected = compare_methods(
        Decimal(140000),
        policy.rates.rate_for("B"),
        36,
        world.runtime.local_now().date(),
        Decimal(200000) * policy.balloon.default_percent / 100,
    )
    for row in expected.rows:
        assert grouped(row.first_payment) in comparison_text
        assert grouped(row.total_interest) in comparison_text
    assert asked_again == question  # the same question, still waiting for a choice

    await act(world, buyer, locale, "method", "equal-principal")
    stored = await world.runtime.db.fetchval(
        "SELECT CAST(answers AS TEXT) FROM applications WHERE user_id = ? AND status = 'draft'",
        (buyer.id,),
    )
    assert '"method": "equal-principal"' in stored

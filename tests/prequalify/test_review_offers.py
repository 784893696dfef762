"""A plan referred to a manager says why in the buyer's words, quotes the payment at the
rate their tier earns, and lists the plans that would pre-qualify at once; the managers'
card speaks about the buyer. Figures are worked by hand (closed forms) in the test."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from bot.sandbox.world import SandboxWorld
from tests.managers.conftest import group_messages
from tests.prequalify.journey import GOOD, answer_all, begin, confirm, label, stored

# A strong buyer (tier A, 3.8%) whose 30% balloon keeps the balance above the car's value
# for too long: 200,000 NEV, 15% down, 60 months.
UNDERWATER = {**GOOD, "powertrain": "nev", "down_payment": "30000", "term_months": 60,
              "method": "balloon"}  # fmt: skip


def balloon_payment(loan: int, balloon: int, annual_percent: str, months: int) -> Decimal:
    """The level payment of a balloon loan: (L - B v^n) r / (1 - v^n), v = 1 / (1 + r)."""
    r = Decimal(annual_percent) / 1200
    v_n = (1 + r) ** -months
    payment = (loan - balloon * v_n) * r / (1 - v_n)
    return payment.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_the_closed_form_matches_a_hand_figure():
    assert balloon_payment(170000, 60000, "3.8", 60) == Decimal("2205.90")


TEXTS = {
    "en": {
        "why": "For more than 6 months you would owe more than the car is likely to be worth.",
        "rate": "¥2,205.90 a month at 3.8%",
        "plans": "These plans would pre-qualify at once",
        "button": "Balloon 13% of the price: ¥2,721.34/month",
        "card": "Would owe more than the car is likely to be worth for more than 6 months.",
    },
    "zh": {
        "why": "有超过6个月的时间，您的贷款余额将高于车辆的预估价值。",
        "rate": "3.8%",
        "plans": "以下方案可直接通过预审",
        "button": "尾款降至车价的13%：月供",
        "card": "贷款余额高于车辆预估价值的时间将超过6个月。",
    },
}


@pytest.mark.parametrize(
    ("locale", "client", "user_id"), [("en", "en-US", 2301), ("zh", "zh-hans", 2302)]
)
async def test_a_referred_plan_says_why_and_offers_the_plans_that_qualify(
    world: SandboxWorld, locale: str, client: str, user_id: int
) -> None:
    words = TEXTS[locale]
    buyer = world.user(user_id, "Li", client)
    await begin(world, buyer, locale)
    await answer_all(world, buyer, locale, UNDERWATER)
    await confirm(world, buyer, locale)
    text = buyer.last_text()
    assert words["why"] in text and words["rate"] in text and words["plans"] in text
    assert "close to our limits" not in text and "6.5%" not in text
    assert "接近我们的上限" not in text
    card = group_messages(world)[-1].text
    assert TEXTS["en"]["card"] in card and "you would" not in card and "{" not in card

    # 13% is the largest balloon that qualifies: 26,000 at the end of a 170,000 loan,
    # (170,000 - 26,000 v^60) r / (1 - v^60) at 3.8% = 2,721.34 a month.
    assert balloon_payment(170000, 26000, "3.8", 60) == Decimal("2721.34")
    [button] = [b.text for b in buyer.buttons() if b.text.startswith(words["button"])]
    buyer.press(button)
    await world.settle()
    buyer.press(label(locale, "apply_take_offer"))
    await world.settle()
    data = await stored(world, user_id)
    first, second = data["applications"]
    assert second["based_on"] == first["id"]
    assert Decimal(str(second["answers"]["balloon_percent"])) == 13
    assert [a["decision"] for a in data["assessments"]] == ["review", "prequalified"]

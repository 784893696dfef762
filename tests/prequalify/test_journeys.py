"""Prospects from /start to a result, in both languages: what they see, what is stored,
the lead, and the managers' card queued in the outbox."""

from __future__ import annotations

import pytest

from bot.sandbox.world import SandboxWorld
from tests.prequalify.journey import (
    DECLINED,
    GOOD,
    NAME,
    REVIEW,
    answer_all,
    assert_name_intact,
    begin,
    confirm,
    edit_answer,
    label,
    stored,
)

LOCALES = [("en", "en-US", 2101), ("zh", "zh-hans", 2102)]
PREQUALIFIED = {"en": "you pre-qualify", "zh": "您已通过预审"}
NEEDS_REVIEW = {"en": "needs a closer look", "zh": "需要客户经理进一步审核"}
NOT_QUALIFIED = {"en": "does not pre-qualify", "zh": "未通过预审"}


@pytest.mark.parametrize(("locale", "client", "user_id"), LOCALES)
async def test_a_prospect_who_prequalifies(
    world: SandboxWorld, locale: str, client: str, user_id: int
) -> None:
    buyer = world.user(user_id, "Li", client)
    buyer.command("/start ad-campaign-7")
    await world.settle()
    intro = buyer.bot_messages()[0].text
    assert {"en": "two minutes", "zh": "两分钟"}[locale] in intro
    assert {"en": "credit-bureau", "zh": "征信"}[locale] in intro
    buyer.press(label(locale, "apply_agree"))
    await world.settle()
    assert buyer.last_text().startswith("1/15")
    await answer_all(world, buyer, locale, GOOD)
    summary = buyer.last_text()
    # The phone as people write it: "138 0000 2101" for +8613800002101.
    digits = f"{user_id:08d}"
    assert NAME in summary and f"138 {digits[:4]} {digits[4:]}" in summary
    await confirm(world, buyer, locale)

    messages = buyer.bot_messages()
    result, chart = messages[-2], messages[-1]
    assert PREQUALIFIED[locale] in result.text
    assert "4,120.91" in result.text  # the monthly payment, from the lending engine
    assert "4.47" in result.text  # APR beside the 3.8% rate
    assert "photo" in chart.data and chart.text  # the schedule as a picture, with a caption

    data = await stored(world, user_id)
    [application] = data["applications"]
    assert application["status"] == "submitted"
    assert application["full_name"] == NAME
    assert application["phone"] == f"+86138{user_id:08d}"
    assert application["answers"]["price"] == "200000.00"
    [assessment] = data["assessments"]
    assert (assessment["decision"], assessment["tier"]) == ("prequalified", "A")
    [lead] = data["leads"]
    assert (lead["application_id"], lead["status"]) == (application["id"], "new")
    [card] = data["manager_outbox"]
    assert card["status"] == "sent"
    consent = await world.runtime.db.fetchone(
        "SELECT consent_status, consent_version FROM users WHERE user_id = ?", (user_id,)
    )
    assert consent["consent_status"] == "given" and consent["consent_version"]
    assert assert_name_intact(world) >= 3  # summary, result, managers' card
    # Another feature records the deep link's payload as the lead's source.
    user_data = world.app.user_data[user_id]
    assert user_data["start_payload"] == "ad-campaign-7"


@pytest.mark.parametrize(("locale", "client", "user_id"), LOCALES)
async def test_a_prospect_who_needs_review(
    world: SandboxWorld, locale: str, client: str, user_id: int
) -> None:
    buyer = world.user(user_id, "Li", client)
    await begin(world, buyer, locale)
    await answer_all(world, buyer, locale, REVIEW)
    await confirm(world, buyer, locale)
    assert NEEDS_REVIEW[locale] in buyer.last_text()
    assert NAME in buyer.last_text()
    data = await stored(world, user_id)
    assert [a["decision"] for a in data["assessments"]] == ["review"]
    [lead] = data["leads"]
    assert lead["decision"] == "review" and lead["status"] == "new"
    assert len(data["manager_outbox"]) == 1
    assert_name_intact(world)


@pytest.mark.parametrize(("locale", "client", "user_id"), LOCALES)
async def test_declined_takes_a_counter_offer_and_prequalifies(
    world: SandboxWorld, locale: str, client: str, user_id: int
) -> None:
    buyer = world.user(user_id, "Li", client)
    await begin(world, buyer, locale)
    await answer_all(world, buyer, locale, DECLINED)
    await confirm(world, buyer, locale)
    declined = buyer.last_text()
    assert NOT_QUALIFIED[locale] in declined
    assert "40" in declined  # the payment-to-income cap, in plain words
    offers = [b.text for b in buyer.buttons()]
    assert len(offers) == 4  # more down, longer term, cheaper car, and a manager
    data = await stored(world, user_id)
    assert data["leads"] == [] and data["manager_outbox"] == []  # nobody is bothered yet

    buyer.press(offers[1])  # the longer term
    await world.settle()
    assert "48" in buyer.last_text()
    buyer.press(label(locale, "apply_offers_back"))  # look at the list again
    await world.settle()
    assert NOT_QUALIFIED[locale] in buyer.last_text()
    buyer.press(offers[1])
    await world.settle()
    offer_message = buyer.last_message()
    [take] = [b for b in buyer.buttons() if b.text == label(locale, "apply_take_offer")]
    buyer.press(label(locale, "apply_take_offer"))
    await world.settle()
    assert PREQUALIFIED[locale] in buyer.bot_messages()[-2].text

    data = await stored(world, user_id)
    first, second = data["applications"]
    assert second["based_on"] == first["id"] and second["answers"]["term_months"] == 48
    assert [a["decision"] for a in data["assessments"]] == ["declined", "prequalified"]
    [lead] = data["leads"]
    assert lead["application_id"] == second["id"]
    assert len(data["manager_outbox"]) == 1
    # The same button again (a double tap that raced the edit): expired, nothing new stored.
    world.core.new_callback_query(user_id, offer_message, take.button["callback_data"])
    await world.settle()
    assert buyer.toasts()[-1] == label(locale, "apply_stale")
    assert len((await stored(world, user_id))["applications"]) == 2
    assert_name_intact(world)


@pytest.mark.parametrize(("locale", "client", "user_id"), LOCALES)
async def test_back_twice_then_edit_the_car_from_the_summary(
    world: SandboxWorld, locale: str, client: str, user_id: int
) -> None:
    buyer = world.user(user_id, "Li", client)
    await begin(world, buyer, locale)
    order = list(GOOD)
    order.remove("vehicle_age_years")
    for key in order[:6]:  # up to and including the term
        from tests.prequalify.journey import act

        await act(world, buyer, locale, key, GOOD[key])
    assert buyer.last_text().startswith("7/15")
    buyer.press(label(locale, "apply_back"))
    await world.settle()
    assert buyer.last_text().startswith("6/15")
    buyer.press(label(locale, "apply_back"))
    await world.settle()
    assert buyer.last_text().startswith("5/15")  # the down payment, asked again
    buyer.send("30%")
    await world.settle()
    buyer.press(label(locale, "apply_term_option", term=48))
    await world.settle()
    assert buyer.last_text().startswith("7/15")
    await answer_all(world, buyer, locale, GOOD, skip=6)
    down = {"en": "¥60,000 (30%)", "zh": "6万元（30%）"}[locale]  # a price's share in 万 in Chinese
    assert down in buyer.last_text() and "48" in buyer.last_text()

    # Make it a used car: its age is asked, then the term (48 is not offered for used cars)
    # and the down payment still fits, so only those two come before the summary.
    await edit_answer(world, buyer, locale, "vehicle_condition")
    buyer.press(label(locale, "apply_choice_used"))
    await world.settle()
    assert buyer.last_text().startswith("5/16")
    buyer.send("2")
    await world.settle()
    assert buyer.last_text().startswith("7/16")
    buyer.press(label(locale, "apply_term_option", term=36))
    await world.settle()
    summary = buyer.last_text()
    assert label(locale, "apply_choice_used") in summary
    # Edit the price upwards: the down payment is now under the used-car minimum (30%).
    await edit_answer(world, buyer, locale, "price")
    buyer.send("30万")
    await world.settle()
    assert buyer.last_text().startswith("6/16")
    buyer.send("100000")
    await world.settle()
    await confirm(world, buyer, locale)
    data = await stored(world, user_id)
    [application] = data["applications"]
    answers = application["answers"]
    assert answers["vehicle_condition"] == "used" and answers["vehicle_age_years"] == 2
    assert (answers["price"], answers["down_payment"], answers["term_months"]) == (
        "300000.00",
        "100000.00",
        36,
    )
    assert len(data["leads"]) == 1 and len(data["manager_outbox"]) == 1
    assert_name_intact(world)

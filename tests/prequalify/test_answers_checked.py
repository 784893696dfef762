"""Answers the chat checks: a retiree is not asked about job tenure (the pension stands in
for it), and answers that disagree at Confirm are asked again, never assessed."""

from __future__ import annotations

import re

import pytest

from bot.sandbox.world import SandboxWorld
from tests.prequalify.journey import GOOD, answer_all, begin, confirm, stored

RETIRED = {**GOOD, "employment": "retired", "age": "58", "term_months": 36}


async def test_a_retiree_skips_the_job_tenure_question_and_is_not_told_about_it(
    world: SandboxWorld,
) -> None:
    buyer = world.user(2301, "Zhao", "en-US")
    await begin(world, buyer, "en")
    assert buyer.last_text().startswith("1/15")  # employment is not known yet
    await answer_all(world, buyer, "en", RETIRED)
    asked = [m.text for m in buyer.bot_messages()]
    assert not any("in your current job" in text for text in asked)
    income = next(text for text in asked if "monthly net income" in text)
    # The skipped question counts as a step: the total does not shrink mid-journey.
    employment = next(text for text in asked if "employment" in text.lower())
    assert employment.startswith("8/15") and income.startswith("10/15")
    await confirm(world, buyer, "en")
    texts = "\n".join(m.text for m in buyer.bot_messages())
    assert "you pre-qualify" in texts and "short time" not in texts
    data = await stored(world, 2301)
    assert data["applications"][-1]["answers"]["employment_months"] == 0


async def confirm_with_changed_answer(world: SandboxWorld, user_id: int, key: str, value: str):
    """Answer everything, change one stored answer behind the summary's back, Confirm.
    Returns what the buyer reads next and the assessments stored for them."""
    buyer = world.user(user_id, "Qian", "en-US")
    await begin(world, buyer, "en")
    await answer_all(world, buyer, "en", GOOD)
    world.app.user_data[user_id]["pq"]["answers"][key] = value
    await confirm(world, buyer, "en")
    return buyer.last_text(), (await stored(world, user_id))["assessments"]


async def test_answers_that_disagree_at_confirm_ask_the_question_again(
    world: SandboxWorld,
) -> None:
    """A down payment above the price is not a crash and not an assessment: the down
    payment question is asked again."""
    text, assessments = await confirm_with_changed_answer(world, 2302, "down_payment", "250000")
    assert "How much down payment will you make?" in text and assessments == []


async def test_an_answer_the_engine_refuses_at_confirm_is_asked_again_with_a_reason(
    world: SandboxWorld,
) -> None:
    text, assessments = await confirm_with_changed_answer(
        world, 2303, "monthly_income", "12000.005"
    )
    assert "does not fit your other answers" in text and "monthly net income" in text
    assert assessments == []


@pytest.mark.parametrize(
    ("condition", "employment", "totals"),
    [
        ("new", "salaried", {15}),
        ("new", "retired", {15}),
        ("used", "salaried", {15, 16}),
        ("used", "retired", {15, 16}),
    ],
)
async def test_the_step_counter_never_shrinks_its_total(
    world: SandboxWorld, condition: str, employment: str, totals: set[int]
) -> None:
    buyer = world.user(2310, "Zhao", "en-US")
    await begin(world, buyer, "en")
    assert "about 15 short questions" in buyer.bot_messages()[0].text
    answers = {**RETIRED, "vehicle_condition": condition, "employment": employment}
    await answer_all(world, buyer, "en", answers)
    counters = [
        (int(found[1]), int(found[2]))
        for m in buyer.bot_messages()
        if (found := re.match(r"(\d+)/(\d+)\n", m.text))
    ]
    steps = [k for k, _ in counters]
    assert steps == sorted(set(steps)) and steps[0] == 1
    shown = [n for _, n in counters]
    assert shown == sorted(shown) and set(shown) == totals
    assert steps[-1] == shown[-1]  # the last question is "n/n"

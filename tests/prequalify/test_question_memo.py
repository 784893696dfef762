"""Question texts and keyboards are remembered, yet every prospect sees their own: their
car's numbers, their language, their name, Back only where it goes somewhere, and the
current answer while editing. Each test fills the memo with one prospect first, then
checks that the next one is not shown it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from bot.sandbox.users import ScriptedUser
from bot.sandbox.world import SandboxWorld
from handlers.prequalify import states
from services.rendering import TEMPLATE_DIR, Renderer
from tests.prequalify.journey import (
    GOOD,
    RENDERER,
    act,
    answer_all,
    begin,
    edit_answer,
    keys_for,
    label,
)

# Two used cars at the same steps, differing only in price and age (so in the minimum
# down payment and the terms offered).
OLDER = {**GOOD, "vehicle_condition": "used", "price": "80000", "vehicle_age_years": "6",
         "down_payment": "30000", "term_months": 12}  # fmt: skip
NEWER = {**OLDER, "price": "150000", "vehicle_age_years": "2", "down_payment": "50000"}


def money(amount: Any) -> str:
    return RENDERER.envs["en"].filters["money"](amount)


def keyboard(buyer: ScriptedUser) -> list[str]:
    return [button.text for button in buyer.buttons() if button.kind == "reply"]


async def answer_until(
    world: SandboxWorld, buyer: ScriptedUser, locale: str, answers: dict[str, Any], stop: str
) -> None:
    """Answer in order up to (not including) the question `stop`, which is then open."""
    for key in keys_for(answers):
        if key == stop:
            return
        await act(world, buyer, locale, key, answers[key])


async def test_each_prospect_sees_their_own_car_in_the_down_payment_and_term(
    world: SandboxWorld,
) -> None:
    policy = world.runtime.policy
    buyers = [(world.user(2301, "Li", "en"), OLDER), (world.user(2302, "Wang", "en"), NEWER)]
    for buyer, answers in buyers:
        await begin(world, buyer, "en")
        await answer_until(world, buyer, "en", answers, states.DOWN_PAYMENT)
        low, _ = states.down_bounds(answers, policy)
        question = buyer.last_text()
        assert question.startswith("6/16")
        assert f"minimum is {money(low)}" in question and money(answers["price"]) in question

    seen = []
    for buyer, answers in buyers:
        await act(world, buyer, "en", states.DOWN_PAYMENT, answers[states.DOWN_PAYMENT])
        terms = states.car_terms(answers, policy)
        options = [label("en", "apply_term_option", term=t) for t in terms]
        assert buyer.last_text().startswith("7/16")
        assert f"{', '.join(map(str, terms))} months" in buyer.last_text()
        assert keyboard(buyer)[: len(options)] == options
        seen.append(keyboard(buyer))
    assert seen[0] != seen[1]


async def test_new_and_used_cars_count_their_own_steps(world: SandboxWorld) -> None:
    new, used = world.user(2309, "Li", "en"), world.user(2310, "Wang", "en")
    for buyer, condition in ((new, "new"), (used, "used")):
        await begin(world, buyer, "en")
        await act(world, buyer, "en", states.VEHICLE_CONDITION, condition)
    assert new.last_text().startswith("2/15") and used.last_text().startswith("2/16")


async def test_the_same_question_in_chinese_and_english(world: SandboxWorld) -> None:
    english = world.user(2303, "Li", "en")
    chinese = world.user(2304, "Li", "zh-hans")
    for buyer, locale in ((english, "en"), (chinese, "zh")):
        await begin(world, buyer, locale)
        await answer_until(world, buyer, locale, GOOD, states.METHOD)
    assert "How would you like to repay" in english.last_text()
    assert "还款方式" in chinese.last_text()
    assert label("zh", "apply_choice_annuity") in keyboard(chinese)
    assert label("en", "apply_choice_annuity") in keyboard(english)


async def test_the_name_suggestion_is_the_prospects_own(world: SandboxWorld) -> None:
    li = world.user(2305, "Li", "en")
    wang = world.user(2306, "Wang", "en")
    for buyer in (li, wang):
        await begin(world, buyer, "en")
        await answer_until(world, buyer, "en", GOOD, states.FULL_NAME)
    assert "Li" in keyboard(li) and "Wang" not in keyboard(li)
    assert "Wang" in keyboard(wang) and "Li" not in keyboard(wang)


async def test_back_and_the_current_answer_only_where_they_belong(world: SandboxWorld) -> None:
    back = label("en", "apply_back")
    first = world.user(2307, "Li", "en")
    await begin(world, first, "en")
    assert first.last_text().startswith("1/15") and back not in keyboard(first)
    await act(world, first, "en", states.VEHICLE_CONDITION, "new")
    assert back in keyboard(first)
    await answer_all(world, first, "en", GOOD, skip=1)

    # The first question again, from the summary: Back (to the summary) and the answer now.
    await edit_answer(world, first, "en", states.VEHICLE_CONDITION)
    now = f"Now: {label('en', 'apply_choice_new')}"
    assert first.last_text().startswith("1/15") and now in first.last_text()
    assert back in keyboard(first)

    second = world.user(2308, "Wang", "en")
    await begin(world, second, "en")
    assert second.last_text().startswith("1/15") and "Now:" not in second.last_text()
    assert back not in keyboard(second)


def test_two_renderers_never_share_what_they_remember(tmp_path: Path) -> None:
    shutil.copytree(TEMPLATE_DIR, tmp_path, dirs_exist_ok=True)
    template = tmp_path / "en" / "apply_question.j2"
    template.write_text(template.read_text("utf-8").replace("new or used", "NEW OR USED"))

    def ask(renderer: Renderer) -> str:
        return renderer.render("en", "apply_question", key="vehicle_condition", step=1,
                               total=15, note=None, current=None)  # fmt: skip

    shipped, edited = Renderer(), Renderer(template_dir=tmp_path)
    assert "new or used" in shipped.memoised(ask)()
    assert "NEW OR USED" in edited.memoised(ask)()
    assert "new or used" in shipped.memoised(ask)()


async def test_the_summary_edits_only_the_questions_each_prospect_was_asked(
    world: SandboxWorld,
) -> None:
    """The summary's keyboards are remembered per language and per set of questions: a used
    car's group "The car" edits the car's age, a new car's, shown after it, does not."""
    used = world.user(2311, "Wang", "en")
    new = world.user(2312, "Li", "en")
    chinese = world.user(2313, "Zhang", "zh-hans")
    for buyer, locale, answers in ((used, "en", OLDER), (new, "en", GOOD), (chinese, "zh", GOOD)):
        await begin(world, buyer, locale)
        await answer_all(world, buyer, locale, answers)
    age = label("en", "apply_edit", field=label("en", "apply_field_vehicle_age_years"))

    def inline(buyer: ScriptedUser) -> list[str]:
        return [button.text for button in buyer.buttons() if button.kind == "inline"]

    assert label("zh", "apply_confirm") in inline(chinese)
    assert label("en", "apply_confirm") not in inline(chinese)
    car = label("en", "apply_edit", field=label("en", "apply_group_car"))
    for buyer in (used, new):
        assert len(inline(buyer)) == 4  # three groups and Confirm
        buyer.press(car)
        await world.settle()
    assert age in inline(used) and age not in inline(new)
    assert len(inline(new)) == len(inline(used)) - 1

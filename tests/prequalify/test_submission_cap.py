"""One person, many applications: at most the policy's number in its period (3 a day by
default); beyond it they see their /status and are offered their manager, in their own
language, and nothing reaches the managers' group."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.sandbox.users import ScriptedUser
from bot.sandbox.world import SandboxWorld
from services.applications import submission as applications
from services.people.users import ensure_user
from tests.prequalify.journey import GOOD, answer_all, confirm, label, stored

CAP = 3  # lending/default_policy.toml: [leads] max_per_person, per_person_hours = 24


async def apply_once(
    world: SandboxWorld, buyer: ScriptedUser, locale: str, price: int = 200_000
) -> None:
    """/start, "New application" when offered, consent the first time, every answer,
    Confirm; a minute after the last one (a person, not a flood)."""
    world.clock.advance(timedelta(minutes=1))
    buyer.command("/start")
    await world.settle()
    buttons = {b.text for b in buyer.buttons()}
    if label(locale, "apply_new") in buttons:
        buyer.press(label(locale, "apply_new"))
        await world.settle()
    if label(locale, "apply_agree") in {b.text for b in buyer.buttons()}:  # the first time
        buyer.press(label(locale, "apply_agree"))
        await world.settle()
    await answer_all(world, buyer, locale, {**GOOD, "price": str(price)})
    await confirm(world, buyer, locale)


def group_messages(world: SandboxWorld) -> int:
    return len(world.manager(0).group.screen())


async def test_a_hundred_submissions_by_one_person_stop_at_the_cap(world):
    buyer = world.user(2501, "Li", "en")
    prices = iter(range(200_000, 220_000, 100))  # a different car each time
    for _ in range(CAP):
        await apply_once(world, buyer, "en", next(prices))
    in_group = group_messages(world)
    for _ in range(100 - CAP):
        await apply_once(world, buyer, "en", next(prices))
        last_two = [m.text for m in buyer.bot_messages()[-2:]]
        assert "Your application" in last_two[0], last_two  # their /status
        assert f"already sent {CAP} applications" in last_two[1], last_two
        assert label("en", "apply_manager") in {b.text for b in buyer.buttons()}
    data = await stored(world, buyer.id)
    assert sum(a["status"] == "submitted" for a in data["applications"]) == CAP
    assert len(data["leads"]) == CAP
    assert not [a for a in data["applications"] if a["status"] == "draft"]  # none to nudge
    assert group_messages(world) == in_group  # the managers heard of none of the rest
    # A day later there is room again.
    await world.travel(timedelta(hours=25), step=timedelta(hours=5))
    await apply_once(world, buyer, "en", next(prices))
    assert "you pre-qualify" in buyer.bot_messages()[-2].text


async def test_the_cap_speaks_chinese_too(world):
    buyer = world.user(2502, "李", "zh-hans")
    for price in range(200_000, 200_000 + (CAP + 1) * 1_000, 1_000):
        await apply_once(world, buyer, "zh", price)
    assert f"已提交 {CAP} 份申请" in buyer.last_text()
    assert label("zh", "apply_manager") in {b.text for b in buyer.buttons()}


async def test_the_same_answers_again_are_the_same_application_not_a_new_one(world):
    """Confirm again after a crash lost the conversation's end, or a new application with
    exactly the same answers: the stored one, its result shown again, nothing new."""
    buyer = world.user(2504, "Li", "en")
    await apply_once(world, buyer, "en")
    in_group = group_messages(world)
    await apply_once(world, buyer, "en")
    data = await stored(world, buyer.id)
    assert [a["status"] for a in data["applications"]] == ["submitted", "abandoned"]
    assert len(data["leads"]) == 1 and group_messages(world) == in_group
    assert sum("you pre-qualify" in m.text for m in buyer.bot_messages()) == 2


async def test_two_submissions_at_once_at_the_last_free_place_make_one(world):
    runtime = world.runtime
    plans = iter(
        _lending({**GOOD, "price": str(price)}) for price in range(200_000, 300_000, 1_000)
    )
    await ensure_user(runtime, 2503, "Li", "en")

    def submit():
        return applications.submit(
            runtime, 2503, next(plans), full_name="Li", phone="138", locale="en"
        )

    for _ in range(CAP - 1):
        await submit()
    outcomes = await asyncio.gather(submit(), submit(), return_exceptions=True)
    assert sum(isinstance(o, applications.TooManyApplications) for o in outcomes) == 1
    count = await runtime.db.fetchval(
        "SELECT count(*) FROM applications WHERE user_id = 2503 AND status = 'submitted'"
    )
    assert count == CAP
    with pytest.raises(applications.TooManyApplications):
        await submit()


def _lending(answers: dict):
    """The answers as Confirm hands them to the service (a new car has no age)."""
    from handlers.prequalify.result import lending_answers

    return lending_answers(answers)

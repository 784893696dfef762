"""Confirm makes one application, whatever Telegram does to the messages around it.

The application, its assessment, its lead and the managers' card are stored before
anything is sent; the result goes through the outbox, which retries. A Confirm pressed
twice, or again while the result is still on its way, makes nothing new."""

from __future__ import annotations

from datetime import timedelta

from bot.sandbox.users import ScriptedUser
from bot.sandbox.world import SandboxWorld
from tests.prequalify.journey import GOOD, answer_all, begin, label, stored

RESULT = "you pre-qualify"


def results_seen(buyer: ScriptedUser) -> int:
    return sum(RESULT in m.text for m in buyer.bot_messages())


def cards_for(world: SandboxWorld, lead_id: int) -> int:
    return sum(f"#{lead_id}" in m.text for m in world.manager(0).group.screen())


async def at_summary(world: SandboxWorld, user_id: int) -> ScriptedUser:
    buyer = world.user(user_id, "Li", "en")
    await begin(world, buyer, "en")
    await answer_all(world, buyer, "en", GOOD)
    return buyer


async def test_a_failed_send_at_confirm_still_delivers_one_result(database):
    async with SandboxWorld.create(database, raise_errors=False) as world:
        buyer = await at_summary(world, 2301)
        summary = buyer.last_message()
        confirm_data = next(
            b.button["callback_data"]
            for b in buyer.buttons()
            if b.text == label("en", "apply_confirm")
        )
        # The first tries of the card and of the result both answer 502.
        world.core.faults.fail_next("sendMessage", 2, status=502)
        buyer.press(label("en", "apply_confirm"))
        await world.settle()
        assert world.core.faults.injected["502"] == 2
        assert results_seen(buyer) == 0  # not yet: the outbox tries again shortly
        # The buyer, seeing nothing, presses Confirm again on the same summary.
        again = world.core.new_callback_query(buyer.id, summary, confirm_data)
        await world.settle()
        assert world.core.callback_queries[again].answer_text == label("en", "apply_result_coming")
        await world.travel(timedelta(minutes=5), step=timedelta(seconds=30))

        data = await stored(world, buyer.id)
        assert [a["status"] for a in data["applications"]] == ["submitted"]
        assert len(data["assessments"]) == 1 and len(data["leads"]) == 1
        assert results_seen(buyer) == 1
        assert cards_for(world, data["leads"][0]["id"]) == 1
        # The conversation moved on: /start now greets a returning buyer.
        buyer.command("/start")
        await world.settle()
        assert label("en", "apply_status") in {b.text for b in buyer.buttons()}


async def test_confirm_pressed_twice_makes_one_application_and_shows_the_result(world):
    buyer = await at_summary(world, 2302)
    summary = buyer.last_message()
    confirm_data = next(
        b.button["callback_data"] for b in buyer.buttons() if b.text == label("en", "apply_confirm")
    )
    world.core.new_callback_query(buyer.id, summary, confirm_data)
    world.core.new_callback_query(buyer.id, summary, confirm_data)
    await world.settle()
    data = await stored(world, buyer.id)
    assert len(data["applications"]) == 1 and len(data["leads"]) == 1
    assert results_seen(buyer) == 1
    assert cards_for(world, data["leads"][0]["id"]) == 1
    # Pressed again later, it shows the stored result once more, and stores nothing.
    world.clock.advance(timedelta(minutes=5))
    world.core.new_callback_query(buyer.id, summary, confirm_data)
    await world.settle()
    assert results_seen(buyer) == 2
    data = await stored(world, buyer.id)
    assert len(data["applications"]) == 1 and len(data["leads"]) == 1

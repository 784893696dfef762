"""A member of the managers' group who is not a manager forges every kind of button the bot
makes and presses it on a lead card: no message changes, nothing is posted anywhere, and
each press is answered. Buyer buttons work only in the buyer's own private chat; a press
without a message (an inline message) is answered, never a crash."""

from __future__ import annotations

import re
from datetime import timedelta

from telegram.ext import CallbackQueryHandler, ConversationHandler

from bot.sandbox.state import CallbackQueryRecord
from bot.sandbox.world import SandboxWorld
from tests.prequalify.journey import GOOD, answer_all, begin, confirm, label

STRANGER = 5555


def forged(application_id: int, lead_id: int) -> list[str]:
    """Callback data of every kind the bot makes (real ids where it takes ids)."""
    app, lead = application_id, lead_id
    return [
        "lang:en", "lang:zh",
        "v1:pqc:yes", "v1:pqc:no", "v1:pqe:price", "v1:pqok", "v1:pqn", "v1:pqs", "v1:pqh",
        "v1:pqgo", f"v1:pqo:{app}:0", f"v1:pqt:{app}:0", f"v1:pqd:{app}",
        "v1:pqg", "v1:pqg:car", "v1:pqk:price:1:y", "v1:pqx",
        "v1:dcmp", f"v1:dcmp:{app}", "v1:privacy_forget:yes", "v1:privacy_forget:no",
        "v1:lpaid:1", "v1:lsched:1", "v1:lmgr:1", f"v1:lhuman:{lead}",
        f"v1:lclaim:{lead}", f"v1:ldetail:{lead}", f"v1:lstep:{lead}:contacted",
        f"v1:llost:{lead}", f"v1:llost:{lead}:price", f"v1:lchk:{lead}:id_verified:d",
        f"v1:disburse:{lead}", f"v1:dsb:ok:{lead}", "v1:lconf:1", "v1:lrej:1",
        "v1:nosuchaction", "not ours at all",
    ]  # fmt: skip


def button_patterns(world: SandboxWorld) -> list[re.Pattern[str]]:
    """Every CallbackQueryHandler pattern registered, inside conversations too."""
    found: list[re.Pattern[str]] = []

    def visit(handler: object) -> None:
        if isinstance(handler, CallbackQueryHandler) and isinstance(handler.pattern, re.Pattern):
            found.append(handler.pattern)
        if isinstance(handler, ConversationHandler):
            for inner in [*handler.entry_points, *handler.fallbacks]:
                visit(inner)
            for handlers in handler.states.values():
                for inner in handlers:
                    visit(inner)

    assert world.app is not None
    for group in world.app.handlers.values():
        for handler in group:
            visit(handler)
    return found


async def submitted_buyer(world: SandboxWorld) -> tuple[int, int]:
    buyer = world.user(2401, "Li", "en")
    await begin(world, buyer, "en")
    await answer_all(world, buyer, "en", GOOD)
    await confirm(world, buyer, "en")
    row = await world.runtime.db.fetchone(
        "SELECT application_id, id FROM leads WHERE user_id = ?", (buyer.id,)
    )
    return int(row["application_id"]), int(row["id"])


async def test_every_forged_button_in_the_group_changes_nothing_and_posts_nothing(world):
    application_id, lead_id = await submitted_buyer(world)
    data = forged(application_id, lead_id)
    for pattern in button_patterns(world):
        assert any(pattern.search(d) for d in data), f"no forged press covers {pattern.pattern}"
    # A member of the group who has a private chat with the bot, and is no manager.
    stranger = world.core.user(STRANGER, "Stranger", started=True)
    group = stranger.group
    card = next(m for m in group.screen() if f"#{lead_id}" in m.text)
    before = {key: m.snapshot() for key, m in world.core.messages.items()}
    for payload in data:
        world.clock.advance(timedelta(seconds=1))  # a person pressing, not a flood
        query_id = world.core.new_callback_query(STRANGER, card, payload)
        await world.settle()
        after = {key: m.snapshot() for key, m in world.core.messages.items()}
        assert after == before, f"{payload!r} changed or posted a message"
        assert world.core.callback_queries[query_id].answered, f"{payload!r} left unanswered"
    assert stranger.bot_messages() == []  # Details included: nothing in their private chat
    # No conversation was started for them there.
    conversations = await world.runtime.db.fetchall("SELECT key FROM ptb_conversations")
    assert not [r for r in conversations if str(STRANGER) in r["key"]]


async def test_buyer_buttons_answer_with_a_refusal_outside_their_private_chat(world):
    application_id, lead_id = await submitted_buyer(world)
    stranger = world.core.user(STRANGER, "Stranger", started=True)
    card = next(m for m in stranger.group.screen() if f"#{lead_id}" in m.text)
    query_id = world.core.new_callback_query(STRANGER, card, "lang:en")
    await world.settle()
    answer = world.core.callback_queries[query_id].answer_text
    assert answer == world.runtime.renderer.label("en", "private_only")
    assert "I will speak English" not in card.text


async def test_a_press_without_a_message_is_answered(world):
    application_id, lead_id = await submitted_buyer(world)
    buyer = world.core.users[2401]
    for number, payload in enumerate(forged(application_id, lead_id)):
        world.clock.advance(timedelta(seconds=1))
        query_id = f"inline{number}"
        world.core.callback_queries[query_id] = CallbackQueryRecord(
            query_id, buyer.id, 0, 0, payload
        )
        world.core.push_update(
            "callback_query",
            {
                "id": query_id,
                "from": buyer.to_dict(),
                "inline_message_id": f"AAQ{number}",
                "chat_instance": "1",
                "data": payload,
            },
        )
        await world.settle()  # raises what a handler raised
        record = world.core.callback_queries[query_id]
        assert record.answered and record.answer_text == label("en", "apply_stale"), payload

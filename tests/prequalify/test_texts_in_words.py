"""What a buyer and the managers read is words: no raw code (human_requested, annuity,
self_employed) and no user id where a name is known, in either language, on every path."""

from __future__ import annotations

import re

import pytest

from bot.sandbox.world import SandboxWorld
from tests.prequalify.journey import DECLINED, GOOD, REVIEW, answer_all, begin, confirm

RAW = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(annuity|prequalified|equal-principal|salaried)\b")


@pytest.mark.parametrize(("locale", "client"), [("en", "en"), ("zh", "zh-hans")])
@pytest.mark.parametrize("answers", [GOOD, REVIEW, DECLINED], ids=["good", "review", "declined"])
async def test_no_raw_code_or_id_in_what_people_read(
    world: SandboxWorld, locale: str, client: str, answers: dict
) -> None:
    buyer = world.user(4001, "Li", client)
    await begin(world, buyer, locale)
    await answer_all(world, buyer, locale, answers)
    await confirm(world, buyer, locale)
    buyer.command("/status")
    await world.settle()
    manager = world.core.user(7001, "Zhang", client)
    manager.command("/start")
    await world.settle()
    cards = [m for m in world.core.chat_messages(world.core.group.id) if m.inline_keyboard]
    assert len(cards) == (0 if answers is DECLINED else 1)  # a declined buyer is no lead
    for card in cards:
        manager.group.press(card.inline_keyboard[0][0]["text"], message_id=card.message_id)
        await world.settle()
        assert "Zhang" in buyer.last_text()  # told who has their application
    for command in ("/mine", "/queue", "/lead 1", "/stats"):
        manager.command(command)
        await world.settle()

    texts = [m.text for m in buyer.bot_messages() + manager.bot_messages() if m.text]
    texts += [m.text for m in world.core.chat_messages(world.core.group.id) if m.text]
    assert len(texts) > 20
    for text in texts:
        assert not RAW.search(text), text
        for user_id in (7001, 4001):  # the phone holds the buyer's id: look for ids as ids
            assert f"#{user_id}" not in text and f"({user_id})" not in text, text

"""A burst of leads reaches the managers' group within Telegram's group limit (about 20
messages a minute): cards first, then digests, nothing dropped."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.managers.conftest import group_messages, open_test_lead

GROUP_LIMIT = 20


async def test_a_hundred_leads_in_a_minute_all_reach_the_group_within_the_limit(world):
    opened = []
    for n in range(100):
        world.clock.advance(timedelta(milliseconds=590))
        opened.append(await open_test_lead(world, 20000 + n, f"Buyer {n}"))
        await world.settle()
    await world.travel(timedelta(minutes=3), step=timedelta(seconds=5))

    sent = group_messages(world)
    times = sorted(m.data["date"] for m in sent)
    for start in times:  # every window of 60 seconds that begins at a sent message
        assert len([t for t in times if start <= t < start + 60]) <= GROUP_LIMIT
    assert len(sent) < 30
    shown = set()
    for message in sent:
        shown |= {int(i) for i in re.findall(r"#(\d+)", message.text)}
    assert shown >= set(opened)
    last_sent = max(times) - min(times)
    assert last_sent <= 120  # the last lead is in the group within two minutes of the first
    unplaced = await world.runtime.db.fetchval(
        "SELECT COUNT(*) FROM leads WHERE card_message_id IS NULL"
    )
    assert unplaced == 0
    failed = await world.runtime.db.fetchval("SELECT COUNT(*) FROM outbox WHERE status != 'sent'")
    assert failed == 0


async def test_a_lead_claimed_from_a_digest_shows_its_owner_there(world):
    for n in range(14):
        await open_test_lead(world, 30000 + n, f"Buyer {n}")
    await world.settle()
    await world.travel(timedelta(seconds=30), step=timedelta(seconds=5))
    digest = group_messages(world)[-1]
    assert "new leads" in digest.text
    manager = world.manager(0)
    manager.command("/back")
    await world.settle()
    first_button = manager.group.buttons(message_id=digest.message_id)[0]
    lead_id = int(first_button.text.removeprefix("Claim #"))
    manager.group.press(first_button.text, message_id=digest.message_id)
    await world.settle()
    await world.travel(timedelta(seconds=30), step=timedelta(seconds=5))
    digest = world.core.find_message(digest.chat_id, digest.message_id)
    assert f"Claim #{lead_id}" not in str(digest.inline_keyboard)
    assert "👔 Manager1" in digest.text

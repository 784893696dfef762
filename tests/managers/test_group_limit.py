"""A burst of leads reaches the managers' group within Telegram's group limit (about 20
messages a minute): cards first, then digests, nothing dropped."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.sandbox.world import MANAGER_IDS
from services.leads import cards as lead_cards
from services.leads import queue as leads
from services.leads.cards import GROUP_CARD_BUDGET
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


async def test_a_digest_is_made_once_when_it_leaves_with_every_lead_as_it_is_then(
    world, monkeypatch
):
    """Leads join a waiting digest without rendering it (a campaign's burst rendered it
    once per join); it is made when it leaves, so a claim before that shows there too."""
    calls = []
    payload = lead_cards.digest_payload

    async def counted(*args, **kwargs):
        calls.append(args[-1])
        return await payload(*args, **kwargs)

    monkeypatch.setattr(lead_cards, "digest_payload", counted)
    for n in range(GROUP_CARD_BUDGET):
        await open_test_lead(world, 31000 + n, f"Early {n}")
    await world.settle()
    joined = [await open_test_lead(world, 32000 + n, f"Buyer {n}") for n in range(8)]
    await world.settle()
    manager = world.manager(0)
    manager.command("/back")
    await world.settle()
    await leads.claim_lead(world.runtime, joined[2], MANAGER_IDS[0])
    await world.settle()
    assert calls == []  # eight joins and a claim, and the digest not made once
    before = len(group_messages(world))

    await world.travel(timedelta(seconds=30), step=timedelta(seconds=5))
    (digest,) = group_messages(world)[before:]
    assert len(calls) == 1
    assert all(f"#{lead_id}" in digest.text for lead_id in joined)
    assert "👔 Manager1" in digest.text
    claims = str(digest.inline_keyboard)
    assert f"Claim #{joined[2]}" not in claims and f"Claim #{joined[3]}" in claims
    placed = await world.runtime.db.fetchval(
        "SELECT COUNT(*) FROM leads WHERE card_message_id = ?", (digest.message_id,)
    )
    assert placed == len(joined)

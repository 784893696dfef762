"""The hand-off's edges: a manager who lost the lead cannot answer for it any more, a long
text that grows when escaped still arrives whole, and "sent" is said once it went."""

from __future__ import annotations

from datetime import timedelta

import markupsafe
from hypothesis import given
from hypothesis import strategies as st

from services.leads import queue as leads
from services.rendering import TEXT_LIMIT, split_escaped
from storage.values import from_json
from tests.managers.conftest import open_test_lead, reply

SENT_TO_MANAGER = "Sent to your manager. They will reply here."


async def owned_lead_with_a_waiting_buyer(world, owner=None, buyer_id: int = 1001):
    """A lead claimed by `owner` (the first manager by default) whose buyer asked for a
    person: their next message goes to the owner."""
    owner = owner or world.manager(0)
    for staff in (owner, world.manager(1)):
        staff.command("/back")
    buyer = world.user(buyer_id, "Li")
    buyer.command("/help")
    await world.settle()
    lead_id = await open_test_lead(world, buyer_id, "Li Wei")
    await world.settle()
    owner.group.press("✋ Claim")
    await world.settle()
    await leads.request_human(world.runtime, buyer_id)
    await world.settle()
    return owner, buyer, lead_id


async def test_after_reassign_the_former_owner_cannot_answer_the_buyer(world):
    owner, buyer, lead_id = await owned_lead_with_a_waiting_buyer(world)
    buyer.send("When can I come in?")
    await world.settle()
    relayed = owner.last_message()
    admin = world.admin()
    admin.command(f"/reassign {lead_id} {world.manager(1).id}")
    await world.settle()
    seen_by_buyer = len(buyer.bot_messages())

    reply(world, owner, relayed, "Tomorrow at 10, ask for me.")
    await world.settle()
    assert len(buyer.bot_messages()) == seen_by_buyer, buyer.last_text()
    assert (
        owner.last_text()
        == f"Not sent: lead #{lead_id} is now Manager2's, so your reply did not go to the buyer."
    )
    kinds = await world.runtime.db.fetchall(
        "SELECT kind FROM lead_events WHERE lead_id = ? AND kind = 'relayed_to_buyer'", (lead_id,)
    )
    assert kinds == []


async def test_an_admin_may_still_answer_after_giving_the_lead_away(world):
    """The rule is "the owner or an admin"."""
    admin = world.admin()
    admin, buyer, lead_id = await owned_lead_with_a_waiting_buyer(world, admin)
    buyer.send("Hello?")
    await world.settle()
    relayed = admin.last_message()
    admin.command(f"/reassign {lead_id} {world.manager(1).id}")
    await world.settle()
    reply(world, admin, relayed, "An admin here: yes.")
    await world.settle()
    assert "An admin here: yes." in buyer.last_text()


async def test_a_text_that_grows_when_escaped_arrives_whole_in_valid_parts(world):
    owner, buyer, lead_id = await owned_lead_with_a_waiting_buyer(world)
    text = "<&>\"'" * 800  # 4,000 characters; escaped, about 4.6 times as long
    buyer.send(text)
    await world.settle()
    parts = [m for m in owner.bot_messages() if "writes:\n" in m.text]
    assert len(parts) > 1
    received = "".join(m.text.split("writes:\n", 1)[1].rsplit("\n\n", 1)[0] for m in parts)
    assert received == text
    sent = await world.runtime.db.fetchall(
        "SELECT payload, status FROM outbox WHERE chat_id = ? AND dedup_key LIKE 'lead-relay:%'",
        (owner.id,),
    )
    assert {row["status"] for row in sent} == {"sent"}
    for row in sent:
        html = from_json(row["payload"])["text"]
        assert len(html.encode("utf-16-le")) // 2 <= TEXT_LIMIT
    assert buyer.last_text() == SENT_TO_MANAGER
    # And the manager's long answer comes back the same way.
    answer = "&" * 4000
    reply(world, owner, parts[-1], answer)
    await world.settle()
    back = [m.text for m in buyer.bot_messages() if m.text.startswith("💬 Your manager")]
    assert "".join(t.split(":\n", 1)[1] for t in back) == answer
    assert owner.last_text() == "✓ Sent to the buyer."


async def test_sent_is_said_only_once_the_message_went(database):
    from bot.sandbox.world import SandboxWorld

    async with SandboxWorld.create(database, raise_errors=False) as world:
        owner, buyer, lead_id = await owned_lead_with_a_waiting_buyer(world)
        world.core.faults.fail_next("sendMessage", 1, status=502)
        buyer.send("Is the price negotiable?")
        await world.settle()
        assert "Is the price negotiable?" not in owner.last_text()
        assert buyer.last_text() != SENT_TO_MANAGER
        await world.travel(timedelta(minutes=2), step=timedelta(seconds=30))
        assert "Is the price negotiable?" in owner.last_text()
        assert buyer.last_text() == SENT_TO_MANAGER


@given(
    text=st.text(alphabet=st.sampled_from("ab <>&\"'\n中😀"), max_size=3000),
    budget=st.integers(min_value=5, max_value=4096),
)
def test_split_pieces_rejoin_and_each_fits_once_escaped(text, budget):
    pieces = split_escaped(text, budget)
    assert "".join(pieces) == text
    for piece in pieces:
        assert piece or text == ""
        escaped = str(markupsafe.escape(piece))
        assert len(escaped.encode("utf-16-le")) // 2 <= budget


async def test_a_nul_character_typed_to_the_manager_is_dropped_not_a_failed_send(world):
    """PostgreSQL's jsonb cannot hold a NUL (the outbox payload is jsonb); a NUL means
    nothing in a chat, so the message goes without it, on both databases."""
    owner, buyer, _ = await owned_lead_with_a_waiting_buyer(world)
    buyer.send("When\x00 can I come in?")
    await world.settle()
    assert "Li Wei writes:\nWhen can I come in?\n\n" in owner.last_text()
    assert buyer.last_text() == SENT_TO_MANAGER

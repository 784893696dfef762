"""Managers claim a lead in the group and move it along the pipeline; the buyer hears
the steps that matter to them."""

from __future__ import annotations

import asyncio

from bot.sandbox.world import SandboxWorld
from services.leads import queue as leads
from tests.managers.conftest import group_messages, lead_row, open_test_lead

EXTRA_MANAGERS = range(7101, 7108)  # seven more, added by the admin in chat


async def _ten_managers(world: SandboxWorld):
    admin = world.admin()
    for user_id in EXTRA_MANAGERS:
        admin.command(f"/managers add {user_id} Extra{user_id}")
    await world.settle()
    assert admin.last_text() == "Done."
    team = [world.manager(i) for i in range(3)]
    team += [world.user(user_id, f"Extra{user_id}") for user_id in EXTRA_MANAGERS]
    for member in team:
        member.command("/back")  # opens their private chat with the bot
    await world.settle()
    return team


async def test_ten_managers_press_claim_at_once_and_exactly_one_owns_it(world):
    team = await _ten_managers(world)
    lead_id = await open_test_lead(world, 1001)
    await world.settle()
    card = group_messages(world)[-1]
    assert "138****5678" in card.text and "1234 5678" not in card.text
    assert "PTI 20.82%" in card.text and "tier B" in card.text
    assert "• The monthly payment is a large share of income (20.82%)." in card.text

    for member in team:  # all ten presses are queued before the bot sees any of them
        member.group.press("✋ Claim", message_id=card.message_id)
    await world.settle()

    row = await lead_row(world, lead_id)
    assert row["status"] == "claimed" and row["owner_id"] == team[0].id
    claims = await world.runtime.db.fetchval(
        "SELECT COUNT(*) FROM lead_events WHERE lead_id = ? AND kind = 'claimed'", (lead_id,)
    )
    assert claims == 1
    card = world.core.find_message(card.chat_id, card.message_id)
    assert "👔 Manager1" in card.text and "✋ Claim" not in str(card.inline_keyboard)
    for loser in team[1:]:
        assert loser.group.toasts() == [f"Lead #{lead_id} is already taken by Manager1."]
    assert "138 1234 5678" in team[0].last_text()  # the owner sees the full phone in private


async def test_simultaneous_claims_through_the_service_have_one_winner(world):
    ids = [7001, 7002, 7003, 9001, *EXTRA_MANAGERS[:6]]
    async with world.runtime.db.transaction() as conn:
        for user_id in EXTRA_MANAGERS:
            await conn.execute(
                "INSERT INTO managers (user_id, display_name, created_at) VALUES (?, ?, ?)",
                (user_id, f"X{user_id}", world.clock.now().isoformat()),
            )
    lead_id = await open_test_lead(world, 1002)
    results = await asyncio.gather(*(leads.claim_lead(world.runtime, lead_id, i) for i in ids))
    winners = [r for r in results if r.won]
    assert len(winners) == 1
    assert {r.owner_id for r in results} == {winners[0].owner_id}
    assert (await lead_row(world, lead_id))["owner_id"] == winners[0].owner_id


async def test_owner_moves_lead_to_approved_and_buyer_hears_claimed_and_approved(world):
    owner, other = world.manager(0), world.manager(1)
    owner.command("/back")
    other.command("/back")
    buyer = world.user(1003, "Wang")
    buyer.command("/help")
    await world.settle()
    lead_id = await open_test_lead(world, 1003, "Wang Fang")
    await world.settle()
    owner.group.press("✋ Claim")
    await world.settle()
    assert "Manager1" in buyer.last_text() and "has your application" in buyer.last_text()

    other.command(f"/lead {lead_id}")  # another manager sees it, but not the phone or buttons
    await world.settle()
    assert "138****5678" in other.last_text() and other.buttons() == []

    owner.press("📞 Contacted")
    await world.settle()
    owner.press("📨 Submitted to lender")
    await world.settle()
    owner.press("✅ Approved")
    await world.settle()
    assert "approved" in buyer.last_text()
    assert [b.text for b in owner.buttons()] == [
        "💰 Disbursed",
        "✖ Lost",
        # The disbursement checklist opened with the approval (services/leads/checklist.py).
        "✅ Insurance",
        "⏭ Waive insurance",
        "✅ Lien registered",
        "⏭ Waive lien",
        "✅ Funds transferred",
        "⏭ Waive funds",
    ]
    assert owner.buttons()[0].button["callback_data"] == f"v1:disburse:{lead_id}"
    row = await lead_row(world, lead_id)
    assert row["status"] == "approved" and row["contacted_at"] is not None
    steps = await world.runtime.db.fetchall(
        "SELECT actor_id, to_status FROM lead_events WHERE lead_id = ? AND kind = 'status'",
        (lead_id,),
    )
    assert [(s["actor_id"], s["to_status"]) for s in steps] == [
        (owner.id, "contacted"),
        (owner.id, "submitted"),
        (owner.id, "approved"),
    ]
    card = group_messages(world)[0]
    assert "approved" in card.text


async def test_lost_with_a_typed_reason_and_lender_declined_offers_the_buyer_a_person(world):
    owner = world.manager(0)
    owner.command("/back")
    buyer = world.user(1004, "Zhao")
    buyer.command("/help")
    await world.settle()
    first = await open_test_lead(world, 1004, "Zhao Lei")
    await world.settle()
    owner.group.press("✋ Claim")
    await world.settle()
    owner.press("✖ Lost")
    await world.settle()
    owner.press("Other (type it)")
    await world.settle()
    owner.send("Chose a <b>cash</b> purchase")
    await world.settle()
    row = await lead_row(world, first)
    assert row["status"] == "lost" and row["lost_reason"] == "Chose a <b>cash</b> purchase"
    assert "Chose a <b>cash</b> purchase" in owner.last_text()  # shown escaped, as typed

    second = await open_test_lead(world, 1004, "Zhao Lei")
    await world.settle()
    owner.group.press("✋ Claim")
    await world.settle()
    await leads.move_lead(world.runtime, second, "submitted", owner.id)
    await leads.move_lead(world.runtime, second, "lost", owner.id, note="lender_declined")
    await world.settle()
    assert "could not approve" in buyer.last_text()
    assert [b.text for b in buyer.buttons()] == ["Talk to a manager"]


async def test_only_owner_or_admin_moves_a_lead_and_admin_may_reassign(world):
    owner, other, admin = world.manager(0), world.manager(1), world.admin()
    for person in (owner, other, admin):
        person.command("/back")
    await world.settle()
    lead_id = await open_test_lead(world, 1005)
    await leads.claim_lead(world.runtime, lead_id, owner.id)
    await world.settle()
    try:
        await leads.move_lead(world.runtime, lead_id, "contacted", other.id)
    except leads.LeadError as error:
        assert error.code == "not_allowed"
    else:
        raise AssertionError("a manager who does not own the lead moved it")
    try:
        await leads.move_lead(world.runtime, lead_id, "disbursed", owner.id)
    except leads.LeadError as error:
        assert error.code == "bad_transition"
    else:
        raise AssertionError("claimed -> disbursed was allowed")
    other.command(f"/reassign {lead_id} {other.id}")
    await world.settle()
    assert other.last_text() == "Only admins can do that."
    admin.command(f"/reassign {lead_id} {other.id}")
    await world.settle()
    assert (await lead_row(world, lead_id))["owner_id"] == other.id
    assert "138 1234 5678" in other.bot_messages()[-1].text or any(
        "138 1234 5678" in m.text for m in other.bot_messages()
    )
    await leads.move_lead(world.runtime, lead_id, "contacted", admin.id)  # admins may
    assert (await lead_row(world, lead_id))["status"] == "contacted"


async def test_queue_lists_human_requested_and_tier_a_first(world):
    manager = world.manager(0)
    old_b = await open_test_lead(world, 1010, "Old B", tier="B")
    tier_a = await open_test_lead(world, 1011, "Tier A", tier="A")
    human = await open_test_lead(world, 1012, "Human C", tier="C", human=True)
    manager.command("/queue")
    await world.settle()
    text = manager.last_text()
    positions = [text.index(f"#{i} ") for i in (human, tier_a, old_b)]
    assert positions == sorted(positions)
    assert [b.text for b in manager.buttons()] == [f"Claim #{i}" for i in (human, tier_a, old_b)]

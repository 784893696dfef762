"""Someone who is not a manager gets one plain refusal and changes nothing, whatever
command or button data they send."""

from __future__ import annotations

from bot.sandbox.world import SandboxWorld
from tests.managers.conftest import group_messages, lead_row, open_test_lead

REFUSAL = "Sorry, I can't help with that."


async def _snapshot(world: SandboxWorld):
    leads = [dict(r) for r in await world.runtime.db.fetchall("SELECT * FROM leads")]
    events = await world.runtime.db.fetchval("SELECT COUNT(*) FROM lead_events")
    managers = await world.runtime.db.fetchval("SELECT COUNT(*) FROM managers")
    return leads, events, managers


async def test_a_buyer_gets_the_same_refusal_for_every_manager_command(world):
    lead_id = await open_test_lead(world, 1001)
    await world.settle()
    before = await _snapshot(world)
    eve = world.user(6666, "Eve")
    commands = [
        "/queue",
        "/mine",
        f"/lead {lead_id}",
        "/stats 7",
        "/export",
        "/away",
        "/managers add 6666 Eve admin",
        f"/reassign {lead_id} 6666",
    ]
    for command in commands:
        eve.command(command)
        await world.settle()
        assert eve.last_text() == REFUSAL, command
    assert not any(m.data.get("document") or m.data.get("photo") for m in eve.bot_messages())
    assert await _snapshot(world) == before


async def test_forged_and_stale_callback_data_change_nothing(world):
    lead_id = await open_test_lead(world, 1001)
    await world.settle()
    card = group_messages(world)[-1]
    eve = world.user(6666, "Eve")
    eve.group  # noqa: B018 - joins the group, as a stranger could
    second = world.manager(1)
    second.command("/back")
    await world.settle()
    before = await _snapshot(world)
    forged = [
        (eve.id, f"v1:lclaim:{lead_id}"),
        (eve.id, f"v1:lstep:{lead_id}:approved"),
        (eve.id, f"v1:llost:{lead_id}:no_answer"),
        (eve.id, f"v1:ldetail:{lead_id}"),
        (second.id, f"v1:lstep:{lead_id}:approved"),  # a manager, but not the owner: new lead
        (second.id, f"v1:llost:{lead_id}:no_answer"),
        (second.id, "v1:lstep:999:contacted"),
        (second.id, f"v1:lstep:{lead_id}:disbursed"),
        (second.id, "v1:lclaim:abc"),
        (second.id, "v0:lclaim:1"),
        (eve.id, f"v1:lclaim:{lead_id}:extra:parts"),
    ]
    for user_id, data in forged:
        world.core.new_callback_query(user_id, card, data)
    await world.settle()
    assert await _snapshot(world) == before
    assert (await lead_row(world, lead_id))["status"] == "new"
    assert not eve.bot_messages()  # no lead details reached the stranger in private
    assert all("1234 5678" not in m.text for m in world.core.chat_messages(eve.id))


async def test_manager_commands_work_in_the_managers_group(world):
    manager = world.manager(0)
    manager.group.command("/queue")
    await world.settle()
    assert manager.group.last_text() == "Nothing here right now."


async def test_lead_number_past_sqlite_integer_gets_the_usage_line(world):
    owner = world.manager(0)
    owner.command("/lead 99999999999999999999")
    await world.settle()
    assert "/lead" in owner.last_text()

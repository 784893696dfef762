"""Round-robin mode: new leads go to available managers in turn; /away skips a manager."""

from __future__ import annotations

from tests.managers.conftest import group_messages, lead_row, open_test_lead


async def test_round_robin_assigns_in_turn_and_skips_managers_who_are_away(world):
    runtime = world.runtime
    runtime.policy = runtime.policy.model_copy(
        update={"leads": runtime.policy.leads.model_copy(update={"round_robin": True})}
    )
    team = [world.manager(i) for i in range(3)]
    team[0].command("/back")  # each manager opens a private chat with the bot
    team[2].command("/back")
    team[1].command("/away")
    await world.settle()
    assert "You are away" in team[1].last_text()

    owners = []
    for n in range(4):
        lead_id = await open_test_lead(world, 1001 + n)
        owners.append((await lead_row(world, lead_id))["owner_id"])
    await world.settle()
    assert owners == [7001, 7003, 7001, 7003]
    assert "👔 Manager1" in group_messages(world)[0].text  # the card says to whom
    assert "Claim" not in str(group_messages(world)[0].inline_keyboard)

    team[1].command("/back")
    await world.settle()
    lead_id = await open_test_lead(world, 1010)
    assert (await lead_row(world, lead_id))["owner_id"] == 7001
    lead_id = await open_test_lead(world, 1011)
    assert (await lead_row(world, lead_id))["owner_id"] == 7002

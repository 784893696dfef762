"""Unclaimed leads escalate on time, inside working hours, and a restart loses none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.sandbox.world import SandboxWorld
from tests.managers.conftest import group_messages, lead_row, open_test_lead


def _escalations(world: SandboxWorld) -> list[str]:
    return [m.text for m in group_messages(world) if m.text.startswith("⏰")]


async def test_unclaimed_lead_escalates_to_the_group_then_admins_across_a_restart(world):
    admin = world.admin()
    admin.command("/back")
    await world.settle()
    lead_id = await open_test_lead(world, 1001)
    await world.settle()
    await world.travel(timedelta(minutes=14), step=timedelta(minutes=1))
    assert _escalations(world) == []

    await world.travel(timedelta(minutes=1), step=timedelta(minutes=1))
    assert len(_escalations(world)) == 1
    assert f"Lead #{lead_id}" in _escalations(world)[0] and "15 min" in _escalations(world)[0]
    assert (await lead_row(world, lead_id))["escalation_level"] == 1

    await world.restart()  # a new process on the same database
    await world.travel(timedelta(minutes=14), step=timedelta(minutes=1))
    assert not any("🚨" in m.text for m in admin.bot_messages())
    await world.travel(timedelta(minutes=1), step=timedelta(minutes=1))
    alerts = [m.text for m in admin.bot_messages() if "🚨" in m.text]
    assert len(alerts) == 1 and f"Lead #{lead_id}" in alerts[0]

    await world.travel(timedelta(hours=2), step=timedelta(minutes=10))
    assert len(_escalations(world)) == 1  # each level once
    assert len([m for m in admin.bot_messages() if "🚨" in m.text]) == 1


async def test_escalation_due_while_the_bot_was_down_fires_at_the_first_tick(world):
    lead_id = await open_test_lead(world, 1001)
    await world.settle()
    await world.stop()
    world.clock.advance(timedelta(minutes=40))
    await world.start()
    await world.run_due_work()
    assert (await lead_row(world, lead_id))["escalation_level"] == 2
    assert len(_escalations(world)) == 1


async def test_a_lead_at_night_escalates_fifteen_working_minutes_after_opening(database):
    night = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai; office opens 09:00
    async with SandboxWorld.create(database, start=night) as world:
        await open_test_lead(world, 1001)
        await world.settle()
        await world.travel_to(datetime(2026, 3, 4, 1, 14, tzinfo=UTC))  # 09:14 next day
        assert _escalations(world) == []
        await world.travel(timedelta(minutes=1), step=timedelta(minutes=1))
        assert len(_escalations(world)) == 1


async def test_claimed_lead_not_contacted_reminds_its_owner_once(world):
    owner = world.manager(0)
    owner.command("/back")
    await world.settle()
    lead_id = await open_test_lead(world, 1001)
    await world.settle()
    owner.group.press("✋ Claim")
    await world.settle()
    await world.travel(timedelta(minutes=59), step=timedelta(minutes=1))
    assert not any(m.text.startswith("⏰ You claimed") for m in owner.bot_messages())
    await world.travel(timedelta(minutes=1), step=timedelta(minutes=1))
    reminders = [m for m in owner.bot_messages() if m.text.startswith("⏰ You claimed")]
    assert len(reminders) == 1 and f"#{lead_id}" in reminders[0].text
    assert "📞 Contacted" in str(reminders[0].inline_keyboard)
    await world.travel(timedelta(hours=3), step=timedelta(minutes=30))
    assert len([m for m in owner.bot_messages() if m.text.startswith("⏰ You claimed")]) == 1
    assert _escalations(world) == []  # claimed in time: no group escalation

"""Fifty prospects finish their questions while 20% of Bot API calls fail (5xx or time
out): each ends with exactly one application, one lead and one result, whatever they
pressed again while the network misbehaved."""

from __future__ import annotations

from datetime import timedelta

from bot.sandbox.world import SandboxWorld
from tests.resilience.test_resilience_network import RESULT_WORDS, _drive, flaky, staff_started

PROSPECTS = 50


async def test_fifty_prospects_on_a_flaky_network_get_one_application_lead_and_result(database):
    world = SandboxWorld.create(database, raise_errors=False)
    faults = world.core.faults
    async with world:
        staff_started(world)
        flaky(world)
        prospects = [world.user(4500 + i, f"Prospect{i}") for i in range(PROSPECTS)]
        for prospect in prospects:
            await _drive(world, prospect)
        faults.clear()
        await world.travel(timedelta(hours=1), step=timedelta(minutes=5))

        db = world.runtime.db
        per_user = await db.fetchall(
            "SELECT a.user_id, count(*) AS applications,"
            " (SELECT count(*) FROM leads l WHERE l.user_id = a.user_id) AS leads"
            " FROM applications a WHERE a.status = 'submitted' GROUP BY a.user_id"
        )
        assert len(per_user) == PROSPECTS
        assert all((r["applications"], r["leads"]) == (1, 1) for r in per_user), [
            dict(r) for r in per_user if (r["applications"], r["leads"]) != (1, 1)
        ]
        for prospect in prospects:
            results = [
                m.text
                for m in prospect.bot_messages()
                if any(word in m.text for word in RESULT_WORDS)
            ]
            assert results, f"{prospect.name} never saw a result"
        # Every queued message (results, cards) went out; none was given up on.
        stuck = await db.fetchall("SELECT id, dedup_key, status FROM outbox WHERE status != 'sent'")
        assert not stuck, [dict(r) for r in stuck]
        assert faults.injected["502"] + faults.injected["500"] > 100, dict(faults.injected)

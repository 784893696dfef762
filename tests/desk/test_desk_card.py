"""The lead card and /lead show where the lead came from and its collateral risk."""

from __future__ import annotations

from services.leads import sources
from tests.desk.helpers import seed_application

RISKY = {  # a new NEV, 15% down, 40% balloon over 60 months: underwater for 55 months
    "powertrain": "nev",
    "down_payment": "30000.00",
    "term_months": 60,
    "method": "balloon",
    "balloon_percent": "40",
}


def _group_texts(world) -> list[str]:
    return [m.text for m in world.core.chat_messages(world.core.group.id) if m.from_bot]


async def test_card_shows_source_and_negative_equity_and_lead_shows_it_too(world) -> None:
    show = await sources.create_source(world.runtime, "Guangzhou Auto Show")
    world.user(3001, "Chen").command(f"/start {show.code}")
    await world.settle()
    _, lead_id = await seed_application(world, 3001, name="Chen Jie", answers=RISKY)
    await world.settle()
    card = _group_texts(world)[-1]
    assert "📣 Source: Guangzhou Auto Show" in card
    assert "⚠️ Negative equity" in card and "55 months" in card
    # The worst gap and when, at tier A's 3.8% (the rate the plan is quoted at): after 30
    # payments of 1,902.71 the balance is about 127,132.5 against a forecast of 107,000
    # (53.5% of the price).
    assert "(worst ¥20,132.48 in month 30)" in card

    manager = world.manager(0)
    manager.command(f"/lead {lead_id}")
    await world.settle()
    details = manager.last_text()
    assert "Guangzhou Auto Show" in details and "Negative equity" in details


async def test_a_safe_plan_and_a_direct_lead_in_chinese(world) -> None:
    await world.runtime.db.conn.execute(
        "INSERT INTO managers (user_id, display_name, created_at) VALUES (7101, 'Zhou', '2026-03-03T02:00:00+00:00')"
    )
    await world.runtime.db.conn.execute(
        "INSERT INTO users (user_id, locale, first_name, created_at, updated_at)"
        " VALUES (7101, 'zh', 'Zhou', '2026-03-03T02:00:00+00:00', '2026-03-03T02:00:00+00:00')"
    )
    _, lead_id = await seed_application(world, 3002, name="Wang")
    await world.settle()
    card = _group_texts(world)[-1]
    assert "📣 Source: direct" in card
    assert "🏦 The car's estimated value covers the balance throughout" in card
    zh = world.user(7101, "Zhou", "zh-hans")
    zh.command(f"/lead {lead_id}")
    await world.settle()
    assert "来源：直接访问" in zh.last_text()

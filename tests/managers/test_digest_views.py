"""A digest loads all its leads at once; what managers see is what loading them one by one
shows, for leads with owners, sources, a newer assessment, an approval or a loss."""

from __future__ import annotations

import json
import re

import pytest

from bot.sandbox.world import MANAGER_IDS, SandboxWorld
from services.leads import cards as lead_cards
from services.leads import queue as leads
from services.leads import sources
from services.leads.cards import GROUP_CARD_BUDGET, LeadView
from storage.db import Connection
from tests.managers.conftest import open_test_lead


async def fill_the_group_budget(world: SandboxWorld) -> None:
    for n in range(GROUP_CARD_BUDGET):
        await open_test_lead(world, 40000 + n, f"Early {n}")


async def reassess(world: SandboxWorld, lead_id: int, monthly_payment: str) -> None:
    """The buyer's application assessed again (a newer row): the card shows the newer one."""
    async with world.runtime.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO assessments (application_id, decision, tier, score, loan_amount,"
            " monthly_payment, annual_rate, apr, result, created_at)"
            " SELECT application_id, 'prequalified', 'A', 90, '120000.00', ?, '3.9', '4.0', ?,"
            " created_at FROM leads WHERE id = ?",
            (monthly_payment, json.dumps({"pti": "18.0", "reasons": []}), lead_id),
        )


async def lead_by_lead(conn: Connection, digest_id: int) -> list[LeadView]:
    """The digest's leads the slow way, each on its own, as the digest used to load them."""
    rows = await conn.fetchall("SELECT id FROM leads WHERE digest_id = ? ORDER BY id", (digest_id,))
    return [view for row in rows if (view := await lead_cards.load_lead(conn, row["id"]))]


@pytest.fixture
async def busy_digest(world: SandboxWorld) -> int:
    """A digest of eight leads that managers have started working on."""
    runtime = world.runtime
    dealer = await sources.create_source(runtime, "Dealer Day")
    wechat = await sources.create_source(runtime, "WeChat campaign")
    await fill_the_group_budget(world)
    ids = [
        await open_test_lead(
            world, 41000 + n, f"Buyer {n}", tier="A" if n == 3 else "B", human=n == 5
        )
        for n in range(8)
    ]
    await sources.record_touch(runtime, 41000, dealer.code)
    await sources.record_touch(runtime, 41001, dealer.code)
    await sources.record_touch(runtime, 41001, wechat.code)  # first Dealer Day, latest WeChat
    await sources.record_touch(runtime, 41002, "no-such-campaign")  # 'unknown', no name row
    world.manager(1).command("/back")  # Manager2 gets a managers row, with their name
    await world.settle()
    first, second = MANAGER_IDS[0], MANAGER_IDS[1]
    await leads.claim_lead(runtime, ids[0], first)
    await leads.claim_lead(runtime, ids[1], second)
    await leads.claim_lead(runtime, ids[2], second)
    await leads.move_lead(runtime, ids[1], "approved", second)  # opens its checklist
    await leads.move_lead(runtime, ids[2], "lost", second, note="no_answer")
    await reassess(world, ids[4], "3555.00")
    digest_id = await runtime.db.fetchval("SELECT digest_id FROM leads WHERE id = ?", (ids[0],))
    assert digest_id is not None
    assert await runtime.db.fetchval(
        "SELECT COUNT(*) FROM leads WHERE digest_id = ?", (digest_id,)
    ) == len(ids)
    return digest_id


async def test_a_digest_loaded_at_once_holds_the_same_leads_as_one_by_one(world, busy_digest):
    conn = world.runtime.db.conn
    at_once = await lead_cards.load_digest_leads(conn, busy_digest)
    assert at_once == await lead_by_lead(conn, busy_digest)
    by_name = {view.buyer_name: view for view in at_once}
    assert by_name["Buyer 0"].owner_name == f"#{MANAGER_IDS[0]}"  # no name known: their id
    assert by_name["Buyer 1"].owner_name == by_name["Buyer 2"].owner_name == "Manager2"
    assert by_name["Buyer 1"].sources["first_name"] == "Dealer Day"
    assert by_name["Buyer 1"].sources["latest_name"] == "WeChat campaign"
    assert by_name["Buyer 2"].sources["first_name"] == "unknown"
    assert by_name["Buyer 3"].sources["first_code"] is None
    assert len(by_name["Buyer 1"].checklist) == 3
    assert str(by_name["Buyer 4"].monthly_payment) == "3555.00" and by_name["Buyer 4"].pti == "18.0"
    assert by_name["Buyer 5"].reason_codes == [
        ("payment_to_income_high", {"payment": "4,163.51", "ratio": "20.82", "best": "15"})
    ]


async def test_the_digest_message_is_the_one_built_lead_by_lead(world, busy_digest, monkeypatch):
    runtime = world.runtime
    conn = runtime.db.conn
    payload = await lead_cards.digest_payload(conn, runtime, busy_digest)
    monkeypatch.setattr(lead_cards, "load_digest_leads", lead_by_lead)
    assert payload == await lead_cards.digest_payload(conn, runtime, busy_digest)

    lines = [line for line in payload["text"].splitlines() if line.startswith(("#", "🙋"))]
    shown = [re.search(r"Buyer \d", line).group() for line in lines]  # type: ignore[union-attr]
    # Asked for a person, then tier A, then the oldest (one moment here, so by id).
    assert shown == [f"Buyer {n}" for n in (5, 3, 0, 1, 2, 4, 6, 7)]
    assert lines[0].startswith("🙋 ")
    assert "¥3,555/mo" in lines[shown.index("Buyer 4")]  # the newer assessment
    assert f"👔 #{MANAGER_IDS[0]}" in payload["text"] and "👔 Manager2" in payload["text"]
    claims = [b["text"] for row in payload["reply_markup"]["inline_keyboard"] for b in row]
    assert len(claims) == 5  # only the leads nobody owns yet

""" "Check, then act" under concurrency (issue 20, point 4): the claim, round-robin
assignment, the group's card budget and request-a-human, each run from many tasks at
once. On PostgreSQL those tasks' transactions really overlap (a pool of connections);
on SQLite they run one after another, so the same invariants must hold there too."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from bot.sandbox.world import MANAGER_IDS, SandboxWorld
from services.leads import escalation
from services.leads import queue as leads
from services.leads.cards import GROUP_CARD_BUDGET
from tests.managers.conftest import ANSWERS, open_test_lead
from tests.submissions import store_submission

TASKS = 24


def with_round_robin(world: SandboxWorld) -> None:
    runtime = world.runtime
    runtime.policy = runtime.policy.model_copy(
        update={"leads": runtime.policy.leads.model_copy(update={"round_robin": True})}
    )


async def test_many_claimers_at_once_leave_one_owner(world: SandboxWorld) -> None:
    lead_id = await open_test_lead(world, 1001)
    claimers = [MANAGER_IDS[n % len(MANAGER_IDS)] for n in range(TASKS)]
    results = await asyncio.gather(*(leads.claim_lead(world.runtime, lead_id, m) for m in claimers))
    winners = [r for r in results if r.won]
    assert len(winners) == 1
    owner = winners[0].owner_id
    assert owner in MANAGER_IDS
    assert {r.owner_id for r in results} == {owner}  # the losers are told who has it
    row = await world.runtime.db.fetchone(
        "SELECT owner_id, status FROM leads WHERE id = ?", (lead_id,)
    )
    assert (row["owner_id"], row["status"]) == (owner, "claimed")
    claims = await world.runtime.db.fetchval(
        "SELECT COUNT(*) FROM lead_events WHERE lead_id = ? AND kind = 'claimed'", (lead_id,)
    )
    assert claims == 1


async def test_leads_opened_at_once_go_round_the_managers_in_turn(world: SandboxWorld) -> None:
    with_round_robin(world)
    ids = await asyncio.gather(*(open_test_lead(world, 2001 + n) for n in range(TASKS)))
    rows = await world.runtime.db.fetchall(
        "SELECT owner_id, COUNT(*) AS n FROM leads GROUP BY owner_id ORDER BY owner_id"
    )
    # 24 leads over the three managers of the sandbox: 8 each, none left unassigned.
    assert [(r["owner_id"], r["n"]) for r in rows] == [(7001, 8), (7002, 8), (7003, 8)]
    # And in turn by the order of assignment, not only in total.
    owners = await world.runtime.db.fetchall(
        "SELECT l.owner_id FROM lead_events e JOIN leads l ON l.id = e.lead_id"
        " WHERE e.kind = 'assigned' ORDER BY e.id"
    )
    assert len(owners) == len(ids)
    assert [r["owner_id"] for r in owners] == [7001, 7002, 7003] * 8


async def test_a_burst_of_leads_never_sends_the_group_more_cards_than_the_budget(
    world: SandboxWorld,
) -> None:
    burst = 30
    ids = await asyncio.gather(*(open_test_lead(world, 3001 + n) for n in range(burst)))
    db = world.runtime.db
    group = world.runtime.manager_chat_id
    cards = await db.fetchval(
        "SELECT COUNT(*) FROM outbox WHERE chat_id = ? AND dedup_key LIKE 'lead-card:%'", (group,)
    )
    assert cards == GROUP_CARD_BUDGET == 12
    # The other 18 wait in one digest (24 fit in one), none lost and none in two places.
    digests = await db.fetchall(
        "SELECT digest_id, COUNT(*) AS n FROM leads WHERE digest_id IS NOT NULL GROUP BY digest_id"
    )
    assert [r["n"] for r in digests] == [18]
    carded = await db.fetchall(
        "SELECT dedup_key FROM outbox WHERE chat_id = ? AND dedup_key LIKE 'lead-card:%'", (group,)
    )
    in_digest = await db.fetchall("SELECT id FROM leads WHERE digest_id IS NOT NULL")
    placed = [int(r["dedup_key"].split(":")[1]) for r in carded] + [r["id"] for r in in_digest]
    assert sorted(placed) == sorted(ids)


async def test_a_buyer_pressing_for_a_human_many_times_at_once_gets_one_lead(
    world: SandboxWorld,
) -> None:
    runtime = world.runtime
    # One buyer with a submitted application and no lead yet; another who never finished.
    application_id, _ = await store_submission(
        runtime,
        4001,
        "Li Wei",
        answers_json=json.dumps(ANSWERS),
        phone="+8613812345678",
        moment=runtime.clock.now().isoformat(),
        assessment={
            "decision": "prequalified",
            "tier": "B",
            "score": 80,
            "loan_amount": "140000.00",
            "monthly_payment": "4163.51",
            "annual_rate": "4.5",
            "apr": "4.6",
            "result": "{}",
        },
        open_lead=False,
    )
    now = runtime.clock.now().isoformat()
    async with runtime.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO users (user_id, first_name, created_at, updated_at) VALUES (?, ?, ?, ?)",
            (4002, "Wang", now, now),
        )
    presses = [
        *(leads.request_human(runtime, 4001, application_id=application_id) for _ in range(12)),
        *(leads.request_human(runtime, 4002) for _ in range(12)),
    ]
    got = await asyncio.gather(*presses)
    rows = await runtime.db.fetchall(
        "SELECT id, user_id, application_id, human_requested FROM leads ORDER BY id"
    )
    assert len(rows) == 2  # one lead for each buyer, whatever the number of presses
    by_buyer = {r["user_id"]: r for r in rows}
    assert by_buyer[4001]["application_id"] == application_id
    assert by_buyer[4002]["application_id"] is None
    assert {r["human_requested"] for r in rows} == {1}
    assert set(got[:12]) == {by_buyer[4001]["id"]} and set(got[12:]) == {by_buyer[4002]["id"]}


async def test_ticks_at_once_remind_an_owner_once_and_escalate_a_lead_once(
    world: SandboxWorld,
) -> None:
    runtime = world.runtime
    claimed = await open_test_lead(world, 5001)
    waiting = await open_test_lead(world, 5002)
    await leads.claim_lead(runtime, claimed, 7001)
    world.clock.advance(timedelta(minutes=61))  # past the contact reminder and level 1
    # Several processes' ticks at the same moment.
    reminded = await asyncio.gather(
        *(escalation.remind_uncontacted_leads(runtime) for _ in range(8))
    )
    escalated = await asyncio.gather(
        *(escalation.escalate_unclaimed_leads(runtime) for _ in range(8))
    )
    assert sum(reminded) == 1
    assert sum(escalated) >= 1
    db = runtime.db
    kinds = await db.fetchall(
        "SELECT lead_id, kind, COUNT(*) AS n FROM lead_events"
        " WHERE kind IN ('contact_reminder', 'escalated') GROUP BY lead_id, kind ORDER BY lead_id"
    )
    assert [(r["lead_id"], r["kind"], r["n"]) for r in kinds] == [
        (claimed, "contact_reminder", 1),
        (waiting, "escalated", 1),
    ]
    reminders = await db.fetchval(
        "SELECT COUNT(*) FROM outbox WHERE dedup_key LIKE 'lead-remind:%'"
    )
    assert reminders == 1

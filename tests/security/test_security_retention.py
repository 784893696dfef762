"""The retention purge: which applications it deletes and which it keeps, what it does
when a manager or the buyer acts while it runs, and how often scheduled work runs it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot.sandbox.world import MANAGER_IDS, SandboxWorld
from services.applications import submission as applications
from services.leads import queue as leads
from services.privacy import rights as privacy

OLD = 91  # days: past the default policy's 90
YOUNG = 89


async def _application(
    world: SandboxWorld,
    user_id: int,
    status: str = "submitted",
    *,
    decisions: tuple[str, ...] = (),
    lead: str | None = None,
    loan: bool = False,
    days_old: int = OLD,
    touched_days_ago: int | None = None,
    based_on: int | None = None,
) -> tuple[int, int | None]:
    """An application stored as the conversation and the desk leave it: (id, lead id).

    `decisions` are its assessments, oldest first; `lead` the status of its lead, which
    has a paper attached; `touched_days_ago` when it was last updated (default: created)."""
    runtime = world.runtime
    now = runtime.clock.now()
    created = (now - timedelta(days=days_old)).isoformat()
    touched = (now - timedelta(days=touched_days_ago or days_old)).isoformat()
    submitted = created if status == "submitted" else None
    async with runtime.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO users (user_id, first_name, created_at, updated_at)"
            " VALUES (?, 'Li', ?, ?) ON CONFLICT DO NOTHING",
            (user_id, created, created),
        )
        application_id = int(
            await conn.fetchval(
                "INSERT INTO applications (user_id, status, answers, created_at, submitted_at,"
                " updated_at, based_on) VALUES (?, ?, '{}', ?, ?, ?, ?) RETURNING id",
                (user_id, status, created, submitted, touched, based_on),
            )
        )
        for decision in decisions:
            await conn.execute(
                "INSERT INTO assessments (application_id, decision, loan_amount,"
                " monthly_payment, annual_rate, apr, result, created_at)"
                " VALUES (?, ?, '0', '0', '0', '0', '{}', ?)",
                (application_id, decision, created),
            )
        lead_id = None
        if lead is not None:
            lead_id = int(
                await conn.fetchval(
                    "INSERT INTO leads (application_id, user_id, status, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?) RETURNING id",
                    (application_id, user_id, lead, created, created),
                )
            )
            await conn.execute(
                "INSERT INTO lead_documents (lead_id, file_id, kind, created_at)"
                " VALUES (?, 'id-card', 'photo', ?)",
                (lead_id, created),
            )
        if loan:
            await _book_loan(conn, user_id, lead_id, created)
    return application_id, lead_id


async def _book_loan(conn, user_id: int, lead_id: int | None, at: str) -> None:
    await conn.execute(
        "INSERT INTO loans (lead_id, user_id, principal, annual_rate, term_months, method,"
        " apr, first_due_date, disbursed_at, created_at)"
        " VALUES (?, ?, '100000', '4.5', 12, 'annuity', '4.6', '2026-04-03', ?, ?)",
        (lead_id, user_id, at, at),
    )


async def _application_ids(world: SandboxWorld) -> set[int]:
    return {row["id"] for row in await world.runtime.db.fetchall("SELECT id FROM applications")}


# (what it is, how it is stored, whether the purge deletes it)
CASES: list[tuple[str, dict, bool]] = [
    ("declined, no lead", {"decisions": ("declined",)}, True),
    ("declined, lead lost", {"decisions": ("declined",), "lead": "lost"}, True),
    (
        "declined, lead lost but a loan came of it",
        {"decisions": ("declined",), "lead": "lost", "loan": True},
        False,
    ),
    ("declined, a manager works on it", {"decisions": ("declined",), "lead": "claimed"}, False),
    ("declined, the buyer asked for a manager", {"decisions": ("declined",), "lead": "new"}, False),
    ("declined, not old enough", {"decisions": ("declined",), "days_old": YOUNG}, False),
    ("pre-qualified, lead lost", {"decisions": ("prequalified",), "lead": "lost"}, False),
    ("under review, no lead", {"decisions": ("review",)}, False),
    ("declined, then pre-qualified", {"decisions": ("declined", "prequalified")}, False),
    ("pre-qualified, then declined", {"decisions": ("prequalified", "declined")}, True),
    ("submitted, never assessed", {}, False),
    ("abandoned", {"status": "abandoned"}, True),
    ("abandoned, lead lost", {"status": "abandoned", "lead": "lost"}, True),
    ("abandoned, not old enough", {"status": "abandoned", "days_old": YOUNG}, False),
    ("draft", {"status": "draft"}, True),
    ("draft, the buyer asked for a manager", {"status": "draft", "lead": "contacted"}, False),
    ("draft started long ago, answered lately", {"status": "draft", "touched_days_ago": 3}, False),
    ("purged before", {"status": "purged"}, False),
]


@pytest.mark.parametrize("batch", [privacy.PURGE_BATCH, 2])
async def test_purge_deletes_exactly_what_nobody_needs(
    world: SandboxWorld, monkeypatch: pytest.MonkeyPatch, batch: int
):
    monkeypatch.setattr(privacy, "PURGE_BATCH", batch)
    stored = {}
    for user_id, (what, fields, _) in enumerate(CASES, start=3300):
        stored[what] = await _application(world, user_id, **fields)
    declined_id = stored["declined, no lead"][0]
    counter_offer, _ = await _application(
        world, 3399, decisions=("prequalified",), lead="new", days_old=3, based_on=declined_id
    )

    purged = await privacy.purge_expired_applications(world.runtime)

    left = await _application_ids(world)
    expected_gone = {stored[what][0] for what, _, gone in CASES if gone}
    assert purged == len(expected_gone)
    for what, _, gone in CASES:
        assert (stored[what][0] not in left) == gone, what
    db = world.runtime.db
    lost_lead = stored["declined, lead lost"][1]
    assert await db.fetchval("SELECT count(*) FROM leads WHERE id = ?", (lost_lead,)) == 0
    assert (
        await db.fetchval("SELECT count(*) FROM lead_documents WHERE lead_id = ?", (lost_lead,))
        == 0
    )
    kept_lead = stored["declined, a manager works on it"][1]
    assert await db.fetchval("SELECT status FROM leads WHERE id = ?", (kept_lead,)) == "claimed"
    assert counter_offer in left
    assert (
        await db.fetchval("SELECT based_on FROM applications WHERE id = ?", (counter_offer,))
        is None
    )
    counts = await privacy.anonymous_counts(world.runtime)
    assert counts == {"purged:declined": 3, "purged:abandoned": 3}
    assert await privacy.purge_expired_applications(world.runtime) == 0


async def _claimed_meanwhile(world: SandboxWorld, user_id: int, application_id: int) -> None:
    """The buyer asks for a manager and a manager claims the lead."""
    lead_id = await applications.request_human_for(world.runtime, user_id)
    claim = await leads.claim_lead(world.runtime, lead_id, MANAGER_IDS[0])
    assert claim.won


async def _loan_booked_meanwhile(world: SandboxWorld, user_id: int, application_id: int) -> None:
    """The desk books a loan on the lead it had marked lost."""
    lead_id = await world.runtime.db.fetchval(
        "SELECT id FROM leads WHERE application_id = ?", (application_id,)
    )
    async with world.runtime.db.transaction() as conn:
        await _book_loan(conn, user_id, lead_id, world.runtime.clock.now().isoformat())


async def _draft_resumed_meanwhile(world: SandboxWorld, user_id: int, application_id: int) -> None:
    """The buyer comes back to the draft and answers a question."""
    await applications.save_draft(world.runtime, user_id, {"price": "150000"}, "term", "en")


RACES: dict[str, tuple[dict, Callable[[SandboxWorld, int, int], Awaitable[None]]]] = {
    "lead claimed": ({"decisions": ("declined",)}, _claimed_meanwhile),
    "loan booked": ({"decisions": ("declined",), "lead": "lost"}, _loan_booked_meanwhile),
    "draft resumed": ({"status": "draft"}, _draft_resumed_meanwhile),
}


@pytest.mark.parametrize("race", list(RACES))
async def test_what_changed_after_the_purge_read_its_candidates_is_kept(
    world: SandboxWorld, monkeypatch: pytest.MonkeyPatch, race: str
):
    fields, meanwhile = RACES[race]
    contested, _ = await _application(world, 3401, **fields)
    other, _ = await _application(world, 3402, decisions=("declined",))
    read = privacy._purge_candidates

    async def read_then_act(runtime, cutoff):
        candidates = await read(runtime, cutoff)
        assert contested in candidates
        await meanwhile(world, 3401, contested)
        return candidates

    monkeypatch.setattr(privacy, "_purge_candidates", read_then_act)
    assert await privacy.purge_expired_applications(world.runtime) == 1
    left = await _application_ids(world)
    assert contested in left and other not in left
    assert await privacy.anonymous_counts(world.runtime) == {"purged:declined": 1}


async def test_scheduled_purge_runs_at_most_hourly_and_first_after_a_start(world: SandboxWorld):
    first, _ = await _application(world, 3501, decisions=("declined",))
    await world.run_due_work()
    assert first not in await _application_ids(world)

    second, _ = await _application(world, 3502, status="abandoned")
    world.clock.advance(timedelta(minutes=59))
    await world.run_due_work()
    assert second in await _application_ids(world), "purged again within the hour"
    world.clock.advance(timedelta(minutes=1))
    await world.run_due_work()
    assert second not in await _application_ids(world)

    third, _ = await _application(world, 3503, status="draft")
    world.clock.advance(timedelta(minutes=1))
    await world.run_due_work()
    assert third in await _application_ids(world)
    await world.restart()  # a new process: its first tick purges
    await world.run_due_work()
    assert third not in await _application_ids(world)


async def test_asking_for_the_purge_runs_it_whatever_the_schedule(world: SandboxWorld):
    await world.run_due_work()
    asked, _ = await _application(world, 3601, decisions=("declined",))
    assert await privacy.purge_expired_applications(world.runtime) == 1
    assert asked not in await _application_ids(world)
    assert await privacy.anonymous_counts(world.runtime) == {"purged:declined": 1}

"""The retention purge against a claim, a loan booked and a draft saved at the same moment,
on separate PostgreSQL connections: whatever the interleaving, nothing in use is purged and
the purge itself never fails. (SQLite has one writer at a time: there the same cases run in turn,
tests/security/test_security_retention.py.)"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from bot.sandbox.world import MANAGER_IDS, SandboxWorld
from services.applications import submission as applications
from services.leads import queue as leads
from services.privacy import rights as privacy
from storage.values import from_json
from tests.security.test_security_retention import _application, _book_loan

ROUNDS = 40


@pytest.fixture
async def pg_world(pg_url: str) -> AsyncIterator[SandboxWorld]:
    async with SandboxWorld.create(pg_url) as started:
        yield started


async def _after(delay: float, work):
    # Random offsets so that each side goes first, and in between, over the rounds.
    await asyncio.sleep(delay)
    return await work()


async def test_purge_and_claim_at_once_never_purge_a_claimed_lead(pg_world: SandboxWorld):
    world = pg_world
    runtime = world.runtime
    rng = random.Random(20)
    claimed_kept = purged = 0
    for n in range(ROUNDS):
        user_id = 5000 + n
        application_id, _ = await _application(world, user_id, decisions=("declined",))

        async def claim(user_id=user_id):
            lead_id = await applications.request_human_for(runtime, user_id)
            return lead_id, await leads.claim_lead(runtime, lead_id, MANAGER_IDS[0])

        purge, (lead_id, result) = await asyncio.gather(
            _after(rng.uniform(0, 0.01), lambda: privacy.purge_expired_applications(runtime)),
            _after(rng.uniform(0, 0.01), claim),
        )
        assert result.won
        lead = await runtime.db.fetchone(
            "SELECT status, application_id FROM leads WHERE id = ?", (lead_id,)
        )
        exists = await runtime.db.fetchval(
            "SELECT count(*) FROM applications WHERE id = ?", (application_id,)
        )
        assert lead["status"] == "claimed"
        if lead["application_id"] == application_id:
            # The lead was opened on the application first: the purge left it alone.
            assert exists == 1 and purge == 0, f"round {n}"
            claimed_kept += 1
        else:
            # The purge went first: the lead the buyer then asked for has no application.
            assert lead["application_id"] is None and exists == 0 and purge == 1, f"round {n}"
            purged += 1
    # Both orders happened, or the test did not race anything.
    assert claimed_kept and purged, (claimed_kept, purged)


async def test_purge_and_a_loan_booked_at_once_never_purge_a_loan(pg_world: SandboxWorld):
    world = pg_world
    runtime = world.runtime
    rng = random.Random(21)
    booked = purged = 0
    for n in range(ROUNDS):
        user_id = 6000 + n
        application_id, lead_id = await _application(
            world, user_id, decisions=("declined",), lead="lost"
        )

        async def book(user_id=user_id, lead_id=lead_id):
            async with runtime.db.transaction() as conn:
                await _book_loan(conn, user_id, lead_id, runtime.clock.now().isoformat())

        outcome = await asyncio.gather(
            _after(rng.uniform(0, 0.01), lambda: privacy.purge_expired_applications(runtime)),
            _after(rng.uniform(0, 0.01), book),
            return_exceptions=True,
        )
        purge, booking = outcome
        assert not isinstance(purge, BaseException), f"round {n}: the purge failed: {purge!r}"
        loans = await runtime.db.fetchval(
            "SELECT count(*) FROM loans WHERE user_id = ?", (user_id,)
        )
        exists = await runtime.db.fetchval(
            "SELECT count(*) FROM applications WHERE id = ?", (application_id,)
        )
        if booking is None:
            # Booked first: the lead, its application and the loan all stay.
            assert loans == 1 and exists == 1 and purge == 0, f"round {n}"
            booked += 1
        else:
            # Purged first: the booking found its lead gone and booked nothing.
            assert "foreign key" in str(booking), f"round {n}: {booking!r}"
            assert loans == 0 and exists == 0 and purge == 1, f"round {n}"
            purged += 1
    assert booked and purged, (booked, purged)


async def test_purge_and_a_draft_saved_at_once_never_lose_the_answers(pg_world: SandboxWorld):
    world = pg_world
    runtime = world.runtime
    rng = random.Random(22)
    resumed = purged = 0
    for n in range(ROUNDS):
        user_id = 7000 + n
        old_draft, _ = await _application(world, user_id, "draft")

        async def save(user_id=user_id):
            return await applications.save_draft(
                runtime, user_id, {"price": "150000"}, "term", "en"
            )

        purge, saved = await asyncio.gather(
            _after(rng.uniform(0, 0.01), lambda: privacy.purge_expired_applications(runtime)),
            _after(rng.uniform(0, 0.01), save),
        )
        # Whoever went first, the draft the save reports holds what was just answered.
        row = await runtime.db.fetchone(
            "SELECT status, answers FROM applications WHERE id = ?", (saved,)
        )
        assert row is not None, f"round {n}: the saved draft was purged"
        assert row["status"] == "draft" and from_json(row["answers"]) == {"price": "150000"}
        if saved == old_draft:
            assert purge == 0, f"round {n}"
            resumed += 1
        else:
            # Purged first: the answer started a new draft.
            assert purge == 1, f"round {n}"
            purged += 1
    assert resumed and purged, (resumed, purged)

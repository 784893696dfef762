"""storage/leads: the contracts services rely on that the statements only implied
(None for what is not there, False for a lost race, a wait armed twice is one wait)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from storage.connect import open_database
from storage.db import Database
from storage.leads import cards, pipeline, queue, relay, reports
from storage.migrations import migrate

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
BUYER = 51001


@pytest.fixture
async def db(database: Path | str) -> AsyncIterator[Database]:
    opened = await open_database(database).open()
    await migrate(opened.conn)
    await opened.execute_write(
        "INSERT INTO users (user_id, locale, first_name, created_at, updated_at)"
        " VALUES (?, 'zh', 'Li', ?, ?)",
        (BUYER, AT.isoformat(), AT.isoformat()),
    )
    yield opened
    await opened.close()


async def new_lead(db: Database) -> int:
    async with db.transaction() as conn:
        return await queue.insert_lead(
            conn,
            application_id=None,
            user_id=BUYER,
            decision=None,
            tier=None,
            human_requested=True,
            at=AT,
        )


async def test_a_lead_without_an_application_reads_back_with_its_buyer(db):
    lead_id = await new_lead(db)
    row = await cards.lead_row(db.conn, lead_id)
    assert row is not None
    assert (row["status"], row["human_requested"], row["created_at"].isoformat()) == (
        "new",
        1,
        "2026-03-02T09:30:00+00:00",
    )
    assert (row["first_name"], row["buyer_locale"], row["assessment_id"]) == ("Li", "zh", None)
    assert await cards.lead_row(db.conn, lead_id + 1) is None


async def test_only_the_first_claim_wins_and_a_stale_move_is_refused(db):
    lead_id = await new_lead(db)
    async with db.transaction() as conn:
        assert await queue.mark_claimed(conn, lead_id, 7001, AT) is True
        assert await queue.mark_claimed(conn, lead_id, 7002, AT) is False
        row = await pipeline.status_and_owner(conn, lead_id)
        assert (row["status"], row["owner_id"]) == ("claimed", 7001)
        moved = await pipeline.move_status(
            conn, lead_id, from_status="new", to_status="contacted", lost_reason=None, at=AT
        )
        assert moved is False
        assert await pipeline.status_and_owner(conn, lead_id + 1) is None


async def test_no_digest_yet_means_no_last_send_time(db):
    chat = -100500
    async with db.transaction() as conn:
        assert await cards.last_digest_send_at(conn, chat) is None
        assert await cards.latest_unsent_digest(conn, chat) is None
        digest_id = await cards.insert_digest(
            conn, chat, send_at=datetime(2026, 3, 2, 9, 30, 10, tzinfo=UTC), at=AT
        )
        assert await cards.last_digest_send_at(conn, chat) == datetime(
            2026, 3, 2, 9, 30, 10, tzinfo=UTC
        )
        unsent = await cards.latest_unsent_digest(conn, chat)
        assert (unsent["id"], unsent["size"]) == (digest_id, 0)


async def test_a_wait_armed_twice_is_one_wait_for_the_latest_lead(db):
    first, second = await new_lead(db), await new_lead(db)
    assert await relay.has_wait(db, BUYER) is False
    async with db.transaction() as conn:
        assert await relay.waiting_lead(conn, BUYER) is None
        await relay.arm_wait(conn, user_id=BUYER, lead_id=first, at=AT)
        await relay.arm_wait(conn, user_id=BUYER, lead_id=second, at=AT)
        assert await relay.waiting_lead(conn, BUYER) == second
        assert await relay.relayed_buyer(conn, 999) is None
    assert await relay.has_wait(db, BUYER) is True
    assert await relay.waiting_buyers(db) == [BUYER]


async def test_a_card_row_gives_aware_datetimes_exact_decimals_and_parsed_json(db):
    claimed = datetime(2026, 3, 2, 9, 45, 12, 250000, tzinfo=UTC)
    async with db.transaction() as conn:
        application_id = await conn.fetchval(
            "INSERT INTO applications (user_id, answers, full_name, created_at, submitted_at)"
            " VALUES (?, ?, 'Li Wei', ?, ?) RETURNING id",
            (BUYER, '{"price": "200000", "term_months": 36}', AT.isoformat(), AT.isoformat()),
        )
        await conn.execute(
            "INSERT INTO assessments (application_id, decision, tier, score, loan_amount,"
            " monthly_payment, annual_rate, apr, result, created_at)"
            " VALUES (?, 'prequalified', 'A', 90, '140000.00', '4120.91', '3.8', '4.4', ?, ?)",
            (application_id, '{"pti": "16.48", "reasons": ["low_income"]}', AT.isoformat()),
        )
        lead_id = await queue.insert_lead(
            conn,
            application_id=application_id,
            user_id=BUYER,
            decision="prequalified",
            tier="A",
            human_requested=False,
            at=AT,
        )
        await queue.mark_claimed(conn, lead_id, 7001, claimed)
    row = await cards.lead_row(db.conn, lead_id)
    assert row is not None
    assert row["created_at"] == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert row["created_at"].utcoffset() == timedelta(0)
    assert (row["claimed_at"], row["contacted_at"]) == (claimed, None)
    money = [row[f"assessment_{name}"] for name in ("loan_amount", "monthly_payment")]
    assert money == [Decimal("140000.00"), Decimal("4120.91")]
    assert [str(value) for value in money] == ["140000.00", "4120.91"]  # the digits stored
    assert row["assessment_annual_rate"] == Decimal("3.8")
    assert row["answers"] == {"price": "200000", "term_months": 36}
    assert row["assessment_result"] == {"pti": "16.48", "reasons": ["low_income"]}

    later = datetime(2026, 3, 2, 9, 30, 1, tzinfo=UTC)
    assert await cards.lead_rows_page(db.conn, after_id=0, limit=5, since=later) == []
    page = await cards.lead_rows_page(db.conn, after_id=0, limit=5, since=AT)
    assert [r["id"] for r in page] == [lead_id]
    opened = await reports.leads_opened_since(db, AT)
    assert [(r["created_at"], r["claimed_at"]) for r in opened] == [(AT, claimed)]


async def test_a_digest_leaves_at_an_aware_datetime(db):
    leaves = datetime(2026, 3, 2, 9, 30, 10, tzinfo=UTC)
    async with db.transaction() as conn:
        await cards.insert_digest(conn, -100500, send_at=leaves, at=AT)
        unsent = await cards.latest_unsent_digest(conn, -100500)
    assert unsent is not None and unsent["send_at"] == leaves
    stored = await db.fetchval("SELECT send_at FROM lead_digests")
    assert stored == ("2026-03-02T09:30:10+00:00" if db.dialect == "sqlite" else leaves)

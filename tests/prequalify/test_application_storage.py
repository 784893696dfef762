"""What storage/applications.py promises the services beyond its statements' text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.sandbox.world import SandboxWorld
from storage import applications as store
from storage import outbox

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


async def _user(world: SandboxWorld, user_id: int) -> None:
    await world.runtime.db.execute_write(
        "INSERT INTO users (user_id, created_at, updated_at) VALUES (?, ?, ?)",
        (user_id, AT.isoformat(), AT.isoformat()),
    )


async def test_an_answer_without_an_open_draft_updates_nothing(world: SandboxWorld) -> None:
    db = world.runtime.db
    await _user(world, 501)
    draft = {"answers": {}, "locale": "en", "step": "price", "at": AT}
    assert await store.update_open_draft(db, 501, **draft) is None
    async with db.transaction() as conn:
        draft_id = await store.insert_draft(conn, 501, **draft)
    assert await store.update_open_draft(db, 501, **draft) == draft_id
    async with db.transaction() as conn:
        assert await store.abandon_drafts(conn, 501, AT) is True
        assert await store.abandon_drafts(conn, 501, AT) is False
    assert await store.update_open_draft(db, 501, **draft) is None
    assert (await store.last_abandoned_at(db, 501)).isoformat() == "2026-03-02T09:30:00+00:00"


async def test_a_pending_result_is_found_by_its_own_application_only(world: SandboxWorld) -> None:
    # In one transaction: the outbox sender cannot deliver the row meanwhile.
    async with world.runtime.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO outbox (chat_id, method, payload, status, dedup_key, created_at,"
            " next_attempt_at) VALUES (1, 'sendMessage', '{}', 'pending', 'result:12:0', ?, ?)",
            (AT.isoformat(), AT.isoformat()),
        )
        assert await outbox.pending_with_prefix(conn, "result:12:") is True
        assert await outbox.pending_with_prefix(conn, "result:1:") is False


async def test_reads_hand_back_datetimes_decimals_and_dicts(world: SandboxWorld) -> None:
    db = world.runtime.db
    await _user(world, 502)
    record = {
        "decision": "prequalified", "tier": "A", "score": 88, "loan_amount": "140000.00",
        "monthly_payment": "4120.50", "annual_rate": "3.8", "apr": "4.12",
    }  # fmt: skip
    async with db.transaction() as conn:
        draft_id = await store.insert_draft(
            conn, 502, answers={"price": "20万"}, locale="zh", step="price", at=AT
        )
        # Drafts are stored as the JSON text they always were (readable Chinese).
        # As text on both: PostgreSQL's jsonb would be handed back parsed.
        stored = await conn.fetchval(
            "SELECT CAST(answers AS TEXT) FROM applications WHERE id = ?", (draft_id,)
        )
        assert stored == '{"price": "20万"}'
        await store.submit_draft(
            conn, draft_id, answers='{"price":"200000.00"}', full_name="Li", phone="+86138",
            locale="zh", at=AT,
        )  # fmt: skip
        await store.insert_assessment(conn, draft_id, record, AT)
    standing = await store.latest_standing(db, 502)
    assert standing is not None
    assert standing["submitted_at"] == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert standing["submitted_at"].utcoffset() is not None
    assert standing["monthly_payment"] == Decimal("4120.50")
    assert str(standing["monthly_payment"]) == "4120.50"  # the cents as stored
    assert str(standing["loan_amount"]) == "140000.00"
    assert standing["lead_id"] is None
    application = await store.application(db, draft_id)
    assert application is not None and application["answers"] == {"price": "200000.00"}
    assert await store.application(db, 424242) is None
    assert await store.last_abandoned_at(db, 502) is None


# SQLite only: no user or file reaches these values (answers are JSON the bot made,
# payments Decimals it computed); only a hand outside the bot writes them into SQLite's
# untyped columns, and PostgreSQL's jsonb and numeric columns refuse them at that write.
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_the_what_if_rows_keep_a_damaged_value_to_their_own_row(world: SandboxWorld) -> None:
    db = world.runtime.db
    await _user(world, 503)
    async with db.transaction() as conn:
        for answers, payment in (('{"price":"1.00"}', "99.90"), ("{not json", "n/a")):
            application_id = await store.insert_submitted(
                conn, 503, answers=answers, full_name="Li", phone="+86138", locale="en",
                at=AT, based_on=None,
            )  # fmt: skip
            await conn.execute(
                "INSERT INTO assessments (application_id, decision, tier, score, loan_amount,"
                " monthly_payment, annual_rate, apr, result, created_at)"
                " VALUES (?, 'review', NULL, 60, '1.00', ?, '3.8', '0', '{}', ?)",
                (application_id, payment, AT.isoformat()),
            )
        rows = await store.submitted_with_assessments(conn, AT - timedelta(days=1))
    assert [(r["answers"], r["monthly_payment"], r["submitted_at"]) for r in rows] == [
        ({"price": "1.00"}, Decimal("99.90"), datetime(2026, 3, 2, 9, 30, tzinfo=UTC)),
        (None, None, datetime(2026, 3, 2, 9, 30, tzinfo=UTC)),
    ]
    assert [r["source"] for r in rows] == ["direct", "direct"]

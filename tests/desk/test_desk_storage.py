"""storage/leads' checklist and sources functions: the answers services rely on for a
missing row and for a second, repeated change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.leads import queue as leads
from services.leads import sources
from storage.leads import checklist as checklist_db
from storage.leads import sources as sources_db
from tests.desk.helpers import seed_application

OWNER = 7001
MISSING = 999_999


async def test_a_missing_lead_has_no_approval_and_no_steps(world) -> None:
    conn = world.runtime.db.conn
    assert await checklist_db.approved_at(conn, MISSING) is None
    assert await checklist_db.lead_without_steps(conn, MISSING) is None
    assert await checklist_db.lead_with_steps(conn, MISSING) == []


async def test_a_step_is_stored_once_and_closed_once(world) -> None:
    runtime = world.runtime
    _, lead_id = await seed_application(world, 1601)
    await leads.claim_lead(runtime, lead_id, OWNER)
    await leads.move_lead(runtime, lead_id, "approved", OWNER)  # opens the three steps
    await world.settle()
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        assert await checklist_db.lead_without_steps(conn, lead_id) is None
        again = await checklist_db.insert_step(
            conn, lead_id=lead_id, step="lien", owner_id=OWNER, opened_at=now
        )
        assert again is False
        closing = dict(lead_id=lead_id, step="lien", closed_by=OWNER, at=now, reason=None)
        assert await checklist_db.close_open_step(conn, status="done", **closing) is True
        assert await checklist_db.close_open_step(conn, status="waived", **closing) is False
        rows = sorted(await checklist_db.lead_with_steps(conn, lead_id), key=lambda r: r["id"])
    assert [(r["step"], r["status"], r["lead_status"]) for r in rows] == [
        ("insurance", "open", "approved"),
        ("lien", "done", "approved"),
        ("funds", "open", "approved"),
    ]

    lien = next(r for r in rows if r["step"] == "lien")
    assert (lien["closed_at"], lien["reminded_at"]) == (now, None)  # aware datetimes back
    assert now == datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # the world's clock, as seeded

    due = await checklist_db.unreminded_open_steps(runtime.db, now + timedelta(hours=1))
    assert [r["lead_id"] for r in due] == [lead_id, lead_id]  # the closed lien is not due
    assert {r["opened_at"] for r in due} == {datetime(2026, 3, 3, 2, 0, tzinfo=UTC)}
    stored = await runtime.db.fetchval("SELECT closed_at FROM lead_checklist WHERE step = 'lien'")
    # The column as each database keeps it: ISO text on SQLite, a timestamptz on PostgreSQL.
    sqlite_text = "2026-03-03T02:00:00+00:00"
    assert stored == (sqlite_text if runtime.db.dialect == "sqlite" else now)
    assert await checklist_db.approved_at(runtime.db.conn, lead_id) == now
    ids = [r["id"] for r in rows]
    async with runtime.db.transaction() as conn:
        assert await checklist_db.mark_reminded(conn, ids, now) == 2  # the lien is closed
        assert await checklist_db.mark_reminded(conn, ids, now) == 0


async def test_source_names_leave_out_codes_no_source_has(world) -> None:
    runtime = world.runtime
    made = await sources.create_source(runtime, "Shanghai Auto Show 2026")
    names = await sources_db.source_names(runtime.db.conn, (made.code, "no_such_code"))
    assert names == {"shanghai_auto_show_2026": "Shanghai Auto Show 2026"}
    assert await sources_db.source_name(runtime.db, "no_such_code") is None
    assert await sources_db.lead_source_codes(runtime.db, MISSING) is None

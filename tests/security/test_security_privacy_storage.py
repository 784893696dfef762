"""storage/privacy's contracts that the privacy service relies on without saying so: a
missing row reads as None, no loan as zero, counts add up over days, and anonymising an
application clears its contact details only when asked."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.sandbox.world import SandboxWorld
from storage import outbox
from storage.privacy import counts, forget
from storage.values import from_json, to_json

NOBODY = 4_000_001
AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


async def test_missing_rows_read_as_none_and_no_loans_as_nothing(world: SandboxWorld):
    db = world.runtime.db
    assert await forget.has_active_loan(db, NOBODY) is False
    async with db.transaction() as conn:
        assert await forget.application_answers(conn, 999_999) is None
        assert await forget.lead_card(conn, 999_999) is None
        assert await forget.first_name(conn, NOBODY) is None
        assert await forget.active_loan_count(conn, NOBODY) == 0
        assert await forget.active_loan_lead_ids(conn, NOBODY) == set()
        assert await forget.leads_of(conn, NOBODY) == []


async def test_anonymous_counts_add_up_over_days_and_calls(world: SandboxWorld):
    async with world.runtime.db.transaction() as conn:
        await counts.add_anonymous_count(conn, date(2026, 3, 1), "purged:declined", 2)
        await counts.add_anonymous_count(conn, date(2026, 3, 1), "purged:declined", 1)
        await counts.add_anonymous_count(conn, date(2026, 3, 2), "purged:declined", 2)
        await counts.add_anonymous_count(conn, date(2026, 3, 2), "forget")
    assert await counts.anonymous_counts(world.runtime.db) == {"purged:declined": 5, "forget": 1}
    days = await world.runtime.db.fetchall("SELECT DISTINCT day FROM anonymous_counts ORDER BY 1")
    # str(): PostgreSQL's date column comes as a date.
    assert [str(row["day"]) for row in days] == ["2026-03-01", "2026-03-02"]


async def test_set_answers_clears_name_and_phone_only_when_asked(world: SandboxWorld):
    db = world.runtime.db
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO users (user_id, first_name, created_at, updated_at)"
            " VALUES (?, 'Wei', ?, ?)",
            (NOBODY, AT.isoformat(), AT.isoformat()),
        )
        ids = []
        for _ in range(2):
            application_id = await conn.fetchval(
                "INSERT INTO applications (user_id, status, answers, full_name, phone,"
                " created_at, updated_at) VALUES (?, 'submitted', '{}', '王伟', '13800138000',"
                " ?, ?) RETURNING id",
                (NOBODY, AT.isoformat(), AT.isoformat()),
            )
            ids.append(int(application_id))
        kept, cleared = ids
        await forget.set_answers(
            conn, kept, {"name": "王伟", "price": "150000"}, clear_contact=False
        )
        await forget.set_answers(conn, cleared, {"price": "150000"}, clear_contact=True)
    rows = await db.fetchall(
        "SELECT id, answers, full_name, phone FROM applications WHERE user_id = ? ORDER BY id",
        (NOBODY,),
    )
    # PostgreSQL's jsonb comes parsed: compared as the text SQLite stores.
    assert [(row["id"], _text(row["answers"]), row["full_name"], row["phone"]) for row in rows] == [
        (kept, '{"name": "王伟", "price": "150000"}', "王伟", "13800138000"),
        (cleared, '{"price": "150000"}', None, None),
    ]


def _text(value: object) -> object:
    return to_json(value) if isinstance(value, dict) else value


async def test_redacting_a_pending_message_leaves_json_and_only_touches_its_texts(
    world: SandboxWorld,
):
    """The identity is replaced where it is text, never in a number or across an escape,
    so the message stays JSON the outbox can send (and PostgreSQL's jsonb accepts)."""
    db = world.runtime.db
    async with db.transaction() as conn:
        await outbox.enqueue(
            conn,
            chat_id=138001380,
            method="sendMessage",
            payload={"text": "Call 138001380 today\nnWei 王伟", "parse_mode": "HTML"},
            now=AT,
            dedup_key="redact-me",
        )
        # As the service passes them: the forms inside the stored JSON text.
        await forget.redact_pending(conn, "138001380")
        await forget.redact_pending(conn, "nnW")  # "\n" then "nW": not in the text itself
        await forget.redact_pending(conn, "王伟")
    row = await db.fetchone("SELECT payload FROM outbox WHERE dedup_key = 'redact-me'")
    assert from_json(row["payload"]) == {
        "chat_id": 138001380,
        "text": "Call — today\nnWei —",
        "parse_mode": "HTML",
    }

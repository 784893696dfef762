"""PostgreSQL through storage's five calls: ids by RETURNING, rows changed, a missing row,
values typed as on SQLite after storage.values; and a bad DATABASE_URL as one line."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from storage.connect import open_database
from storage.db import Database
from storage.migrations import migrate
from storage.postgres import DatabaseUrlError, PostgresDatabase

STAMP = "2026-11-28T09:30:00+00:00"
GROUP_CHAT = -1001234567890  # a supergroup's id: past 32 bits


async def _user(conn, user_id: int) -> None:  # noqa: ANN001 - either connection
    await conn.execute(
        "INSERT INTO users (user_id, created_at, updated_at) VALUES (?, ?, ?)",
        (user_id, STAMP, STAMP),
    )


async def test_five_calls_round_trip(pg_url: str) -> None:
    async with PostgresDatabase(pg_url) as db:
        await migrate(db.conn)
        async with db.transaction() as tx:
            await _user(tx, 7_000_000_001)
            application = await tx.fetchval(
                "INSERT INTO applications (user_id, answers, created_at) VALUES (?, ?, ?)"
                " RETURNING id",
                (7_000_000_001, '{"price": "150000", "city": "上海"}', STAMP),
            )
            loan = await tx.fetchval(
                "INSERT INTO loans (user_id, principal, annual_rate, term_months, method, apr,"
                " first_due_date, disbursed_at, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    7_000_000_001,
                    "120000.00",
                    Decimal("0.0599"),
                    36,
                    "annuity",
                    "0.0650",
                    "2027-01-15",
                    datetime(2026, 12, 15, 18, 0, tzinfo=timezone(timedelta(hours=8))),
                    STAMP,
                ),
            )
            await tx.executemany(
                "INSERT INTO outbox (chat_id, method, payload, next_attempt_at, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(GROUP_CHAT, "sendMessage", f'{{"n": {n}}}', STAMP, STAMP) for n in (1, 2, 3)],
            )
        assert isinstance(application, int) and isinstance(loan, int)

        changed = await db.conn.execute(
            "UPDATE outbox SET status = 'sent', message_id = ? WHERE chat_id = ? AND status = ?",
            (9_000_000_000, GROUP_CHAT, "pending"),
        )
        assert changed == 3
        assert await db.conn.execute("UPDATE outbox SET attempts = 1 WHERE id = ?", (-5,)) == 0
        assert await db.fetchone("SELECT * FROM loans WHERE id = ?", (loan + 1000,)) is None
        assert await db.fetchval("SELECT id FROM loans WHERE id = ?", (loan + 1000,)) is None

        row = await db.fetchone(
            "SELECT principal, annual_rate, first_due_date, disbursed_at, balloon_amount"
            " FROM loans WHERE id = ?",
            (loan,),
        )
        assert row is not None
        assert row["principal"] == Decimal("120000.00")
        assert str(row["principal"]) == "120000.00"
        assert row["annual_rate"] == Decimal("0.0599")
        assert row["balloon_amount"] == Decimal("0")
        assert row["first_due_date"] == date(2027, 1, 15)
        assert row["disbursed_at"] == datetime(2026, 12, 15, 10, 0, tzinfo=UTC)
        assert row["disbursed_at"].utcoffset() == timedelta(0)

        answers = await db.fetchval("SELECT answers FROM applications WHERE id = ?", (application,))
        # jsonb reads back as its JSON text, as SQLite's JSON column does
        assert isinstance(answers, str)
        assert json.loads(answers) == {"price": "150000", "city": "上海"}
        chats = await db.fetchall("SELECT DISTINCT chat_id, message_id FROM outbox")
        assert chats == [{"chat_id": GROUP_CHAT, "message_id": 9_000_000_000}]


async def test_flags_take_python_bools(pg_url: str) -> None:
    async with PostgresDatabase(pg_url) as db:
        await migrate(db.conn)
        await _user(db.conn, 1)
        await db.conn.execute("UPDATE users SET reminders_paused = ? WHERE user_id = 1", (True,))
        assert await db.fetchval("SELECT reminders_paused FROM users WHERE user_id = 1") == 1
        assert await db.fetchval("SELECT COUNT(*) FROM users WHERE reminders_paused = 1") == 1


async def test_a_transaction_sees_its_writes_and_rolls_back_on_error(pg_url: str) -> None:
    async with PostgresDatabase(pg_url) as db:
        await migrate(db.conn)
        with pytest.raises(RuntimeError, match="boom"):
            async with db.transaction() as tx:
                await _user(tx, 2)
                # db.conn inside the transaction is the transaction's connection.
                assert await db.fetchval("SELECT COUNT(*) FROM users") == 1
                raise RuntimeError("boom")
        assert await db.fetchval("SELECT COUNT(*) FROM users") == 0

        async with db.transaction() as tx:
            await _user(tx, 3)
            # Another task outside the transaction sees only what is committed.
            outside = asyncio.create_task(_count_elsewhere(db, pg_url))
            assert await outside == 0
        assert await db.fetchval("SELECT COUNT(*) FROM users") == 1


async def _count_elsewhere(db: PostgresDatabase, url: str) -> int:
    async with PostgresDatabase(url) as other:
        return await other.fetchval("SELECT COUNT(*) FROM users")


async def test_open_database_chooses_by_setting(tmp_path, pg_url: str) -> None:  # noqa: ANN001
    assert isinstance(open_database(tmp_path / "bot.sqlite3"), Database)
    assert isinstance(open_database(str(tmp_path / "bot.sqlite3")), Database)
    for url in (pg_url, pg_url.replace("postgresql://", "postgres://", 1)):
        db = open_database(url)
        assert isinstance(db, PostgresDatabase) and db.dialect == "postgresql"
        async with db:
            assert await db.fetchval("SELECT 1") == 1


def _host_of(url: str) -> str:
    """scheme://user@host:port of PG_TEST_URL, to name other databases on its server."""
    rest = url.split("://", 1)[1].split("/", 1)[0]
    return rest.split("@", 1)[1] if "@" in rest else rest


async def _refused(url: str) -> str:
    with pytest.raises(DatabaseUrlError) as caught:
        async with PostgresDatabase(url):
            pass
    error = caught.value
    assert error.__cause__ is None and error.__suppress_context__
    message = str(error)
    assert "\n" not in message
    assert message.startswith("DATABASE_URL")
    assert "s3cret" not in message
    return message


async def test_a_malformed_url() -> None:
    message = await _refused("postgresql://bot:s3cret@127.0.0.1:notaport/loans")
    assert message.startswith("DATABASE_URL is not a valid PostgreSQL URL: ")
    assert "port" in message


async def test_nothing_answers() -> None:
    message = await _refused("postgresql://bot:s3cret@127.0.0.1:1/loans")
    assert message.startswith("DATABASE_URL: cannot connect to bot@127.0.0.1:1/loans: ")
    assert "refused" in message.lower()


async def test_a_database_that_does_not_exist(pg_url: str) -> None:
    from tests.conftest import PG_TEST_URL

    url = f"postgresql://postgres:s3cret@{_host_of(PG_TEST_URL)}/no_such_database_here"
    message = await _refused(url)
    assert 'database "no_such_database_here" does not exist' in message


async def test_a_role_the_server_refuses(pg_url: str) -> None:
    from tests.conftest import PG_TEST_URL

    url = f"postgresql://no_such_role:s3cret@{_host_of(PG_TEST_URL)}/test"
    message = await _refused(url)
    assert message.startswith("DATABASE_URL: cannot connect to no_such_role@")
    assert 'role "no_such_role" does not exist' in message


async def test_an_unreachable_server_is_waited_for_with_backoff_then_given_up(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import psycopg

    from storage import postgres

    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(postgres.asyncio, "sleep", no_wait)
    url = "postgresql://bot:s3cret@db.example:5432/loans"
    failures = iter([psycopg.OperationalError("the database system is starting up")] * 3)

    async def take() -> str:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return "connection"

    with caplog.at_level("WARNING", logger="storage.postgres"):
        assert await postgres._retrying(take, url) == "connection"
    assert waits == [0.1, 0.2, 0.4]
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 3 and all("\n" not in line for line in lines)
    assert "bot@db.example:5432/loans" in lines[0] and "attempt 1 of 8" in lines[0], lines[0]
    assert not any("s3cret" in line for line in lines)

    waits.clear()

    async def never() -> str:
        raise psycopg.OperationalError("connection refused")

    with pytest.raises(psycopg.OperationalError, match="refused"):
        await postgres._retrying(never, url)
    assert waits == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0]  # doubling, at most 5 s; 8 tries

"""Policy what-if: a stricter policy on a seeded database, in counts, and nothing written."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli.main import main as cli_main
from lending.policy import parse_policy
from services.applications import whatif
from services.leads import sources
from storage.applications import read_only
from tests.desk.helpers import seed_application

STRICTER = """
name = "stricter"
[tiers]
A = 90
B = 70
C = 60
review_min = 50
[rates]
fixed = { A = 3.8, B = 5.5, C = 6.5 }
"""
# Scores under the default policy: 88 (A), 67 (B), 54 (C); the fourth fails the income
# floor whatever the cut-offs. Under STRICTER: 88 -> B, 67 -> C, 54 -> review.
APPLICANTS = [
    (4001, "expo", {}),
    (4002, "expo", {"employment": "self_employed", "employment_months": 8, "credit_history": "late"}),
    (4003, None, {"employment": "other", "employment_months": 3, "credit_history": "late",
                  "down_payment": "40000.00"}),
    (4004, None, {"monthly_income": "2500.00"}),
]  # fmt: skip


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pg_digest(url: str) -> str:
    """Every row of every table in the test's schema, hashed: PostgreSQL's counterpart of
    the file's digest (its files are the server's)."""
    import psycopg

    digest = hashlib.sha256()
    with psycopg.connect(url) as pg:
        tables = pg.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema ="
            " current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        ).fetchall()
        for (table,) in tables:
            rows = pg.execute(f'SELECT t::text FROM "{table}" t ORDER BY 1').fetchall()
            digest.update(repr((table, rows)).encode())
    return digest.hexdigest()


async def _database_digest(world) -> str:
    database = world.settings.database
    if isinstance(database, Path):
        return await asyncio.to_thread(_digest, database)
    return await asyncio.to_thread(_pg_digest, database)


async def _seed(world) -> None:
    expo = await sources.create_source(world.runtime, "expo")
    assert expo.code == "expo"
    now = world.clock.now().isoformat()
    for user_id, source, answers in APPLICANTS:
        await world.runtime.db.conn.execute(
            "INSERT INTO users (user_id, created_at, updated_at) VALUES (?, ?, ?)",
            (user_id, now, now),
        )
        if source:
            await sources.record_touch(world.runtime, user_id, source)
        await seed_application(world, user_id, answers=answers)
    # One from long ago: outside a 90-day window.
    old = (world.clock.now() - timedelta(days=200)).isoformat()
    await seed_application(world, 4005, answers={}, submitted_at=old)


async def test_whatif_counts_on_a_seeded_database_and_no_write(world) -> None:
    await _seed(world)
    runtime = world.runtime
    conn = runtime.db.conn

    def changes() -> int | None:
        # SQLite counts every row written on the connection; PostgreSQL's pooled calls
        # have no such count, so there the rows themselves are compared below.
        return conn.raw.total_changes if conn.dialect == "sqlite" else None

    before_changes = changes()
    before = None if conn.dialect == "sqlite" else await _database_digest(world)
    report = await whatif.what_if(
        conn, parse_policy(__import__("tomllib").loads(STRICTER)), days=90,
        now=runtime.clock.now(), tz=runtime.timezone,
    )  # fmt: skip
    assert changes() == before_changes  # not one row written
    if before is not None:
        assert await _database_digest(world) == before
    data = whatif.report_json(report)
    assert data["assessed"] == 4
    assert data["decisions"] == {
        "declined->declined": 1, "prequalified->prequalified": 2, "prequalified->review": 1,
    }  # fmt: skip
    assert data["outcomes"] == {
        "A->B": 1, "B->C": 1, "C->review": 1, "declined->declined": 1,
    }  # fmt: skip
    assert data["by_source"] == {
        "expo": {"prequalified->prequalified": 2},
        "direct": {"declined->declined": 1, "prequalified->review": 1},
    }
    # A's payment moves to B's new 5.5%, B's to C's 6.5%; C was already at the worst rate.
    assert [c["application_id"] for c in data["largest"]] == [2, 1]
    assert all(c["after"] > c["before"] for c in data["largest"])
    text = "\n".join(whatif.table_lines(report))
    assert "4 applications" in text and "1 would change decision" in text


async def test_cli_whatif_reads_only(world, tmp_path: Path, monkeypatch, capsys) -> None:
    await _seed(world)
    database = world.settings.database
    await world.stop()  # the bot is down; its WAL is checkpointed into the file
    digest = await _database_digest(world)
    new = tmp_path / "stricter.toml"
    new.write_text(STRICTER)
    if isinstance(database, Path):
        monkeypatch.setenv("DATABASE_PATH", str(database))
    else:
        monkeypatch.setenv("DATABASE_URL", database)
    # The CLI runs its own event loop, as from a shell: in a thread here.
    assert await asyncio.to_thread(cli_main, ["policy", "whatif", str(new), "--days", "3650"]) == 0
    out = capsys.readouterr().out
    assert "5 applications" in out and "1 would change decision" in out and "expo" in out
    assert await _database_digest(world) == digest
    if isinstance(database, Path):
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            with sqlite3.connect(whatif.read_only_uri(database), uri=True) as ro:
                ro.execute("DELETE FROM applications")
    else:
        import psycopg

        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            async with read_only(database) as ro:
                await ro.execute("DELETE FROM applications")
    bad = tmp_path / "bad.toml"
    bad.write_text("[tiers]\nA = 'high'\n")
    assert await asyncio.to_thread(cli_main, ["policy", "whatif", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bad.toml") and err.count("\n") == 1


async def test_whatif_in_chat_takes_the_policy_document(world) -> None:
    await _seed(world)
    admin = world.admin()
    admin.command("/whatif")
    await world.settle()
    assert "Send the new policy file" in admin.last_text()
    admin.send_document(STRICTER.encode(), "stricter.toml")
    await world.settle()
    reply = admin.last_text()
    assert "What-if: stricter.toml" in reply and "4 applications" in reply
    admin.send_document(b"[tiers]\nA = 5\nB = 60\n", "broken.toml", caption="/whatif 30")
    await world.settle()
    assert admin.last_text().startswith("This policy file cannot be used: broken.toml")
    buyer = world.user(4101, "Curious")
    buyer.send_document(STRICTER.encode(), "x.toml", caption="/whatif")
    await world.settle()
    assert "can't help" in buyer.last_text()

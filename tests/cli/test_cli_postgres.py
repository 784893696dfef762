"""The command line on PostgreSQL: `db copy --to URL` moves a SQLite deployment into an
empty PostgreSQL database, all or nothing; `backup` there is pg_dump's; bad URLs are one
line and exit 2. Commands run in this process through `bot.cli.main.main`, exactly as
`python -m bot` calls it."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from bot.cli.main import main
from bot.sandbox.world import SandboxWorld
from lending.policy import DEFAULT_POLICY_PATH
from services.leads.queue import get_lead
from services.loans.book import get_loan
from tests.conftest import PG_TEST_URL
from tests.desk.helpers import seed_application
from tests.loans.helpers import book, borrower, terms
from tests.prequalify.journey import GOOD, act, begin
from tests.processes import ROOT


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """`python -m bot ARGS` with DATABASE_PATH=tmp_path/bot.sqlite3 (and `env` on top):
    (status, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in ("DATABASE_URL", "DATABASE_PATH", "TELEGRAM_BOT_TOKEN", "POLICY_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "bot.sqlite3"))

    async def run(*argv: str, **env: str) -> tuple[int, str, str]:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        status = await asyncio.to_thread(main, list(argv))
        out, err = capsys.readouterr()
        return status, out, err

    return run


async def _sandbox_deployment(path: Path) -> dict[str, object]:
    """A SQLite database the bot made: a booked loan, an open lead, a buyer's draft."""
    async with SandboxWorld.create(path) as world:
        await borrower(world, 3001, "Wang")
        loan_id = await book(world, 3001, loan_terms=terms(first_due=date(2026, 4, 3)))
        _, lead_id = await seed_application(world, 3002, name="Zhao Min")
        buyer = world.user(3003, "Chen", "en")
        await begin(world, buyer, "en")
        for key in ("vehicle_condition", "powertrain", "use"):
            await act(world, buyer, "en", key, GOOD[key])
        loan = await get_loan(world.runtime, loan_id)
        lead = await get_lead(world.runtime, lead_id)
    return {"loan_id": loan_id, "lead_id": lead_id, "loan": loan, "lead": lead}


def _count(path: Path, sql: str) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchone()[0]


async def test_db_copy_moves_a_sandbox_deployment_and_the_bot_reads_the_same(cli, tmp_path, pg_url):
    made = await _sandbox_deployment(tmp_path / "bot.sqlite3")
    drafts = _count(
        tmp_path / "bot.sqlite3", "SELECT COUNT(*) FROM applications WHERE status = 'draft'"
    )
    assert drafts == 1

    status, out, err = await cli("db", "copy", "--to", pg_url)

    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("copied 26 tables, ")
    assert lines[0].endswith(
        " rows to postgresql://postgres@127.0.0.1:5432/test; counts and checksums match"
    )
    async with SandboxWorld.create(pg_url) as world:
        loan = await get_loan(world.runtime, made["loan_id"])
        lead = await get_lead(world.runtime, made["lead_id"])
        # What the bot read from SQLite, read again from PostgreSQL.
        assert loan == made["loan"]
        assert lead == made["lead"]
        # ... and by hand: 12 monthly installments from 2026-04-03, 120,000 at 4.8%.
        assert loan.principal == Decimal("120000")
        assert loan.annual_rate == Decimal("4.8")
        assert [i.due_date for i in loan.installments][:3] == [
            date(2026, 4, 3), date(2026, 5, 3), date(2026, 6, 3)
        ]  # fmt: skip
        assert len(loan.installments) == 12
        assert loan.installments[-1].balance == 0
        assert lead.status == "new"
        assert lead.user_id == 3002
        draft_count = await world.runtime.db.conn.fetchval(
            "SELECT COUNT(*) FROM applications WHERE status = 'draft'"
        )
        assert draft_count == 1
        # The identity sequences moved past the copied ids: a new lead takes the next one.
        _, next_lead = await seed_application(world, 3004, name="Sun Li")
        assert next_lead == made["lead_id"] + 1

    # The commands that read it, on DATABASE_URL now.
    status, out, err = await cli("leads", "export", "--out", "leads.csv", DATABASE_URL=pg_url)
    assert (status, out, err) == (0, "wrote 2 leads to leads.csv\n", "")
    status, out, err = await cli("policy", "whatif", str(DEFAULT_POLICY_PATH))
    assert (status, err) == (0, "")
    assert out.startswith("What-if under policy 'default': ")


async def test_db_copy_refuses_a_target_that_already_has_the_tables(cli, tmp_path, pg_url):
    await _sandbox_deployment(tmp_path / "bot.sqlite3")
    assert (await cli("db", "copy", "--to", pg_url))[0] == 0

    status, out, err = await cli("db", "copy", "--to", pg_url)

    assert status == 2 and out == ""
    assert err.count("\n") == 1
    assert err.startswith("db copy: nothing copied: the target is not empty (it has table ")


async def test_db_copy_keeps_rows_as_they_are_where_postgresql_has_a_trigger(cli, tmp_path, pg_url):
    # A lead takes its user's source when it is made (a trigger on both databases). Here
    # the user's source came later, so the stored lead has none: the copy must keep it
    # so, not let the trigger fill it in on the way.
    made = await _sandbox_deployment(tmp_path / "bot.sqlite3")
    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        conn.execute("UPDATE users SET first_source = 'expo' WHERE user_id = 3002")

    status, out, err = await cli("db", "copy", "--to", pg_url)

    assert (status, err) == (0, "")
    with psycopg.connect(pg_url) as conn:
        lead = conn.execute(
            "SELECT first_source FROM leads WHERE id = %s", (made["lead_id"],)
        ).fetchone()
        user = conn.execute("SELECT first_source FROM users WHERE user_id = 3002").fetchone()
    assert (lead, user) == ((None,), ("expo",))


async def test_db_copy_needs_a_sqlite_database_at_the_current_schema(cli, tmp_path, pg_url):
    status, out, err = await cli("db", "copy", "--to", pg_url)
    assert (status, out) == (2, "")
    assert err == f"DATABASE_PATH: {tmp_path / 'bot.sqlite3'} does not exist: nothing to copy\n"

    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("PRAGMA user_version = 3")
    status, out, err = await cli("db", "copy", "--to", pg_url)
    assert (status, out) == (2, "")
    assert err == (
        "db copy: nothing copied: DATABASE_PATH: schema version 3, this code's is 12; "
        "run `python -m bot migrate` first\n"
    )


async def test_the_demo_keeps_its_data_in_postgresql_when_given_a_url(cli, pg_url):
    script = str(ROOT / "bot/sandbox/scripts/quick_quote.txt")

    status, out, err = await cli("demo", "--script", script, "--database", pg_url)

    assert (status, err) == (0, "")
    assert "Your repayment schedule" in out
    with psycopg.connect(pg_url) as conn:
        users = conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]
    assert users >= 1
    # ... but never in the bot's own database.
    status, out, err = await cli(
        "demo", "--script", script, "--database", pg_url, DATABASE_URL=pg_url
    )
    assert (status, out) == (2, "")
    assert err == (
        "--database: that is DATABASE_URL, the bot's own database; give another database\n"
    )


async def test_db_copy_leaves_nothing_when_a_table_does_not_match(cli, tmp_path, pg_url):
    # A value SQLite kept that PostgreSQL's schema refuses (a due date that is no date):
    # the whole copy is rolled back, migrations included.
    await _sandbox_deployment(tmp_path / "bot.sqlite3")
    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        conn.execute("UPDATE installments SET due_date = 'soon' WHERE n = 2")

    status, out, err = await cli("db", "copy", "--to", pg_url)

    assert status == 2 and out == ""
    assert err.startswith("db copy: nothing copied: table installments: ")
    assert err.count("\n") == 1
    with psycopg.connect(pg_url) as conn:
        tables = conn.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchone()[0]
    assert tables == 0


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (
            "postgresql://bot:hunter2@127.0.0.1:1/loans",
            "--to: cannot connect to bot@127.0.0.1:1/loans",
        ),
        ("postgresql://bot@127.0.0.1:notaport/loans", "--to"),
        ("bot.sqlite3", "--to: give a PostgreSQL URL"),
    ],
)
async def test_db_copy_to_a_bad_url_is_one_line(cli, tmp_path, url, says):
    await _sandbox_deployment(tmp_path / "bot.sqlite3")

    status, out, err = await cli("db", "copy", "--to", url)

    assert status == 2 and out == ""
    assert err.startswith(says)
    assert err.count("\n") == 1
    assert "hunter2" not in err


async def test_commands_name_database_url_when_it_points_nowhere(cli):
    url = "postgresql://bot:hunter2@127.0.0.1:1/loans"
    for argv in (["migrate"], ["leads", "export", "--out", "x.csv"], ["backup", "x.dump"]):
        status, out, err = await cli(*argv, DATABASE_URL=url)
        if argv[0] == "backup" and shutil.which("pg_dump") is None:
            continue  # said in the test below
        assert status == 2, argv
        assert err.startswith("DATABASE_URL: "), (argv, err)
        assert err.count("\n") == 1
        assert "hunter2" not in err
    assert sorted(p.name for p in Path.cwd().iterdir()) == []  # no export, no dump, no part


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A database of its own (pg_dump dumps a whole database, and the test database holds
    every other test's schemas, created and dropped meanwhile)."""
    try:
        admin = psycopg.connect(PG_TEST_URL, autocommit=True, connect_timeout=3)
    except psycopg.Error:
        pytest.skip("no PostgreSQL server at PG_TEST_URL")
    name = f"fcli_backup_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_TEST_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_TEST_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


async def test_backup_on_postgresql_is_a_pg_dump_archive(cli, tmp_path, pg_database):
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore not on PATH")
    assert (await cli("migrate", DATABASE_URL=pg_database))[0] == 0

    status, out, err = await cli("backup", "loans.dump")

    assert (status, err) == (0, "")
    assert out.startswith("backed up postgresql://postgres@127.0.0.1:5432/fcli_backup_")
    listing = await asyncio.to_thread(
        subprocess.run,
        ["pg_restore", "--list", str(tmp_path / "loans.dump")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "TABLE public loans" in listing.stdout
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".loans.dump")] == []


async def test_backup_on_postgresql_without_pg_dump_says_what_to_run(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    status, out, err = await cli(
        "backup", "loans.dump", DATABASE_URL="postgresql://bot:hunter2@db.example/loans"
    )

    assert status == 2 and out == ""
    assert err == (
        "backup: pg_dump is not on PATH; install PostgreSQL's client tools, or run where they"
        ' are: pg_dump --format=custom --file loans.dump "$DATABASE_URL"\n'
    )
    assert not (tmp_path / "loans.dump").exists()

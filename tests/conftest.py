"""Shared fixtures: the whole bot on the sandbox, with a temporary database and a clock."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings

from bot.sandbox.world import SandboxWorld
from tests.processes import database_env

# CI replays the same examples every run, so a red build always means a change broke
# something; on a developer's machine hypothesis explores new examples each time.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bot.sqlite3"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, db_path: Path) -> Path | str:
    """Where a test's data lives: a SQLite file, then a PostgreSQL schema of its own (every
    test on `world` runs on both)."""
    if request.param == "sqlite":
        return db_path
    return request.getfixturevalue("pg_url")


@pytest.fixture
def database_setting(database: Path | str, monkeypatch: pytest.MonkeyPatch) -> Path | str:
    """The `database`, named in this process's environment as a deployment names it, for
    commands run here through `bot.cli.main.main`."""
    for name in ("DATABASE_URL", "DATABASE_PATH"):
        monkeypatch.delenv(name, raising=False)
    for name, value in database_env(database).items():
        monkeypatch.setenv(name, value)
    return database


@pytest.fixture
async def world(database: Path | str) -> AsyncIterator[SandboxWorld]:
    """The bot, started on the sandbox; `world.restart()` simulates a new process."""
    async with SandboxWorld.create(database) as started:
        yield started


# PostgreSQL: a server at PG_TEST_URL (a superuser's or owner's URL); each test gets a
# schema of its own, named in the URL's search_path and dropped afterwards. Without a
# server the PostgreSQL tests skip, said once at the end of the run; REQUIRE_POSTGRES=1
# (CI) makes that a failure instead.
PG_TEST_URL = os.environ.get("PG_TEST_URL", "postgresql://postgres@127.0.0.1:5432/test")
_pg_unavailable: list[str] = []  # the reason, once found out


def _pg_reason() -> str | None:
    if not _pg_unavailable:
        import psycopg

        try:
            psycopg.connect(PG_TEST_URL, connect_timeout=3).close()
            _pg_unavailable.append("")
        except psycopg.Error as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            _pg_unavailable.append(f"{_NO_SERVER} ({first})")
    return _pg_unavailable[0] or None


def with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def _pg_or_skip() -> None:
    reason = _pg_reason()
    if reason:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason}; REQUIRE_POSTGRES=1 needs one", pytrace=False)
        pytest.skip(reason)


@contextmanager
def pg_schema() -> Iterator[str]:
    """A URL to a new, empty PostgreSQL schema, dropped at the end."""
    import psycopg

    schema = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_TEST_URL, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(PG_TEST_URL, schema)
    finally:
        with psycopg.connect(PG_TEST_URL, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def fresh_database(like: Path | str) -> Iterator[Path | str]:
    """A new, empty database of the kind `like` is (a `database` fixture value): for a
    test that needs several, such as one per hypothesis example."""
    if isinstance(like, Path):
        with tempfile.TemporaryDirectory() as folder:
            yield Path(folder) / like.name
    else:
        with pg_schema() as url:
            yield url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL to an empty PostgreSQL schema of this test's own."""
    _pg_or_skip()
    with pg_schema() as url:
        yield url


@pytest.fixture(scope="module")
def module_pg_url() -> Iterator[str]:
    """`pg_url` shared by a module's tests (those that keep one bot for many examples)."""
    _pg_or_skip()
    with pg_schema() as url:
        yield url


_NO_SERVER = "no PostgreSQL server at PG_TEST_URL"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The one line about skipped PostgreSQL tests. Run in parallel (pytest-xdist), the
    tests ran in worker processes: the reason is read from their skip reports."""
    reason = _pg_unavailable[0] if _pg_unavailable else ""
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        said = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
        if not reason and _NO_SERVER in str(said):
            reason = str(said).removeprefix("Skipped: ")
    if reason:
        terminalreporter.write_line(f"PostgreSQL tests skipped: {reason}")

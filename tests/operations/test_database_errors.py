"""Database errors are counted where the bot meets them: handling an update (see
test_metrics.py), the outbox sender's rounds, the scheduled work, the health probe (see
test_health.py); other failures there are not database errors."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import psycopg
import psycopg_pool
import pytest

from bot import jobs, metrics
from bot.sandbox.world import SandboxWorld
from storage import outbox
from storage.errors import error_kind, is_database_error
from tests.operations.scrape import delta, parse

ERRORS = "autoloan_database_errors_total"


def current():
    return parse(metrics.exposition().decode())


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.IntegrityError("UNIQUE constraint failed"), True),
        (psycopg.OperationalError("connection refused"), True),
        (psycopg.errors.SerializationFailure("could not serialize"), True),
        (psycopg_pool.PoolTimeout("couldn't get a connection after 30.00 sec"), True),
        (psycopg_pool.PoolClosed("the pool is closed"), True),
        (ValueError("not a number"), False),
        (RuntimeError("boom"), False),
        (TimeoutError(), False),
    ],
)
def test_which_errors_are_database_errors(error: BaseException, expected: bool) -> None:
    assert is_database_error(error) is expected


def test_the_kind_of_an_error_shows_no_message() -> None:
    error = psycopg.OperationalError('password authentication failed for user "loanbot"')
    assert error_kind(error) == "OperationalError"


@pytest.mark.parametrize(
    ("error", "counted"), [(sqlite3.OperationalError("disk I/O error"), 1), (KeyError("x"), 0)]
)
async def test_scheduled_work_counts_its_database_errors(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException, counted: int
) -> None:
    async def broken(runtime: object) -> int:
        raise error

    monkeypatch.setattr(jobs, "DUE_WORK", [broken, *jobs.DUE_WORK])
    async with SandboxWorld.create(db_path) as world:
        before = current()
        await world.run_due_work()  # the broken kind fails; the others still run
        after = current()
    assert delta(before, after, ERRORS, source="jobs") == counted


async def test_a_failed_outbox_round_counts_a_database_error(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = 0

    async def due_rows(*args: object) -> list:
        nonlocal failures
        failures += 1
        raise sqlite3.OperationalError("disk I/O error")

    async with SandboxWorld.create(db_path) as world:
        monkeypatch.setattr(outbox, "due_rows", due_rows)
        sender = world.app.outbox
        before = current()
        sender.start(poll_interval=3600)  # one round at start; the next only when woken
        for _ in range(10_000):
            if failures:
                break
            await asyncio.sleep(0)
        await sender.stop(grace=1)
        after = current()
    assert failures == 1
    assert delta(before, after, ERRORS, source="outbox") == 1

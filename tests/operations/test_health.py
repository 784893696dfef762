"""The health endpoints as a load balancer or Kubernetes probe sees them: a status code and
one plain-text line, fetched over loopback HTTP from a server on a free port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import health
from bot.config import ConfigError
from bot.health import HealthServer
from bot.metrics import exposition
from services.clock import ManualClock
from storage import outbox
from tests.operations.scrape import delta, fetch, parse

NOW = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)


class Switch:
    """is_active for the server: what the leadership code would answer."""

    def __init__(self, active: bool) -> None:
        self.active = active

    def __call__(self) -> bool:
        return self.active


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def active() -> Switch:
    return Switch(True)


@pytest.fixture
async def server(db: Any, clock: ManualClock, active: Switch) -> AsyncIterator[HealthServer]:
    async with HealthServer(db, active, listen="127.0.0.1", port=0, clock=clock) as started:
        yield started


async def queue(db: Any, *, created: datetime, not_before: datetime | None = None) -> None:
    async with db.transaction() as conn:
        await outbox.enqueue(
            conn,
            chat_id=1001,
            method="sendMessage",
            payload={"text": "hello"},
            now=created,
            not_before=not_before,
        )


async def test_healthz_says_ok_even_on_standby(server: HealthServer, active: Switch) -> None:
    active.active = False
    answer = await fetch(server, "/healthz")
    assert (answer.status_code, answer.text) == (200, "ok\n")
    assert answer.headers["content-type"].startswith("text/plain")


async def test_readyz_is_ready_only_when_active(server: HealthServer, active: Switch) -> None:
    answer = await fetch(server, "/readyz")
    assert (answer.status_code, answer.text) == (200, "ready\n")
    active.active = False
    answer = await fetch(server, "/readyz")
    assert (answer.status_code, answer.text) == (503, "standby\n")


async def test_readyz_says_the_outbox_is_stuck_once_a_due_row_waited_too_long(
    server: HealthServer, db: Any, clock: ManualClock
) -> None:
    # Due 299 s ago: within the 300 s the server allows.
    await queue(db, created=NOW - timedelta(seconds=299))
    assert (await fetch(server, "/readyz")).status_code == 200
    clock.advance(timedelta(seconds=113))  # now due 412 s ago
    answer = await fetch(server, "/readyz")
    assert (answer.status_code, answer.text) == (
        503,
        "outbox stuck: oldest due message waiting 412 s\n",
    )


async def test_a_row_put_off_by_its_retry_is_not_stuck(server: HealthServer, db: Any) -> None:
    # Queued an hour ago, its next attempt 30 s from now (a backoff): waiting by design.
    await queue(db, created=NOW - timedelta(hours=1), not_before=NOW + timedelta(seconds=30))
    answer = await fetch(server, "/readyz")
    assert (answer.status_code, answer.text) == (200, "ready\n")


async def test_readyz_says_503_when_the_database_is_gone(server: HealthServer, db: Any) -> None:
    before = parse(exposition().decode())
    await db.close()
    answer = await fetch(server, "/readyz")
    assert answer.status_code == 503
    assert answer.text.startswith("database: ") and answer.text.count("\n") == 1
    # The error's class only: no path, URL, host or user.
    assert "postgres" not in answer.text and "sqlite3" not in answer.text
    after = parse(exposition().decode())
    assert delta(before, after, "autoloan_database_errors_total", source="health") == 1


async def test_readyz_gives_the_database_one_second(
    clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Hanging:
        """A database that never answers."""

        conn = None
        dialect = "sqlite"

    async def never(conn: Any) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(health.monitoring, "probe", never)
    monkeypatch.setattr(health, "DATABASE_TIMEOUT", 0.05)  # the test need not wait 1 s
    async with HealthServer(
        Hanging(), lambda: True, listen="127.0.0.1", port=0, clock=clock
    ) as server:  # type: ignore[arg-type]
        answer = await fetch(server, "/readyz")
    assert (answer.status_code, answer.text) == (503, "database: no answer within 0.05 s\n")


async def test_head_answers_like_get_without_a_body(server: HealthServer, active: Switch) -> None:
    answer = await fetch(server, "/readyz", "HEAD")
    assert (answer.status_code, answer.content) == (200, b"")
    active.active = False
    assert (await fetch(server, "/readyz", "HEAD")).status_code == 503
    assert (await fetch(server, "/healthz", "HEAD")).status_code == 200
    assert (await fetch(server, "/metrics", "HEAD")).status_code == 200


async def test_anything_else_is_404_and_other_methods_405(server: HealthServer) -> None:
    for path in ("/", "/health", "/metrics/x", "/readyz/"):
        answer = await fetch(server, path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/plain")
    answer = await fetch(server, "/readyz", "POST")
    assert answer.status_code == 405 and "<html" not in answer.text.lower()


async def test_requests_leave_no_access_log(
    server: HealthServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    await fetch(server, "/healthz")
    await fetch(server, "/nowhere")
    assert not [r for r in caplog.records if r.name.startswith("tornado.access")]


async def test_stop_frees_the_port(db: Any, clock: ManualClock) -> None:
    server = HealthServer(db, lambda: True, listen="127.0.0.1", port=0, clock=clock)
    await server.start()
    port = server.port
    assert port > 0
    await server.stop()
    again = HealthServer(db, lambda: True, listen="127.0.0.1", port=port, clock=clock)
    await again.start()  # the same port binds again
    await again.stop()


async def test_a_port_in_use_is_one_line_naming_the_setting(
    server: HealthServer, db: Any, clock: ManualClock
) -> None:
    second = HealthServer(db, lambda: True, listen="127.0.0.1", port=server.port, clock=clock)
    with pytest.raises(ConfigError) as caught:
        await second.start()
    assert str(caught.value) == (
        f"HEALTH_PORT: cannot listen on 127.0.0.1:{server.port} (Address already in use)"
    )

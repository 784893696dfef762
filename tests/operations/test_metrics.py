"""/metrics as Prometheus reads it: parsed with prometheus-client's own parser, each figure
compared with what the test itself set up (rows it queued, leads it moved, reminders a
day's tick sent, updates its users sent, 429s the sandbox answered).

The counters live for the whole process (one registry, bot/metrics.py), so a test reads
their change across what it did."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import metrics
from bot.health import HealthServer
from bot.rate_limits import ChatRateLimiter
from bot.sandbox.core import DEFAULT_MANAGER_CHAT_ID
from bot.sandbox.world import SandboxWorld
from services.clock import ManualClock
from services.leads import queue as leads
from services.rendering import Renderer
from storage import outbox
from tests.loans.helpers import SHANGHAI, book, borrower, local, terms
from tests.managers.conftest import open_test_lead
from tests.operations.scrape import Samples, delta, fetch, parse, value

NOW = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
RENDERER = Renderer()


def current() -> Samples:
    return parse(metrics.exposition().decode())


async def scrape(server: HealthServer) -> Samples:
    answer = await fetch(server, "/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return parse(answer.text)


# --- read from the database at scrape time -----------------------------------------------


async def test_outbox_figures(db: Any) -> None:
    clock = ManualClock(NOW)
    moments = [NOW - timedelta(minutes=10), NOW - timedelta(minutes=2), NOW]
    async with db.transaction() as conn:
        for n, moment in enumerate(moments):
            await outbox.enqueue(
                conn, chat_id=1000 + n, method="sendMessage", payload={}, now=moment
            )
        # Pending, but put off until later: counted, not due, so not "oldest".
        await outbox.enqueue(
            conn,
            chat_id=1010,
            method="sendMessage",
            payload={},
            now=NOW - timedelta(hours=2),
            not_before=NOW + timedelta(minutes=1),
        )
        for chat_id in (1020, 1021):
            await outbox.enqueue(conn, chat_id=chat_id, method="sendMessage", payload={}, now=NOW)
    rows = await outbox.due_rows(db.conn, NOW + timedelta(hours=1), 10)
    async with db.transaction() as conn:
        await outbox.mark_final(conn, rows[-2].id, "failed", "400 chat not found")
        await outbox.mark_sent(conn, rows[-1].id, NOW, 1)
    async with HealthServer(db, lambda: True, listen="127.0.0.1", port=0, clock=clock) as server:
        samples = await scrape(server)
        assert value(samples, "autoloan_outbox_pending") == 4
        assert value(samples, "autoloan_outbox_failed") == 1
        assert value(samples, "autoloan_outbox_oldest_pending_age_seconds") == 600
        clock.advance(timedelta(seconds=30))
        samples = await scrape(server)
        assert value(samples, "autoloan_outbox_oldest_pending_age_seconds") == 630


async def test_leads_by_status(world: SandboxWorld) -> None:
    lead_ids = [await open_test_lead(world, 1100 + n, f"Buyer{n}") for n in range(5)]
    runtime = world.runtime
    manager = world.manager(0).id
    for lead_id in lead_ids[:3]:
        await leads.claim_lead(runtime, lead_id, manager)
    await leads.move_lead(runtime, lead_ids[1], "contacted", manager)
    await leads.move_lead(runtime, lead_ids[2], "lost", manager, note="no_answer")
    async with HealthServer(
        runtime.db, lambda: True, listen="127.0.0.1", port=0, clock=world.clock
    ) as server:
        samples = await scrape(server)
    figures = {
        labels["status"]: count
        for (name, label_set), count in samples.items()
        if name == "autoloan_leads"
        for labels in [dict(label_set)]
    }
    assert figures == {
        "new": 2,
        "claimed": 1,
        "contacted": 1,
        "documents": 0,
        "submitted": 0,
        "approved": 0,
        "disbursed": 0,
        "lost": 1,
    }


async def test_reminders_sent_today_count_the_company_day(world: SandboxWorld) -> None:
    # Three borrowers whose first installments fall due 3 days, 1 day and 0 days after
    # Tuesday 31 March: that morning's tick sends one reminder of each kind.
    day = date(2026, 3, 31)
    for n, due in enumerate((day + timedelta(days=3), day + timedelta(days=1), day)):
        await borrower(world, 1200 + n, f"Borrower{n}")
        await book(world, 1200 + n, loan_terms=terms(first_due=due))
    world.clock.set(local(day, 9, 30))
    await world.run_due_work()
    server = HealthServer(
        world.runtime.db,
        lambda: True,
        listen="127.0.0.1",
        port=0,
        clock=world.clock,
        timezone=SHANGHAI,
    )
    async with server:

        def today(samples: Samples) -> dict[str, float]:
            return {
                dict(labels)["kind"]: count
                for (name, labels), count in samples.items()
                if name == "autoloan_reminders_sent_today"
            }

        assert today(await scrape(server)) == {"before-3": 1, "before-1": 1, "due": 1}
        # 23:00 in Shanghai is 15:00 UTC: still the same local day.
        world.clock.set(local(day, 23, 0))
        assert today(await scrape(server)) == {"before-3": 1, "before-1": 1, "due": 1}
        # 07:00 on 1 April in Shanghai is 23:00 UTC on 31 March: a new local day.
        world.clock.set(local(day + timedelta(days=1), 7, 0))
        assert world.clock.now().date() == day
        assert today(await scrape(server)) == {}


async def test_a_database_failure_still_serves_the_other_metrics(db: Any) -> None:
    clock = ManualClock(NOW)
    async with HealthServer(db, lambda: True, listen="127.0.0.1", port=0, clock=clock) as server:
        before = await scrape(server)
        assert value(before, "autoloan_outbox_pending") == 0
        await db.close()
        after = await scrape(server)
    assert value(after, "autoloan_outbox_pending") is None  # not shown stale
    assert value(after, "autoloan_active") is not None
    assert delta(before, after, "autoloan_database_errors_total", source="metrics") == 1


async def test_only_the_active_process_reports_the_database_figures(db: Any) -> None:
    # They describe the one shared database: summed over instances they must count once.
    active = True
    clock = ManualClock(NOW)
    async with HealthServer(db, lambda: active, listen="127.0.0.1", port=0, clock=clock) as server:
        assert value(await scrape(server), "autoloan_outbox_pending") == 0
        active = False
        before = current()
        samples = await scrape(server)
        assert value(samples, "autoloan_outbox_pending") is None
        assert not [name for name, _ in samples if name.startswith("autoloan_leads")]
        handled = value(
            samples, "autoloan_updates_handled_total", kind="message", outcome="handled"
        )
        assert handled is not None  # its own counters still go out
        assert delta(before, samples, "autoloan_database_errors_total", source="metrics") == 0


async def test_active_or_standby() -> None:
    metrics.set_active(True)
    assert value(current(), "autoloan_active") == 1
    metrics.set_active(False)
    assert value(current(), "autoloan_active") == 0


# --- counted as the bot works -----------------------------------------------------------


async def test_updates_handled_by_kind_and_outcome(
    database: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    import handlers.common

    real_render = handlers.common.render

    def render(context: Any, locale: str, name: str, **values: Any) -> str:
        if name == "help" and broken:
            raise sqlite3.OperationalError("disk I/O error")
        return real_render(context, locale, name, **values)

    broken = False
    monkeypatch.setattr(handlers.common, "render", render)
    before = current()
    async with SandboxWorld.create(database, raise_errors=False) as world:
        buyer = world.user(1301, "Buyer")
        buyer.command("/help")
        buyer.command("/language")
        await world.settle()
        buyer.press("English")
        await world.settle()
        broken = True
        buyer.command("/help")
        await world.settle()
        assert buyer.last_text() == shown(RENDERER.render("en", "error"))
    after = current()
    handled = "autoloan_updates_handled_total"
    assert delta(before, after, handled, kind="message", outcome="handled") == 2
    assert delta(before, after, handled, kind="message", outcome="error") == 1
    assert delta(before, after, handled, kind="callback_query", outcome="handled") == 1
    assert delta(before, after, handled, kind="callback_query", outcome="error") == 0
    seconds = "autoloan_update_handling_seconds_count"
    assert delta(before, after, seconds, kind="message") == 3
    assert delta(before, after, seconds, kind="callback_query") == 1
    assert delta(before, after, "autoloan_database_errors_total", source="update") == 1


async def test_updates_dropped_by_flood_control(db_path: Path) -> None:
    before = current()
    async with SandboxWorld.create(db_path, flood_max_updates=3) as world:
        flooder = world.user(1401, "Flooder")
        for _ in range(10):
            flooder.command("/help")
        await world.settle(concurrently=True)
        answers = [message.text for message in flooder.bot_messages()]
    after = current()
    notice = shown(RENDERER.render("en", "flood"))
    assert answers.count(notice) == 1
    helped = answers.count(shown(RENDERER.render("en", "help")))
    assert 1 <= helped <= 3
    # Each /help either got its answer or was dropped (the notice takes one's place).
    assert delta(before, after, "autoloan_updates_dropped_total", reason="flood") == 10 - helped
    assert (
        delta(before, after, "autoloan_updates_handled_total", kind="message", outcome="handled")
        == helped
    )


async def test_bot_api_calls_and_429s(db_path: Path) -> None:
    world = SandboxWorld.create(db_path)

    async def sleep(seconds: float) -> None:  # the limiter's waits move the world's clock
        world.clock.advance(timedelta(seconds=seconds))

    world.rate_limiter = ChatRateLimiter(clock=lambda: world.clock.now().timestamp(), sleep=sleep)
    async with world:
        buyer = world.user(1501, "Buyer")
        before = current()
        # Telegram answers the reply twice "429, retry after 7", then takes it.
        world.core.faults.fail_next("sendMessage", 2, status=429, retry_after=7)
        buyer.command("/help")
        await world.settle()
        after = current()
        assert [m.text for m in buyer.bot_messages()] == [shown(RENDERER.render("en", "help"))]
    assert world.core.faults.injected["429"] == 2
    limited = "autoloan_bot_api_rate_limited_total"
    assert delta(before, after, limited, method="sendMessage") == 2
    assert delta(before, after, "autoloan_bot_api_rate_limit_wait_seconds_total") == 14
    assert delta(before, after, "autoloan_bot_api_calls_total", method="sendMessage") == 1


async def test_a_429_past_the_waits_is_counted_and_fails_the_update(db_path: Path) -> None:
    world = SandboxWorld.create(db_path, raise_errors=False)

    async def sleep(seconds: float) -> None:
        world.clock.advance(timedelta(seconds=seconds))

    world.rate_limiter = ChatRateLimiter(
        clock=lambda: world.clock.now().timestamp(), sleep=sleep, retry_after_retries=1
    )
    async with world:
        buyer = world.user(1502, "Buyer")
        before = current()
        # One wait is allowed; the second 429 fails the reply (the apology goes later).
        world.core.faults.fail_next("sendMessage", 2, status=429, retry_after=5)
        buyer.command("/help")
        await world.settle()
        after = current()
    limited = "autoloan_bot_api_rate_limited_total"
    assert delta(before, after, limited, method="sendMessage") == 2
    assert delta(before, after, "autoloan_bot_api_rate_limit_wait_seconds_total") == 5
    handled = "autoloan_updates_handled_total"
    assert delta(before, after, handled, kind="message", outcome="error") == 1
    assert delta(before, after, "autoloan_database_errors_total", source="update") == 0


async def test_no_label_carries_a_user_or_chat_id_or_a_name(world: SandboxWorld) -> None:
    buyer = world.user(48213577, "Zhangsan Qwerty")
    buyer.command("/start")
    buyer.command("/help")
    buyer.command("/language")
    await world.settle()
    buyer.press("English")
    await world.settle()
    lead_id = await open_test_lead(world, 48213578, "Lisi Asdfgh")
    manager = world.manager(0)
    await leads.claim_lead(world.runtime, lead_id, manager.id)
    manager.group.command("/queue")
    await world.settle()
    async with HealthServer(
        world.runtime.db, lambda: True, listen="127.0.0.1", port=0, clock=world.clock
    ) as server:
        answer = await fetch(server, "/metrics")
    label_values = {label_value for (_, labels) in parse(answer.text) for _, label_value in labels}
    assert label_values  # there are labels to look at
    private = ["48213577", "48213578", str(manager.id), str(DEFAULT_MANAGER_CHAT_ID)]
    private += ["Zhangsan", "Qwerty", "Lisi", "Asdfgh", "Manager1", "+86138"]
    for label_value in label_values:
        for secret in private:
            assert secret not in label_value, (secret, label_value)
    # Label values are short words: kinds, methods, statuses, reasons.
    assert all(re.fullmatch(r"[A-Za-z_+.\-0-9]{1,40}", v) for v in label_values), label_values


def shown(html: str) -> str:
    """A message as the user sees it: the text without its HTML tags."""
    return re.sub(r"<[^>]+>", "", html)

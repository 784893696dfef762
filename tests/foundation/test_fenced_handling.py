"""A process that lost the active lock handles none of the updates it had fetched and not
yet started: Telegram was never told they were handled, so the next active process gets
them, and handling them here too would apply each twice (a conversation step, a claim)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

from telegram import Update

from bot.app import build_application
from bot.leadership import NotActive
from bot.sandbox.core import SandboxCore
from bot.sandbox.request import SandboxRequest
from bot.sandbox.world import sandbox_settings
from bot.updates import ChatOrderedProcessor
from handlers.common import on_error


class Lease:
    def __init__(self) -> None:
        self.active = True

    def __call__(self) -> bool:
        return self.active


def message_from(user_id: int, update_id: int) -> Update:
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1772503200,
                "chat": {"id": user_id, "type": "private", "first_name": "Li"},
                "from": {"id": user_id, "is_bot": False, "first_name": "Li"},
                "text": "hello",
            },
        },
        None,
    )


async def test_an_update_waiting_its_turn_when_the_lease_runs_out_never_runs() -> None:
    lease = Lease()
    processor = ChatOrderedProcessor(is_active=lease)
    ran: list[str] = []
    first_running, first_may_finish = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        first_running.set()
        await first_may_finish.wait()
        ran.append("first")

    async def second() -> None:
        ran.append("second")

    one = asyncio.create_task(processor.do_process_update(message_from(1001, 1), first()))
    two = asyncio.create_task(processor.do_process_update(message_from(1001, 2), second()))
    await first_running.wait()  # the second waits behind it: same chat
    lease.active = False
    first_may_finish.set()
    await asyncio.gather(one, two)
    assert ran == ["first"]  # started before the loss: it finishes (its sends are fenced)
    assert processor.waiting_lines == 0


async def test_updates_run_as_before_while_the_lease_holds() -> None:
    processor = ChatOrderedProcessor(is_active=Lease())
    ran: list[int] = []

    async def handle(n: int) -> None:
        ran.append(n)

    await asyncio.gather(
        *(processor.do_process_update(message_from(1001, n), handle(n)) for n in (1, 2, 3))
    )
    assert ran == [1, 2, 3]


async def test_the_bot_off_its_lease_leaves_a_start_untouched(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    core = SandboxCore()
    lease = Lease()
    application = build_application(
        sandbox_settings(database),
        request=SandboxRequest(core),
        fence=lease,
        rate_limiter=None,
        start_outbox=False,
    )
    await application.initialize()
    try:
        core.user(1001, "Li", "en").command("/start")
        [data] = core.take_updates()
        update = Update.de_json(data, application.bot)
        lease.active = False  # fetched while active, the lock lost before its turn
        await application.update_processor.process_update(
            update, application.process_update(update)
        )
    finally:
        await application.shutdown()
    with closing(sqlite3.connect(database)) as db:
        assert db.execute("SELECT count(*) FROM users").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM outbox").fetchone() == (0,)
    assert not [m for m in core.chat_messages(1001) if m.from_bot]


async def test_an_error_off_the_lease_is_one_line_and_no_apology(caplog) -> None:
    # The update's reply was fenced: the active process gets the update and answers it;
    # an apology from here would be a second answer (or a traceback for nothing).
    caplog.set_level(logging.INFO, logger="handlers.common")
    update = message_from(1001, 7)
    fenced = SimpleNamespace(
        error=NotActive(), bot_data={"runtime": SimpleNamespace(is_active=lambda: False)}
    )
    await on_error(update, fenced)  # type: ignore[arg-type]
    logged = [(r.levelname, r.exc_info is not None, r.getMessage()) for r in caplog.records]
    assert logged == [("INFO", False, "an update was left to the active instance: NotActive")]

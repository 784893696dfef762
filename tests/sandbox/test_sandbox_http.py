"""The HTTP door: PTB's real HTTPXRequest against the sandbox on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time

import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import Application
from telegram.request import HTTPXRequest

from bot.sandbox.core import SandboxCore
from bot.sandbox.echo_bot import build_echo_application
from bot.sandbox.harness import SandboxHarness
from bot.sandbox.request import SandboxRequest
from bot.sandbox.server import SandboxServer
from bot.sandbox.transcript import Transcript


@pytest.fixture
async def served():
    core = SandboxCore()
    async with SandboxServer(core) as server:
        yield core, server


def http_bot(server: SandboxServer, read_timeout: float = 5.0) -> Bot:
    return Bot(
        "123:TEST",
        base_url=server.base_url,
        base_file_url=server.file_base_url,
        request=HTTPXRequest(read_timeout=read_timeout),
    )


async def test_server_speaks_the_bot_api_to_ptb(served):
    core, server = served
    assert server.port > 0 and server.base_url == f"http://127.0.0.1:{server.port}/bot"
    core.user(id=1001, name="Li", started=True)
    async with http_bot(server) as bot:
        assert bot.username == core.bot_username
        sent = await bot.send_message(1001, "<i>hi</i>", parse_mode="HTML")
        assert sent.text == "hi" and sent.entities[0].type == "italic"
        photo = await bot.send_photo(1001, b"\x00\x01 bytes", caption="chart")
        file = await bot.get_file(photo.photo[-1].file_id)
        assert await file.download_as_bytearray() == bytearray(b"\x00\x01 bytes")
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(4242, "hello?")


async def test_long_poll_wakes_as_soon_as_an_update_arrives(served):
    core, server = served
    li = core.user(id=1001, name="Li")
    async with http_bot(server, read_timeout=15) as bot:
        started = time.monotonic()
        poll = bot.get_updates(timeout=10)

        task = asyncio.create_task(poll)
        await asyncio.sleep(0.1)  # let the poll reach the server
        li.send("hi")
        updates = await asyncio.wait_for(task, 5)
        assert time.monotonic() - started < 3
        assert [u.message.text for u in updates] == ["hi"]
        # the offset confirms; a short poll then comes back empty after its timeout
        assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()


async def test_allowed_updates_filters_what_polling_gets(served):
    core, server = served
    li = core.user(id=1001, name="Li")
    li.send("hello")
    async with http_bot(server) as bot:
        assert await bot.get_updates(allowed_updates=["callback_query"]) == ()
        assert core.pending_updates == []


async def test_timed_out_calls_are_dropped_by_the_http_door(served):
    core, server = served
    core.user(id=1001, name="Li", started=True)
    core.faults.fail_next("sendMessage", timeout=True)
    async with http_bot(server) as bot:
        with pytest.raises((TimedOut, NetworkError)):
            await bot.send_message(1001, "lost")
        assert (await bot.send_message(1001, "kept")).text == "kept"


SCRIPT = [
    ("command", "/start"),
    ("press", "No"),
    ("send", "menu"),
    ("press", "Share phone"),
    ("send", "price is 200,000 & <b>up</b>"),
]


async def _play(core: SandboxCore, settle) -> str:
    li = core.user(id=1001, name="Li", language="zh-hans")
    for action, argument in SCRIPT:
        getattr(li, action)(argument)
        await settle()
    return Transcript(core).render()


async def test_the_same_script_gives_the_same_transcript_through_both_doors():
    in_process = SandboxCore()
    app = build_echo_application(SandboxRequest(in_process))
    async with SandboxHarness(in_process, app) as harness:
        first = await _play(in_process, harness.settle)

    over_http = SandboxCore()
    async with SandboxServer(over_http) as server:
        request = HTTPXRequest()
        poll_request = HTTPXRequest(read_timeout=10)
        app2: Application = build_echo_application(request, poll_request, base_url=server.base_url)
        async with app2:
            await app2.updater.start_polling(poll_interval=0, timeout=5)
            await app2.start()
            second = await _play(over_http, over_http.wait_quiet)
            await app2.updater.stop()
            await app2.stop()

    assert first == second
    assert "Li presses [No]" in first and "[contact +8613800001001]" in first


def _bot_named(server: SandboxServer, caller: str, read_timeout: float = 5.0) -> Bot:
    return Bot(
        "123:TEST",
        base_url=f"{server.root_url}/{caller}/bot",
        base_file_url=f"{server.root_url}/{caller}/file/bot",
        request=HTTPXRequest(read_timeout=read_timeout),
    )


async def test_the_audit_tells_who_called_what_and_when(served):
    core, server = served
    li = core.user(id=1001, name="Li", started=True)
    li.send("hi")
    before = time.monotonic()
    async with _bot_named(server, "p1") as first, _bot_named(server, "p-2") as second:
        updates = await first.get_updates(timeout=0)
        await second.send_message(1001, "hello")
        await first.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    async with http_bot(server) as unnamed:
        await unnamed.send_message(1001, "again")
    calls = core.audit
    assert [(c.caller, c.method, c.updates) for c in calls] == [
        ("p1", "getMe", 0),
        ("p-2", "getMe", 0),
        ("p1", "getUpdates", 1),
        ("p-2", "sendMessage", 0),
        ("p1", "getUpdates", 0),
        ("", "getMe", 0),
        ("", "sendMessage", 0),
    ]
    times = [c.at for c in calls]
    assert times == sorted(times) and before <= times[0] <= times[-1] <= time.monotonic()
    # The control API hands it over as it stands, from any entry on (the client is
    # synchronous: off the loop that serves it).
    from bot.sandbox.control import SandboxClient

    client = SandboxClient(server.root_url)
    audit = await asyncio.to_thread(client.audit, 5)
    assert [(c[0], c[1]) for c in audit] == [("", "getMe"), ("", "sendMessage")]


async def test_a_long_poll_whose_client_hangs_up_hands_nothing_over(served):
    core, server = served
    li = core.user(id=1001, name="Li")
    async with _bot_named(server, "gone", read_timeout=15) as gone:
        poll = asyncio.create_task(gone.get_updates(timeout=10))
        await core.wait_until(lambda: "getUpdates" in core.calls)
        poll.cancel()  # closes its connection, as a killed process's does
        with pytest.raises(asyncio.CancelledError):
            await poll
    await asyncio.sleep(0.2)  # let the server notice the closed connection
    li.send("hi")
    async with _bot_named(server, "next") as taker:
        updates = await taker.get_updates(timeout=0)
    assert [u.message.text for u in updates] == ["hi"]
    assert [(c.caller, c.method, c.updates) for c in core.audit if c.method == "getUpdates"] == [
        ("next", "getUpdates", 1)
    ]

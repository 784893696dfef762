"""Bad input at every step and to every command: no unhandled exception (the harness
re-raises any handler error), and every reply within Telegram's limits (the sandbox
refuses an over-long message or callback data, which would surface here as an error)."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.sandbox.world import SandboxWorld
from handlers.managers.commands import COMMANDS as MANAGER_COMMANDS
from tests.prequalify.journey import GOOD, act, begin, keys_for

MALFORMED_NUMBERS = [
    "1e9",
    "-5",
    "NaN",
    "∞",
    "0x10",
    "1,2,3",
    "5万万",
    "¥-0",
    "0",
    "99999999999999999999",
]
ODD_TEXT = [
    "\u202eטקסט מימין לשמאל\u202c",
    "مرحبا 200000",
    "🚗💰" * 300,
    "a\x00b\x07c\x1b[31m",
    "<b>bold</b> & <script>",
    " x ",
    "Z̸̢̛a̴l̵g̶o̷" * 50,
]
TEXTS = st.one_of(
    st.sampled_from(MALFORMED_NUMBERS + ODD_TEXT),
    st.text(min_size=1, max_size=200),
    st.text(min_size=3900, max_size=4096),
).filter(str.strip)  # Telegram clients send no empty messages
BUYER_COMMANDS = ["start", "status", "calc", "help", "language", "cancel", "mydata", "schedule",
                  "stop", "paid", "resume", "loan", "sources", "forget", "nonsense"]  # fmt: skip
COMMANDS = BUYER_COMMANDS + list(MANAGER_COMMANDS)
STEPS = len(keys_for(GOOD))


class World:
    """One bot for all examples (a bot per example would take minutes); each example is a
    new user, so examples do not disturb one another."""

    def __init__(self, path: Path | str) -> None:
        self.loop = asyncio.new_event_loop()
        self.world = SandboxWorld.create(path)
        self.loop.run_until_complete(self.world.start())
        self.ids = itertools.count(50_000)

    def run(self, coroutine) -> None:
        self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        self.loop.run_until_complete(self.world.stop())
        self.loop.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared(request: pytest.FixtureRequest) -> Iterator[World]:
    """The bot on a SQLite file, then on a PostgreSQL schema (kept for the module)."""
    with tempfile.TemporaryDirectory() as folder:
        if request.param == "sqlite":
            world = World(Path(folder) / "fuzz.sqlite3")
        else:
            world = World(request.getfixturevalue("module_pg_url"))
        yield world
        world.close()


def _check_limits(world: SandboxWorld) -> None:
    for message in world.core.messages.values():
        if message.from_bot:
            assert len(message.text) <= 4096
            for row in message.inline_keyboard:
                for button in row:
                    assert len(button.get("callback_data", "").encode()) <= 64


async def _at_step(world: SandboxWorld, user_id: int, step: int, text: str, language: str):
    user = world.user(user_id, "Fuzz", language)
    await begin(world, user, "zh" if language.startswith("zh") else "en")
    locale = "zh" if language.startswith("zh") else "en"
    for key in keys_for(GOOD)[:step]:
        await act(world, user, locale, key, GOOD[key])
    user.send(text)
    await world.settle()
    assert user.bot_messages(), "no answer"
    _check_limits(world)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(step=st.integers(0, STEPS), text=TEXTS, language=st.sampled_from(["en", "zh-hans"]))
def test_any_text_at_any_step_gets_an_answer_within_limits(shared, step, text, language):
    shared.run(_at_step(shared.world, next(shared.ids), step, text, language))


async def _command(world: SandboxWorld, user_id: int, command: str, argument: str, step: int):
    user = world.user(user_id, "Fuzz")
    if step:
        await begin(world, user, "en")
        for key in keys_for(GOOD)[: step - 1]:
            await act(world, user, "en", key, GOOD[key])
    user.command(f"/{command} {argument}".strip()[:4096])
    await world.settle()
    _check_limits(world)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    command=st.sampled_from(COMMANDS),
    argument=st.one_of(st.just(""), TEXTS),
    step=st.integers(0, 4),
)
def test_every_command_with_any_argument_mid_conversation_or_not(shared, command, argument, step):
    shared.run(_command(shared.world, next(shared.ids), command, argument, step))


async def _manager(world: SandboxWorld, command: str, argument: str) -> None:
    manager = world.manager(0)
    manager.command(f"/{command} {argument}".strip()[:4096])
    await world.settle()
    world.manager(1).group.command(f"/{command} {argument}".strip()[:4096])
    await world.settle()
    _check_limits(world)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(command=st.sampled_from(list(MANAGER_COMMANDS)), argument=st.one_of(st.just(""), TEXTS))
def test_manager_commands_with_any_argument(shared, command, argument):
    shared.run(_manager(shared.world, command, argument))

"""Shared fixtures: the whole bot on the sandbox, with a temporary database and a clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.world import SandboxWorld


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bot.sqlite3"


@pytest.fixture
async def world(db_path: Path) -> AsyncIterator[SandboxWorld]:
    """The bot, started on the sandbox; `world.restart()` simulates a new process."""
    async with SandboxWorld.create(db_path) as started:
        yield started

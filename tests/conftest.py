"""Shared fixtures: the whole bot on the sandbox, with a temporary database and a clock."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import settings

from bot.sandbox.world import SandboxWorld

# CI replays the same examples every run, so a red build always means a change broke
# something; on a developer's machine hypothesis explores new examples each time.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bot.sqlite3"


@pytest.fixture
async def world(db_path: Path) -> AsyncIterator[SandboxWorld]:
    """The bot, started on the sandbox; `world.restart()` simulates a new process."""
    async with SandboxWorld.create(db_path) as started:
        yield started

"""The database the health and metrics tests read: open and migrated, on either backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage.connect import open_database
from storage.migrations import migrate


@pytest.fixture
async def db(database: Path | str) -> AsyncIterator[Any]:
    opened = open_database(database)
    await opened.open()
    await migrate(opened.conn)
    yield opened
    await opened.close()

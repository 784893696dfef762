"""Two Databases on one SQLite file in one process (a running bot: the registry of
processes, then the Application's): only the first open reads the file's header.

Reading it with a plain open() and close() while SQLite has the file open drops every
POSIX lock this process holds on it; the crash test's bot then logged "WAL checkpoint
failed: disk I/O error" after each restart. SQLite-only: the file is the subject."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import db as db_module
from storage.db import Database


async def test_the_header_is_read_only_while_no_connection_has_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = db_module.check_database_file
    monkeypatch.setattr(
        db_module, "check_database_file", lambda path: (checked.append(str(path)), real(path))
    )
    path = tmp_path / "bot.sqlite3"
    first = await Database(path).open()
    await first.conn.execute("CREATE TABLE t (x INTEGER)")
    second = await Database(tmp_path / "." / "bot.sqlite3").open()  # the same file
    assert checked == [str(path)]  # not again while `first` holds it
    await second.conn.execute("INSERT INTO t VALUES (1)")
    await first.checkpoint()
    await first.close()
    await second.close()
    third = await Database(path).open()  # nobody has it open now: checked again
    assert len(checked) == 2
    assert await third.conn.fetchval("SELECT COUNT(*) FROM t") == 1
    await third.close()

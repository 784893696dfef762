"""A consistent copy of the live database, for `python -m bot backup FILE`."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

from storage.db import BUSY_TIMEOUT_MS, DatabaseFileError, locked_message


def backup_database(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while the bot keeps writing. It is
    made beside the target and renamed over it once complete, so a failure (a locked or
    broken source) leaves no empty or partial copy behind."""
    try:
        with closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT_MS / 1000)) as src:
            # A read lock first, waited for up to the busy timeout (the backup itself
            # retries a locked source forever), and before any file is made.
            src.execute("BEGIN")
            src.execute("SELECT COUNT(*) FROM sqlite_master")
            _copy(src, target)
            src.execute("COMMIT")
    except sqlite3.OperationalError as error:
        if "locked" in str(error):
            raise DatabaseFileError(locked_message(source)) from None
        raise


def _copy(src: sqlite3.Connection, target: Path) -> None:
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(handle)
    partial = Path(name)
    try:
        with closing(sqlite3.connect(partial)) as dst:
            src.backup(dst)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise

"""Where a command writes a file: checked before any work, written whole or not at all.

A command that writes (`backup`, `leads export`, `sources add --qr`) names its target; the
target must not be the live database (whatever `--force` says), nor a directory, nor an
existing file that is not one of ours (a CSV we exported, a PNG, a SQLite copy) unless
`--force` is given. The bytes go to a temporary file beside the target and replace it in
one rename, so a failure leaves the old file, or nothing, never half a file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


class OutputError(ValueError):
    """A target that must not be written; the message is one line naming the option."""


def check_target(
    path: Path,
    option: str,
    *,
    database: Path | None,
    ours: Callable[[bytes], bool],
    kind: str,
    force: bool = False,
) -> None:
    """Raise OutputError unless `path` may receive a new `kind` file (`database`: the
    SQLite file it must not replace; None on PostgreSQL, which has none)."""
    if path.is_dir():
        raise OutputError(f"{option}: {path} is a directory; give a file name inside it")
    if not path.parent.is_dir():
        raise OutputError(f"{option}: directory {path.parent} does not exist")
    if database is not None and _same_file(path, database):
        raise OutputError(
            f"{option}: {path} is the bot's database (DATABASE_PATH); choose another file"
        )
    if path.exists() and not force:
        try:
            with path.open("rb") as handle:
                head = handle.read(512)
        except OSError as error:
            raise OutputError(f"{option}: cannot read {path}: {error.strerror}") from None
        if head and not ours(head):
            raise OutputError(
                f"{option}: {path} exists and is not a {kind} of ours;"
                " choose another name, or add --force to overwrite it"
            )


def _same_file(path: Path, database: Path) -> bool:
    """The database itself, or its WAL and shared-memory files."""
    target = path.expanduser().resolve()
    live = database.expanduser().resolve()
    return target in (live, Path(f"{live}-wal"), Path(f"{live}-shm")) or (
        path.exists() and database.exists() and os.path.samefile(path, database)
    )


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one rename (a temporary file beside it first)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

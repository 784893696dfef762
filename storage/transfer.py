"""`python -m bot db copy --to postgresql://...`: a SQLite database copied into an empty
PostgreSQL one, all or nothing.

In one transaction on the target: the migrations (to the same version as the source),
every table in foreign-key order with its ids, each identity sequence moved past the
largest id, then a row count and a checksum of every table read back from the target and
compared with the source's. Any difference (or any error) rolls everything back, so the
target is left as empty as it was. The source is read inside one read transaction, so the
copy and its check see the same data.

The checksum is an md5 over each row rendered as canonical text, computed the same way in
Python from both sides: an instant as its UTC ISO text, money as its plain decimal, JSON
re-serialised with sorted keys, so SQLite's text and PostgreSQL's typed values agree when
they mean the same thing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import Any

from storage.db import Database
from storage.migrations import current_version, latest_version, migrate
from storage.postgres import PgConnection, PostgresDatabase
from storage.values import day, from_json, instant

BATCH_ROWS = 1000

INTEGERS = ("smallint", "integer", "bigint")


class TransferError(RuntimeError):
    """The copy cannot be made, or did not match: one line; the target is unchanged."""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    types: tuple[str, ...]  # PostgreSQL's data_type of each column
    key: tuple[str, ...]  # the primary key's columns
    identity: str | None  # the identity column whose sequence follows the copied ids

    @property
    def ordered_by_key(self) -> bool:
        """Integer keys sort the same on both databases; text keys may not (collations),
        so those rows are sorted in Python before hashing."""
        return bool(self.key) and all(
            self.types[self.columns.index(column)] in INTEGERS for column in self.key
        )


@dataclass(frozen=True)
class CopyResult:
    tables: int
    rows: int


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- canonical text of a value, from either side ------------------------------------------


def _canonical_money(value: Any) -> str:
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return format(number.normalize(), "f")


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


_CANONICAL: dict[str, Callable[[Any], str]] = {
    "timestamp with time zone": lambda v: instant(v).astimezone(UTC).isoformat(),  # type: ignore[union-attr]
    "date": lambda v: day(v).isoformat(),  # type: ignore[union-attr]
    "numeric": _canonical_money,
    "jsonb": _canonical_json,  # of the parsed value: see _render
    "json": _canonical_json,
    "smallint": lambda v: str(int(v)),
    "integer": lambda v: str(int(v)),
    "bigint": lambda v: str(int(v)),
}


def _render(row: Iterable[Any], types: tuple[str, ...], *, json_as_text: bool) -> str:
    """`json_as_text`: JSON columns hold text to parse (SQLite's, and PostgreSQL's jsonb as
    storage.postgres reads it); False only for values already parsed."""
    values = []
    for value, kind in zip(row, types, strict=True):
        if value is not None and json_as_text and kind in ("jsonb", "json"):
            value = from_json(value)
        values.append(None if value is None else _CANONICAL.get(kind, str)(value))
    return json.dumps(values, ensure_ascii=False)


class _Digest:
    """Rows in key order hashed as they come; otherwise collected and sorted first."""

    def __init__(self, table: Table, *, json_as_text: bool) -> None:
        self.table = table
        self.json_as_text = json_as_text
        self.count = 0
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._lines: list[str] = []

    def add(self, row: Iterable[Any]) -> None:
        self.count += 1
        line = _render(row, self.table.types, json_as_text=self.json_as_text)
        if self.table.ordered_by_key:
            self._md5.update(line.encode() + b"\n")
        else:
            self._lines.append(line)

    def hexdigest(self) -> str:
        for line in sorted(self._lines):
            self._md5.update(line.encode() + b"\n")
        self._lines = []
        return self._md5.hexdigest()


# -- values on their way in ---------------------------------------------------------------


def _for_postgres(value: Any, kind: str) -> Any:
    """A SQLite value as a parameter for a PostgreSQL column of type `kind`. Text goes as
    it is: psycopg sends a str untyped, and PostgreSQL casts ISO text to timestamptz or
    date, decimal text to numeric and JSON text to jsonb (and refuses what is not)."""
    if value is None:
        return None
    if kind == "numeric" and isinstance(value, float):
        return Decimal(repr(value))  # the number as SQLite shows it, not its binary value
    if kind == "text" and not isinstance(value, str):
        return value.decode() if isinstance(value, bytes) else str(value)
    if kind in INTEGERS and isinstance(value, bool):
        return int(value)
    return value


# -- the catalogues -----------------------------------------------------------------------


async def _sqlite_tables(source: Database) -> list[str]:
    """The source's tables, each after the tables it references (self-references aside)."""
    raw = source.conn.raw
    names = [
        row[0]
        for row in await raw.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    needs = {
        name: {
            row[2]
            for row in await raw.execute_fetchall(f"PRAGMA foreign_key_list({_quoted(name)})")
            if row[2] != name
        }
        for name in names
    }
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and needs[n] <= set(ordered)]
        if not ready:
            stuck = sorted(set(names) - set(ordered))
            raise TransferError(f"tables reference each other in a circle: {', '.join(stuck)}")
        ordered.extend(ready)
    return ordered


async def _sqlite_key(source: Database, name: str) -> tuple[str, ...]:
    rows = await source.conn.raw.execute_fetchall(f"PRAGMA table_info({_quoted(name)})")
    return tuple(row[1] for row in sorted((r for r in rows if r[5]), key=lambda r: r[5]))


async def _postgres_columns(conn: PgConnection) -> dict[str, list[dict[str, Any]]]:
    rows = await conn.fetchall(
        "SELECT table_name, column_name, data_type, is_identity"
        " FROM information_schema.columns WHERE table_schema = current_schema()"
        " ORDER BY table_name, ordinal_position"
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["table_name"], []).append(row)
    return found


async def _existing_tables(conn: PgConnection, names: Iterable[str]) -> list[str]:
    found = []
    for name in [*names, "schema_version"]:
        if await conn.fetchval("SELECT to_regclass(?) IS NOT NULL", (_quoted(name),)):
            found.append(name)
    return found


# -- the copy -----------------------------------------------------------------------------


async def _source_rows(source: Database, table: Table) -> AsyncIterator[list[Any]]:
    columns = ", ".join(_quoted(c) for c in table.columns)
    order = f" ORDER BY {', '.join(_quoted(c) for c in table.key)}" if table.key else ""
    sql = f"SELECT {columns} FROM {_quoted(table.name)}{order}"
    async with source.conn.raw.execute(sql) as cursor:
        while batch := await cursor.fetchmany(BATCH_ROWS):
            yield [tuple(row) for row in batch]


async def _target_digest(conn: PgConnection, table: Table) -> _Digest:
    columns = ", ".join(_quoted(c) for c in table.columns)
    order = f" ORDER BY {', '.join(_quoted(c) for c in table.key)}" if table.key else ""
    digest = _Digest(table, json_as_text=True)  # jsonb is read as JSON text (storage.postgres)
    # A server-side cursor: the table is read back in batches, not all at once.
    async with conn.raw.cursor(name=f"verify_{table.name}") as cursor:
        await cursor.execute(f"SELECT {columns} FROM {_quoted(table.name)}{order}")
        while batch := await cursor.fetchmany(BATCH_ROWS):
            for row in batch:
                digest.add(row.values() if isinstance(row, dict) else row)
    return digest


async def copy_sqlite_to_postgres(source: Database, target: PostgresDatabase) -> CopyResult:
    """Copy `source` (open, at this code's schema) into the empty database `target`
    (open); raise TransferError with the first problem, leaving the target unchanged."""
    version, latest = await current_version(source.conn), latest_version()
    if version != latest:
        raise TransferError(
            f"DATABASE_PATH: schema version {version}, this code's is {latest}; "
            + ("run `python -m bot migrate` first" if version < latest else "upgrade the bot")
        )
    names = await _sqlite_tables(source)
    raw = source.conn.raw
    await raw.execute("BEGIN")  # one snapshot of the source for the copy and its check
    try:
        async with target.transaction() as conn:
            existing = await _existing_tables(conn, names)
            if existing:
                raise TransferError(
                    f"the target is not empty (it has table {existing[0]}); "
                    "db copy needs an empty database"
                )
            await migrate(conn)
            tables = await _plan(source, conn, names)
            rows = 0
            for table in tables:
                rows += await _copy_table(source, conn, table)
            for table in tables:
                await _check_table(source, conn, table)
    finally:
        await raw.execute("ROLLBACK")
    return CopyResult(tables=len(tables), rows=rows)


async def _plan(source: Database, conn: PgConnection, names: list[str]) -> list[Table]:
    catalogue = await _postgres_columns(conn)
    tables = []
    for name in names:
        target_columns = catalogue.get(name)
        if target_columns is None:
            raise TransferError(f"table {name}: not in the migrated PostgreSQL schema")
        source_columns = [
            row[1]
            for row in await source.conn.raw.execute_fetchall(f"PRAGMA table_info({_quoted(name)})")
        ]
        missing = [c for c in source_columns if c not in {r["column_name"] for r in target_columns}]
        if missing:
            raise TransferError(f"table {name}: column {missing[0]} is not in PostgreSQL's schema")
        by_name = {r["column_name"]: r for r in target_columns}
        identity = [c for c in source_columns if by_name[c]["is_identity"] == "YES"]
        tables.append(
            Table(
                name=name,
                columns=tuple(source_columns),
                types=tuple(by_name[c]["data_type"] for c in source_columns),
                key=await _sqlite_key(source, name),
                identity=identity[0] if identity else None,
            )
        )
    return tables


async def _copy_table(source: Database, conn: PgConnection, table: Table) -> int:
    name = _quoted(table.name)
    columns = ", ".join(_quoted(c) for c in table.columns)
    overriding = " OVERRIDING SYSTEM VALUE" if table.identity else ""
    marks = ", ".join("?" for _ in table.columns)
    insert = f"INSERT INTO {name} ({columns}){overriding} VALUES ({marks})"
    # Triggers fill columns of new rows (a lead's source from its user); a copied row
    # already has what the source had, so the table's own triggers stay off meanwhile.
    await conn.raw.execute(f"ALTER TABLE {name} DISABLE TRIGGER USER")
    count = 0
    try:
        async for batch in _source_rows(source, table):
            await conn.executemany(
                insert,
                [
                    [_for_postgres(v, k) for v, k in zip(row, table.types, strict=True)]
                    for row in batch
                ],
            )
            count += len(batch)
    except Exception as error:
        first = " ".join(str(error).split()) or type(error).__name__
        raise TransferError(f"table {table.name}: {first}") from None
    await conn.raw.execute(f"ALTER TABLE {name} ENABLE TRIGGER USER")
    if table.identity:
        column = _quoted(table.identity)
        await conn.fetchval(
            f"SELECT setval(pg_get_serial_sequence(?, ?),"
            f" COALESCE((SELECT MAX({column}) FROM {name}), 0) + 1, false)",
            (name, table.identity),
        )
    return count


async def _check_table(source: Database, conn: PgConnection, table: Table) -> None:
    expected = _Digest(table, json_as_text=True)
    async for batch in _source_rows(source, table):
        for row in batch:
            expected.add(row)
    copied = await _target_digest(conn, table)
    if copied.count != expected.count:
        raise TransferError(
            f"table {table.name}: {copied.count} rows copied, {expected.count} in the source"
        )
    if copied.hexdigest() != expected.hexdigest():
        raise TransferError(f"table {table.name}: the copied rows differ from the source's")

"""Stored values turned into the project's types, the same from either database.

SQLite keeps instants, dates, money and JSON as text; PostgreSQL as timestamptz, date,
numeric and jsonb; its driver hands over datetime, date and Decimal, and jsonb as its
JSON text (storage/postgres.py registers that loader), so JSON is parsed here from both. Storage's functions pass what they read through these, so the services get the
same Python values whichever database is behind them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


def instant(value: str | datetime | None) -> datetime | None:
    """An aware datetime (UTC when the stored text has no offset), or None."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def day(value: str | date | None) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(value)


def money(value: str | int | Decimal | None) -> Decimal | None:
    """A Decimal exactly as stored (never through a float)."""
    if value is None:
        return None
    if isinstance(value, float):
        raise TypeError("money must not pass through a float")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def from_json(value: str | bytes | dict | list | None) -> Any:
    """A JSON value, parsed from the stored JSON text (SQLite's text, PostgreSQL's jsonb,
    which storage/postgres.py reads as text: a JSON string "PRICE" stays distinguishable
    from JSON text). An already parsed dict or list is passed through."""
    if value is None or isinstance(value, dict | list):
        return value
    return json.loads(value)


def to_json(value: Any, **dumps: Any) -> str:
    """JSON text for a parameter: readable Chinese, the same text on both databases.

    Without NUL characters: PostgreSQL's jsonb refuses one (a "\\u0000" escape), and a NUL
    in what someone typed into a chat means nothing, so it is dropped on both databases."""
    text = json.dumps(value, ensure_ascii=False, **dumps)
    if "\\u0000" in text:  # rare: only then walk the value
        text = json.dumps(without_nul(value), ensure_ascii=False, **dumps)
    return text


def without_nul(value: Any) -> Any:
    """`value` with every NUL character taken out of its strings (keys too)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(item) for item in value]
    return value


_money = money  # `converted` takes a parameter of that name


def converted(
    row: Any,
    *,
    instants: Iterable[str] = (),
    days: Iterable[str] = (),
    money: Iterable[str] = (),
    json: Iterable[str] = (),
) -> dict[str, Any]:
    """A row as a dict by column name, the named columns converted (see above).

    The other columns stay as the driver gave them, so name every column a caller reads
    as an instant, a date, money or JSON."""
    # Pairing keys() with the values in order: sqlite3.Row finds a name by comparing it
    # with each of its columns in turn, ~7x slower over a whole row.
    values = dict(row) if isinstance(row, dict) else dict(zip(row.keys(), row, strict=True))
    for name in instants:
        values[name] = instant(values[name])
    for name in days:
        values[name] = day(values[name])
    for name in money:
        values[name] = _money(values[name])
    for name in json:
        values[name] = from_json(values[name])
    return values

"""`anonymous_counts`: how many applications /forget and the retention purge deleted, by
day and kind, with nothing that leads back to a person."""

from __future__ import annotations

from datetime import date

from storage.db import Connection, Database


async def add_anonymous_count(conn: Connection, day: date, kind: str, n: int = 1) -> None:
    await conn.execute(
        "INSERT INTO anonymous_counts (day, kind, count) VALUES (?, ?, ?)"
        " ON CONFLICT (day, kind) DO UPDATE SET count = anonymous_counts.count + excluded.count",
        (day.isoformat(), kind, n),
    )


async def anonymous_counts(db: Database) -> dict[str, int]:
    """Totals by kind, over all days."""
    rows = await db.fetchall("SELECT kind, sum(count) AS n FROM anonymous_counts GROUP BY kind")
    # int(): PostgreSQL's sum of a bigint column is numeric (a Decimal).
    return {row["kind"]: int(row["n"]) for row in rows}

"""Lead sources' statements: the named sources (deep-link codes), the touches recorded on
users and their open leads, source names for cards, and the counts behind stats by source."""

from __future__ import annotations

from datetime import datetime

from storage.db import Connection, Database, Row


async def source_by_name(conn: Connection, name: str) -> Row | None:
    """The source (code, name) of that exact name, None when there is none."""
    return await conn.fetchone("SELECT code, name FROM sources WHERE name = ?", (name,))


async def code_taken(conn: Connection, code: str) -> bool:
    return await conn.fetchone("SELECT 1 FROM sources WHERE code = ?", (code,)) is not None


async def insert_source(
    conn: Connection, *, code: str, name: str, created_by: int | None, created_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO sources (code, name, created_by, created_at) VALUES (?, ?, ?, ?)",
        (code, name, created_by, created_at.isoformat()),
    )


async def all_sources(db: Database) -> list[Row]:
    """Every source (code, name), oldest first."""
    return await db.fetchall("SELECT code, name FROM sources ORDER BY created_at, code")


async def source_name(db: Database, code: str) -> str | None:
    """The name of the source with that code, None when no source has it."""
    return await db.fetchval("SELECT name FROM sources WHERE code = ?", (code,))


async def source_names(conn: Connection, codes: tuple[str, ...]) -> dict[str, str]:
    """The names of these codes (at least one) by code, in one query; unknown codes absent."""
    marks = ",".join("?" * len(codes))
    rows = await conn.fetchall(f"SELECT code, name FROM sources WHERE code IN ({marks})", codes)
    return {row["code"]: row["name"] for row in rows}


async def record_user_touch(conn: Connection, *, user_id: int, code: str, at: datetime) -> None:
    """The user's latest touch is `code`; their first too when they had none."""
    await conn.execute(
        "UPDATE users SET first_source = COALESCE(first_source, ?), latest_source = ?,"
        " latest_source_at = ? WHERE user_id = ?",
        (code, code, at.isoformat(), user_id),
    )


async def record_open_leads_touch(conn: Connection, *, user_id: int, code: str) -> None:
    """The user's leads still in the pipeline (not disbursed or lost) learn the latest touch;
    their first touch is set only where it was empty."""
    await conn.execute(
        "UPDATE leads SET latest_source = ?, first_source = COALESCE(first_source, ?)"
        " WHERE user_id = ? AND status NOT IN ('disbursed', 'lost')",
        (code, code, user_id),
    )


async def lead_source_codes(db: Database, lead_id: int) -> Row | None:
    """The lead's first_source and latest_source codes, None when there is no such lead."""
    return await db.fetchone(
        "SELECT first_source, latest_source FROM leads WHERE id = ?", (lead_id,)
    )


async def leads_by_first_source(db: Database, *, since: datetime, no_source: str) -> list[Row]:
    """Leads opened since `since` per first-touch code (`no_source` for none): code, leads,
    prequalified, disbursed."""
    return await db.fetchall(
        "SELECT COALESCE(l.first_source, ?) AS code, COUNT(*) AS leads,"
        " COUNT(*) FILTER (WHERE l.decision = 'prequalified') AS prequalified,"
        " COUNT(*) FILTER (WHERE l.status = 'disbursed') AS disbursed"
        " FROM leads l WHERE l.created_at >= ? GROUP BY 1",
        (no_source, since.isoformat()),
    )


async def people_by_first_source(db: Database, *, no_source: str) -> list[Row]:
    """Users per first-touch code (`no_source` for none), all time: code, people."""
    return await db.fetchall(
        "SELECT COALESCE(first_source, ?) AS code, COUNT(*) AS people FROM users GROUP BY 1",
        (no_source,),
    )

"""The desk's lines on a lead card: where the lead came from and the collateral risk.

Kept apart from services/lead_cards.py so that module only gains two hooks: `load_lead`
asks `source_codes` for the lead's sources, and `card_text` passes `card_values` to the
template, whose `desk_card_lines.j2` include shows them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import aiosqlite

from lending.collateral import collateral_for_plan
from services.runtime import Runtime


async def source_names(
    conn: aiosqlite.Connection, first: str | None, latest: str | None
) -> dict[str, str | None]:
    """First and latest touch as codes with their names (None: came directly)."""
    names: dict[str, str] = {}
    codes = {c for c in (first, latest) if c}
    if codes:
        marks = ",".join("?" * len(codes))
        async with conn.execute(
            f"SELECT code, name FROM sources WHERE code IN ({marks})", tuple(codes)
        ) as cursor:
            names = {row[0]: row[1] for row in await cursor.fetchall()}
    return {
        "first_code": first,
        "first_name": names.get(first or "", first),
        "latest_code": latest or first,
        "latest_name": names.get(latest or first or "", latest or first),
    }


def card_values(runtime: Runtime, view: Any) -> dict[str, Any]:
    """What desk_card_lines.j2 needs for one lead view (never raises over bad stored data)."""
    sources = getattr(view, "sources", None) or {}
    start = _start_date(runtime, getattr(view, "created_at", None))
    collateral = collateral_for_plan(
        getattr(view, "answers", {}) or {},
        getattr(view, "loan_amount", None),
        getattr(view, "annual_rate", None),
        runtime.policy,
        start,
    )
    return {"desk_sources": sources, "desk_collateral": collateral}


def _start_date(runtime: Runtime, created_at: str | None) -> date:
    try:
        return datetime.fromisoformat(str(created_at)).astimezone(runtime.timezone).date()
    except ValueError:
        return runtime.local_now().date()

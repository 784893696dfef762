"""The desk's lines on a lead card: where the lead came from and the collateral risk.

Kept apart from services/leads/cards.py so that module only gains two hooks: loading leads
asks `source_table` for the names of their sources (once for a whole digest), and
`card_text` passes `card_values` to the template, whose `desk_card_lines.j2` include
shows them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from lending.collateral import collateral_for_plan
from services.runtime import Runtime
from storage.db import Connection
from storage.leads import sources as sources_db


async def source_table(conn: Connection, codes: Iterable[str | None]) -> dict[str, str]:
    """The names of these source codes, in one query (none when no lead has a source)."""
    wanted = tuple({c for c in codes if c})
    if not wanted:
        return {}
    return await sources_db.source_names(conn, wanted)


def named_sources(
    first: str | None, latest: str | None, names: dict[str, str]
) -> dict[str, str | None]:
    """First and latest touch as codes with their names from `names` (None: came directly;
    a code with no row names itself)."""
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


def _start_date(runtime: Runtime, created_at: datetime | None) -> date:
    if not isinstance(created_at, datetime):
        return runtime.local_now().date()
    return created_at.astimezone(runtime.timezone).date()

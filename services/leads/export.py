"""Leads as CSV, one row per lead with its status history, for `/export` and the CLI.

The phone is masked like on group cards: an export travels (e-mail, shared drives) and
the full number is one tap away in the bot for the lead's owner. Cells a spreadsheet
would run as a formula (=, +, -, @ at the start: a buyer's typed name can be anything)
are prefixed with an apostrophe. UTF-8 with a byte-order mark so Excel shows Chinese.
Times are the company's local time with its UTC offset (2026-03-03T10:00:00+08:00): what
the managers' clocks said, and still one exact moment for whoever reads the file.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.leads.cards import load_leads_page, mask_phone
from services.people import managers
from services.runtime import Runtime
from storage.db import Connection
from storage.leads import reports

COLUMNS = (
    "lead_id",
    "created_at",
    "status",
    "decision",
    "tier",
    "human_requested",
    "buyer_name",
    "phone",
    "owner_id",
    "owner_name",
    "claimed_at",
    "contacted_at",
    "lost_reason",
    "monthly_payment",
    "loan_amount",
    "history",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PAGE = 500  # leads loaded at a time: a few queries each, not a few per lead


def local_time(stamp: datetime | None, zone: ZoneInfo) -> str | None:
    """A stored time as local time with its offset, to the second."""
    if stamp is None:
        return None
    return stamp.astimezone(zone).isoformat(timespec="seconds")


def _safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


async def export_rows(runtime: Runtime, days: int | None = None) -> list[dict[str, str]]:
    """Every lead (or those opened in the last `days` days), oldest first."""
    with runtime.db.offloaded():  # reads the whole book: off the chats' thread
        return await _export_rows(runtime, days)


async def _export_rows(runtime: Runtime, days: int | None) -> list[dict[str, str]]:
    since = None
    if days is not None:
        since = runtime.clock.now() - timedelta(days=days)
    conn = runtime.db.conn
    history = await _histories(conn, since, runtime.timezone)
    out = []
    after = 0
    while page := await load_leads_page(conn, after_id=after, limit=PAGE, since=since):
        after = page[-1].id
        for view in page:
            values = {
                "lead_id": view.id,
                "created_at": local_time(view.created_at, runtime.timezone),
                "status": view.status,
                "decision": view.decision,
                "tier": view.tier,
                "human_requested": "yes" if view.human_requested else "no",
                "buyer_name": view.buyer_name,
                "phone": mask_phone(view.phone) if view.phone else "",
                "owner_id": view.owner_id,
                "owner_name": view.owner_name,
                "claimed_at": local_time(view.claimed_at, runtime.timezone),
                "contacted_at": local_time(view.contacted_at, runtime.timezone),
                "lost_reason": view.lost_reason,
                "monthly_payment": view.monthly_payment,
                "loan_amount": view.loan_amount,
                "history": " | ".join(history.get(view.id, [])),
            }
            out.append({key: _safe(values[key]) for key in COLUMNS})
    return out


async def _histories(
    conn: Connection, since: datetime | None, zone: ZoneInfo
) -> dict[int, list[str]]:
    """Each exported lead's events as "when step by whom (note)", oldest first."""
    events = await reports.lead_events(conn, since)
    names = await managers.display_names(conn, (event["actor_id"] for event in events))
    history: dict[int, list[str]] = {}
    for event in events:
        actor = event["actor_id"]
        who = names[actor] if actor is not None else "system"
        step = event["to_status"] or event["kind"]
        note = f" ({event['note']})" if event["note"] else ""
        history.setdefault(event["lead_id"], []).append(
            f"{local_time(event['at'], zone)} {step} by {who}{note}"
        )
    return history


async def export_csv(runtime: Runtime, days: int | None = None) -> tuple[bytes, int]:
    """The CSV file's bytes and how many leads it holds."""
    rows = await export_rows(runtime, days)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig"), len(rows)

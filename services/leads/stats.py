"""How the lead queue is doing: the funnel, speed to claim and contact, work per manager.

A lead counts at every step up to the furthest it reached (a lead lost after being
submitted counts as claimed, contacted and submitted); steps skipped on the way count
as reached. The chart is a funnel of horizontal bars drawn with Pillow, in the reader's
language and the charts' own font (services/charts.py).
"""

from __future__ import annotations

import io
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from PIL import Image, ImageDraw

from services import charts
from services.leads.pipeline import PIPELINE
from services.people import managers
from services.runtime import Runtime
from storage.leads import reports

FUNNEL = ("new", *PIPELINE)
MAX_DAYS = 365


@dataclass(frozen=True)
class ManagerLoad:
    name: str
    owned: int
    contacted: int
    disbursed: int
    lost: int


@dataclass
class LeadStats:
    days: int
    total: int
    funnel: list[tuple[str, int]]
    lost: int
    conversion: float | None  # disbursed / all, percent
    median_claim_minutes: float | None
    median_contact_minutes: float | None
    per_manager: list[ManagerLoad] = field(default_factory=list)


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 60


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


async def compute_stats(runtime: Runtime, days: int) -> LeadStats:
    """Leads opened in the last `days` days (1..365)."""
    with runtime.db.offloaded():  # reads every lead of the period: off the chats' thread
        return await _compute_stats(runtime, days)


async def _compute_stats(runtime: Runtime, days: int) -> LeadStats:
    days = max(1, min(MAX_DAYS, days))
    since = runtime.clock.now() - timedelta(days=days)
    leads = await reports.leads_opened_since(runtime.db, since)
    events = await reports.status_moves_since(runtime.db, since)
    reached_by_lead: dict[int, set[str]] = {}
    for event in events:
        reached_by_lead.setdefault(event["lead_id"], set()).add(event["to_status"])
    counts = dict.fromkeys(FUNNEL, 0)
    lost = 0
    claim_times, contact_times = [], []
    per_owner: dict[int, list[int]] = {}
    for lead in leads:
        reached = reached_by_lead.get(lead["id"], set()) | {lead["status"], "new"}
        furthest = max(FUNNEL.index(s) for s in reached if s in FUNNEL)
        for step in FUNNEL[: furthest + 1]:
            counts[step] += 1
        if lead["status"] == "lost":
            lost += 1
        if (m := _minutes(lead["created_at"], lead["claimed_at"])) is not None:
            claim_times.append(m)
        if (m := _minutes(lead["created_at"], lead["contacted_at"])) is not None:
            contact_times.append(m)
        if lead["owner_id"] is not None:
            load = per_owner.setdefault(lead["owner_id"], [0, 0, 0, 0])
            load[0] += 1
            load[1] += lead["contacted_at"] is not None
            load[2] += lead["status"] == "disbursed"
            load[3] += lead["status"] == "lost"
    total = len(leads)
    per_manager = [
        ManagerLoad(await managers.display_name(runtime.db.conn, owner), *load)
        for owner, load in sorted(per_owner.items(), key=lambda item: -item[1][0])
    ]
    return LeadStats(
        days=days,
        total=total,
        funnel=[(step, counts[step]) for step in FUNNEL],
        lost=lost,
        conversion=round(100 * counts["disbursed"] / total, 1) if total else None,
        median_claim_minutes=_median(claim_times),
        median_contact_minutes=_median(contact_times),
        per_manager=per_manager,
    )


def funnel_chart(
    stats: LeadStats, locale: str = "en", step_words: dict[str, str] | None = None
) -> bytes:
    """A PNG of the funnel: one bar per step, widest at 'new', each step in words."""
    width, row, left, top = 800, 44, 170, 64
    height = top + row * len(stats.funnel) + 30
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    font = charts.chart_font(18)
    title = charts.words(locale)["funnel_title"].format(days=stats.days, total=stats.total)
    draw.text((20, 18), title, fill=(40, 40, 40), font=font)
    largest = max((count for _, count in stats.funnel), default=0) or 1
    span = width - left - 90
    for index, (step, count) in enumerate(stats.funnel):
        y = top + index * row
        bar = int(span * count / largest)
        shade = 200 - index * 20
        draw.rectangle((left, y, left + max(bar, 2), y + row - 12), fill=(52, 120, shade))
        word = (step_words or {}).get(step, step)
        draw.text((16, y + 4), word, fill=(60, 60, 60), font=font)
        draw.text((left + bar + 8, y + 4), str(count), fill=(60, 60, 60), font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()

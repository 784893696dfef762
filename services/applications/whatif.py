"""Policy what-if: how the decisions of a period would change under a new policy.

Managers adjust the policy as the market moves ("what if tier B started at 55?"). This
re-assesses every application submitted in the period under the new policy and compares
with the decision each one actually got (the stored assessment): the counts that move
between pre-qualified, review and declined, by tier and by source, and the largest
changes in monthly payment. It only ever reads: the CLI opens the database read-only, and
the chat command runs the same SELECTs on the bot's connection.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from lending.answers import Answers
from lending.assessment import assess
from lending.policy import Policy, PolicyError, parse_policy
from storage import applications as store
from storage.db import Connection

DECISIONS = ("prequalified", "review", "declined")
OUTCOMES = ("A", "B", "C", "review", "declined")  # a pre-qualified decision shows its tier
MAX_POLICY_BYTES = 256 * 1024
TOP = 10


@dataclass(frozen=True)
class Change:
    """One application: what it got, and what it would get."""

    application_id: int
    source: str
    before: str  # an outcome: tier letter, 'review' or 'declined'
    after: str
    payment_before: Decimal
    payment_after: Decimal

    @property
    def payment_delta(self) -> Decimal:
        return self.payment_after - self.payment_before


@dataclass
class WhatIfReport:
    days: int
    policy_name: str
    assessed: int = 0
    skipped: int = 0  # stored answers the engine can no longer read (kept out, counted)
    decisions: Counter = field(default_factory=Counter)  # (before, after) decision pairs
    outcomes: Counter = field(default_factory=Counter)  # (before, after) outcome pairs
    by_source: dict[str, Counter] = field(default_factory=dict)  # source -> decision pairs
    largest: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(n for (b, a), n in self.decisions.items() if b != a)


def outcome(decision: str, tier: str | None) -> str:
    return tier if decision == "prequalified" and tier in ("A", "B", "C") else decision


def decision_of(outcome_: str) -> str:
    return "prequalified" if outcome_ in ("A", "B", "C") else outcome_


def policy_from_bytes(data: bytes, name: str) -> Policy:
    """A policy file's bytes (an upload) as a Policy, or one PolicyError line naming `name`."""
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError(f"{name}: too large for a policy file ({len(data)} bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(f"{name}: not UTF-8 text; save the policy as a .toml text file") from None
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{name}: not valid TOML: {exc}") from None
    return parse_policy(parsed, name)


async def what_if(
    conn: Connection, policy: Policy, *, days: int, now: datetime, tz: ZoneInfo
) -> WhatIfReport:
    """Re-assess the last `days` days of applications under `policy`. Reads only.

    Each application is assessed as of its own submission day (the subsidy window and the
    payout date then match what the buyer was shown).
    """
    since = now - timedelta(days=days)
    report = WhatIfReport(days=days, policy_name=policy.name)
    changes: list[Change] = []
    for row in await store.submitted_with_assessments(conn, since):
        before_payment = row["monthly_payment"]
        try:
            answers = Answers.model_validate(row["answers"])
        except (ValidationError, ValueError, TypeError, ArithmeticError):
            answers = None
        if answers is None or before_payment is None:
            report.skipped += 1
            continue
        day = _local_day(row["submitted_at"], tz, now)
        result = assess(answers, policy, day)
        before = outcome(row["decision"], row["tier"])
        after = outcome(str(result.decision), result.tier)
        report.assessed += 1
        pair = (decision_of(before), decision_of(after))
        report.decisions[pair] += 1
        report.outcomes[(before, after)] += 1
        report.by_source.setdefault(row["source"], Counter())[pair] += 1
        changes.append(
            Change(row["id"], row["source"], before, after, before_payment, result.monthly_payment)
        )
    changes.sort(key=lambda c: (-abs(c.payment_delta), c.application_id))
    report.largest = [c for c in changes if c.payment_delta][:TOP]
    return report


def _local_day(moment: datetime | None, tz: ZoneInfo, now: datetime) -> date:
    """The submission's day where the company is; today for a stamp that could not be read."""
    return (moment or now).astimezone(tz).date()


def read_only_uri(database: Path) -> str:
    """SQLite's URI for opening a file read-only: any write is refused by SQLite itself."""
    return f"{database.resolve().as_uri()}?mode=ro"


async def what_if_file(
    database: str, policy: Policy, *, days: int, now: datetime, tz: ZoneInfo
) -> WhatIfReport:
    """The CLI's way in, on a connection that cannot write: `database` is a SQLite file's
    `read_only_uri` or DATABASE_URL."""
    async with store.read_only(database) as conn:
        return await what_if(conn, policy, days=days, now=now, tz=tz)


def table_lines(report: WhatIfReport) -> list[str]:
    """The report as a plain-text table: the CLI prints it, /whatif sends it in <pre>."""
    lines = [
        f"What-if under policy {report.policy_name!r}: {report.assessed} applications of the"
        f" last {report.days} days; {report.changed} would change decision"
        + (f"; {report.skipped} unreadable, left out" if report.skipped else ""),
        "",
        "Decisions (rows: as decided, columns: under the new policy)",
        _matrix(report.decisions, DECISIONS),
        "",
        "By tier (A/B/C are pre-qualified tiers)",
        _matrix(report.outcomes, OUTCOMES),
        "",
        "By source (pre-qualified / review / declined: before -> after)",
    ]
    for source, pairs in sorted(report.by_source.items(), key=lambda kv: -sum(kv[1].values())):
        before = [sum(n for (b, _), n in pairs.items() if b == d) for d in DECISIONS]
        after = [sum(n for (_, a), n in pairs.items() if a == d) for d in DECISIONS]
        lines.append(
            f"  {source[:24]:<24} {'/'.join(map(str, before)):>10} -> {'/'.join(map(str, after))}"
        )
    if not report.by_source:
        lines.append("  (no applications in the period)")
    lines += ["", f"Largest changes in monthly payment (top {TOP})"]
    for c in report.largest:
        sign = "+" if c.payment_delta > 0 else ""
        lines.append(
            f"  #{c.application_id:<6} {c.payment_before:>10} -> {c.payment_after:>10}"
            f" ({sign}{c.payment_delta})  {c.before} -> {c.after}  {c.source[:16]}"
        )
    if not report.largest:
        lines.append("  (no payment would change)")
    return lines


def _matrix(pairs: Counter, labels: tuple[str, ...]) -> str:
    width = max(len(label) for label in labels) + 2
    head = " " * (width + 2) + "".join(f"{label:>{width}}" for label in labels)
    rows = [head]
    for before in labels:
        cells = "".join(f"{pairs.get((before, after), 0):>{width}}" for after in labels)
        rows.append(f"  {before:<{width}}{cells}")
    return "\n".join(rows)


def report_json(report: WhatIfReport) -> dict[str, Any]:
    """The report as plain values (for tests and scripts)."""
    return {
        "days": report.days,
        "assessed": report.assessed,
        "changed": report.changed,
        "decisions": {f"{b}->{a}": n for (b, a), n in sorted(report.decisions.items())},
        "outcomes": {f"{b}->{a}": n for (b, a), n in sorted(report.outcomes.items())},
        "by_source": {
            s: {f"{b}->{a}": n for (b, a), n in sorted(p.items())}
            for s, p in sorted(report.by_source.items())
        },
        "largest": [
            {
                "application_id": c.application_id,
                "before": str(c.payment_before),
                "after": str(c.payment_after),
            }
            for c in report.largest
        ],
    }

"""Repayment reminders' statements: the scan for unpaid installments whose reminder kind
was never sent, the reminders_sent table (the exactly-once gate), what a batch re-reads
inside its write transaction, and the borrower flags the reminders obey."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from typing import Any

from storage.db import Connection, Database
from storage.loans.book import installment_values
from storage.values import day, instant

# (kind, first due date, last due date), inclusive: the installments in each kind on a day.
KindRange = tuple[str, date, date]


def _typed(conn: Connection | Database, value: date) -> date | str:
    """A date or instant parameter: the ISO text SQLite stores and compares; the value
    itself for PostgreSQL's date and timestamptz columns."""
    return value.isoformat() if conn.dialect == "sqlite" else value


def _by_position(conn: Connection | Database, rows: list[Any]) -> Iterable[Any]:
    """Rows to unpack by position: SQLite's rows are sequences, PostgreSQL's are dicts."""
    return rows if conn.dialect == "sqlite" else (row.values() for row in rows)


def _unsent_in_ranges(
    conn: Connection | Database, ranges: list[KindRange]
) -> tuple[str, list[date | str]]:
    """A UNION ALL over `ranges`: unpaid installments in each range whose kind was never sent.

    Each part is a range on the covering partial index installments_unpaid_by_due (migration
    0008: due_date, loan_id, status of unpaid installments; no table read) and one probe of
    the reminders_sent primary key with a constant kind; reading each range with its kind
    as a constant is faster than one wide range and a CASE per row. The kind is cast, as
    PostgreSQL cannot type a bare parameter in a UNION's select list.
    """
    parts, params = [], []
    for kind, low, high in ranges:
        parts.append(
            "SELECT i.id, i.loan_id, i.due_date, i.status, CAST(? AS TEXT) AS kind"
            " FROM installments i"
            " WHERE i.status != 'paid' AND i.due_date BETWEEN ? AND ? AND NOT EXISTS"
            " (SELECT 1 FROM reminders_sent r WHERE r.installment_id = i.id AND r.kind = ?)"
        )
        params += [kind, _typed(conn, low), _typed(conn, high), kind]
    return " UNION ALL ".join(parts), params


async def unsent_reminders(
    conn: Connection, ranges: list[KindRange], today: date
) -> list[dict[str, Any]]:
    """Installments of active loans in a borrower kind of `ranges` that was never sent: `id`,
    `loan_id`, `due_date` (a date), `status`, `kind`, `user_id`, `paused` (the borrower sent
    /stop), `unreachable` (they blocked the bot) and `reminded_today` (they had a borrower
    reminder on `today` already).

    The benchmarked scan (bench/bench_reminders.py, which reads its plan through
    `conn.fetchall`): only installments that pass the reminders_sent probe are joined to
    their loan and borrower, and only those are asked about today (reminders_sent_user_day).
    """
    unsent, params = _unsent_in_ranges(conn, ranges)
    sql = (
        "SELECT c.id, c.loan_id, c.due_date, c.status, c.kind, l.user_id,"
        " COALESCE(u.reminders_paused, 0) AS paused, u.unreachable_at IS NOT NULL AS unreachable,"
        " EXISTS (SELECT 1 FROM reminders_sent t WHERE t.user_id = l.user_id"
        "         AND t.sent_on = ? AND t.kind NOT LIKE 'alert-%') AS reminded_today"
        f" FROM ({unsent}) c JOIN loans l ON l.id = c.loan_id AND l.status = 'active'"
        " LEFT JOIN users u ON u.user_id = l.user_id"
    )
    rows = await conn.fetchall(sql, [_typed(conn, today), *params])
    due_date = cache(day)  # a scan's rows share a few due dates: each is converted once
    # By position (the SELECT above fixes the order) into dict literals: cheaper than
    # dict(zip(keys, row)) for the thousands of rows of a morning's scan.
    return [
        {
            "id": id_,
            "loan_id": loan_id,
            "due_date": due_date(due),
            "status": status,
            "kind": kind,
            "user_id": user_id,
            "paused": paused,
            "unreachable": unreachable,
            "reminded_today": reminded_today,
        }
        for id_, loan_id, due, status, kind, user_id, paused, unreachable, reminded_today in (
            _by_position(conn, rows)
        )
    ]


async def unsent_alerts(db: Database, ranges: list[KindRange]) -> list[dict[str, Any]]:
    """Installments of active loans in a staff alert kind of `ranges` that was never sent:
    `id`, `loan_id`, `due_date` (a date), `kind`, `user_id`; oldest first, and for one
    installment the manager's alert before the admins'."""
    unsent, params = _unsent_in_ranges(db, ranges)
    rows = await db.fetchall(
        f"SELECT c.id, c.loan_id, c.due_date, c.kind, l.user_id FROM ({unsent}) c"
        " JOIN loans l ON l.id = c.loan_id AND l.status = 'active'"
        " ORDER BY c.due_date, c.id, c.kind DESC",
        params,
    )
    due_date = cache(day)
    return [
        {"id": id_, "loan_id": loan_id, "due_date": due_date(due), "kind": kind, "user_id": user_id}
        for id_, loan_id, due, kind, user_id in _by_position(db, rows)
    ]


async def claim_reminder(
    conn: Connection, installment_id: int, kind: str, user_id: int, today: date, at: datetime
) -> bool:
    """Record (installment, kind) as sent on `today`, stamped `at`; False when it already
    was (the exactly-once gate)."""
    inserted = await conn.execute(
        "INSERT INTO reminders_sent (installment_id, kind, user_id, sent_on, created_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (installment_id, kind, user_id, _typed(conn, today), _typed(conn, at)),
    )
    return inserted == 1


async def record_sent(
    conn: Connection, claims: Iterable[tuple[int, str, int]], today: date, at: datetime
) -> None:
    """(installment, kind, borrower) rows as sent on `today`, in one executemany.

    A plain INSERT, not ON CONFLICT DO NOTHING: a conflict fails the caller's transaction.
    """
    sent_on, created_at = _typed(conn, today), _typed(conn, at)
    await conn.executemany(
        "INSERT INTO reminders_sent (installment_id, kind, user_id, sent_on, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            (installment_id, kind, user_id, sent_on, created_at)
            for installment_id, kind, user_id in claims
        ],
    )


# --- what a batch re-reads inside its write transaction -----------------------------------


async def lock_borrowers(conn: Connection, user_ids: list[int]) -> None:
    """Hold the borrowers until the transaction ends, so a batch's re-reads (what was sent,
    who had a reminder today) stay true until it writes. On SQLite the write transaction
    already holds the whole database. On PostgreSQL a second process's batch waits here
    for the first to commit, then reads its rows: in ascending order, so two batches never
    wait for each other; FOR NO KEY UPDATE leaves inserts that reference a user unblocked.
    """
    if conn.dialect == "sqlite" or not user_ids:
        return
    marks = ",".join("?" * len(user_ids))
    await conn.fetchall(
        f"SELECT user_id FROM users WHERE user_id IN ({marks}) ORDER BY user_id FOR NO KEY UPDATE",
        sorted(user_ids),
    )


async def installments_by_ids(conn: Connection, installment_ids: list[int]) -> list[dict[str, Any]]:
    """Every column of these installments (`installment_ids` not empty), typed as
    `book.installment_values` says."""
    marks = ",".join("?" * len(installment_ids))
    rows = await conn.fetchall(f"SELECT * FROM installments WHERE id IN ({marks})", installment_ids)
    return [installment_values(row) for row in rows]


async def sent_kinds(conn: Connection, installment_ids: list[int]) -> set[tuple[int, str]]:
    """(installment, kind) of every reminder or alert already sent for these installments."""
    marks = ",".join("?" * len(installment_ids))
    rows = await conn.fetchall(
        f"SELECT installment_id, kind FROM reminders_sent WHERE installment_id IN ({marks})",
        installment_ids,
    )
    return {(row["installment_id"], row["kind"]) for row in rows}


async def reminded_on(conn: Connection, today: date, user_ids: list[int]) -> set[int]:
    """Those of `user_ids` who had a borrower reminder (not a staff alert) on `today`."""
    rows = await conn.fetchall(
        "SELECT DISTINCT user_id FROM reminders_sent WHERE sent_on = ?"
        f" AND user_id IN ({','.join('?' * len(user_ids))}) AND kind NOT LIKE 'alert-%'",
        [_typed(conn, today), *user_ids],
    )
    return {row["user_id"] for row in rows}


# --- borrowers ----------------------------------------------------------------------------


async def unreachable_since(db: Database, user_id: int) -> datetime | None:
    """When the user was found to have blocked the bot (None: reachable, or no such user)."""
    return instant(
        await db.fetchval("SELECT unreachable_at FROM users WHERE user_id = ?", (user_id,))
    )


async def active_loan_ids(db: Database, user_id: int) -> list[int]:
    rows = await db.fetchall(
        "SELECT id FROM loans WHERE user_id = ? AND status = 'active'", (user_id,)
    )
    return [row["id"] for row in rows]


async def set_reminders_paused(conn: Connection, user_id: int, paused: bool, at: datetime) -> None:
    await conn.execute(
        "UPDATE users SET reminders_paused = ?, updated_at = ? WHERE user_id = ?",
        (1 if paused else 0, _typed(conn, at), user_id),
    )

"""The loan book's statements: booking a loan and its installments, reading loans back
(whole, as headers, by borrower), the lead a loan is booked for, and the book in arrears."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lending.schedule import Installment
from storage.db import Connection, Database, Row
from storage.values import converted, day, from_json, money

# A loan with its manager's name and its borrower's language; callers add the WHERE.
_LOAN_SQL = (
    "SELECT l.*, COALESCE(m.display_name, mu.first_name) AS manager_name,"
    " COALESCE(u.locale, 'en') AS locale"
    " FROM loans l LEFT JOIN managers m ON m.user_id = l.manager_id"
    " LEFT JOIN users mu ON mu.user_id = l.manager_id"
    " LEFT JOIN users u ON u.user_id = l.user_id"
)
_INSTALLMENTS_SQL = "SELECT * FROM installments WHERE loan_id = ? ORDER BY n"


def loan_values(row: Row) -> dict[str, Any]:
    """A loans row (with whatever else was selected) as a dict: amounts and rates as
    Decimal, the first due date a date, the instants aware datetimes."""
    return converted(
        row,
        money=("principal", "annual_rate", "balloon_amount", "upfront_fee", "apr"),
        days=("first_due_date",),
        instants=("disbursed_at", "created_at"),
    )


def installment_values(row: Row) -> dict[str, Any]:
    """An installments row as a dict: amounts as Decimal, `due_date` a date, `reported_at`
    and `paid_at` aware datetimes (or None)."""
    return converted(
        row,
        money=("payment", "principal", "interest", "balance", "paid_amount"),
        days=("due_date",),
        instants=("reported_at", "paid_at"),
    )


# --- booking ----------------------------------------------------------------------------


async def insert_loan(
    conn: Connection,
    *,
    lead_id: int | None,
    user_id: int,
    manager_id: int | None,
    principal: Decimal,
    annual_rate: Decimal,
    rate_type: str,
    term_months: int,
    method: str,
    balloon_amount: Decimal,
    upfront_fee: Decimal,
    apr: Decimal,
    first_due_date: date,
    disbursed_at: datetime,
) -> int:
    """The new loan's id; `disbursed_at` is also its creation time."""
    loan_id = await conn.fetchval(
        "INSERT INTO loans (lead_id, user_id, manager_id, principal, annual_rate, rate_type,"
        " term_months, method, balloon_amount, upfront_fee, apr, first_due_date, disbursed_at,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            lead_id,
            user_id,
            manager_id,
            str(principal),
            str(annual_rate),
            rate_type,
            term_months,
            method,
            str(balloon_amount),
            str(upfront_fee),
            str(apr),
            first_due_date.isoformat(),
            disbursed_at.isoformat(),
            disbursed_at.isoformat(),
        ),
    )
    return int(loan_id)


async def insert_installments(
    conn: Connection, loan_id: int, installments: Iterable[Installment]
) -> None:
    """A schedule's installments, in one executemany."""
    await conn.executemany(
        "INSERT INTO installments (loan_id, n, due_date, payment, principal, interest, balance)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                loan_id,
                i.n,
                i.due_date.isoformat(),
                str(i.payment),
                str(i.principal),
                str(i.interest),
                str(i.balance),
            )
            for i in installments
        ],
    )


async def disbursal_prefill(db: Database, lead_id: int) -> dict[str, Any] | None:
    """The lead (id, user_id, owner_id, status) with its application's `answers` (a dict;
    {} when unreadable) and `full_name` and its latest assessment's `loan_amount` and
    `annual_rate` (Decimal; None when there is no application or assessment)."""
    row = await db.fetchone(
        "SELECT l.id, l.user_id, l.owner_id, l.status, a.answers, a.full_name,"
        " s.loan_amount, s.annual_rate"
        " FROM leads l LEFT JOIN applications a ON a.id = l.application_id"
        " LEFT JOIN assessments s ON s.id = (SELECT MAX(id) FROM assessments"
        "                                    WHERE application_id = l.application_id)"
        " WHERE l.id = ?",
        (lead_id,),
    )
    if row is None:
        return None
    values = converted(row, money=("loan_amount", "annual_rate"))
    try:
        answers = from_json(values["answers"]) if values["answers"] else None
    except ValueError:
        # Only prefills the dialog: broken answers leave it to the manager's own figures.
        answers = None
    values["answers"] = answers if isinstance(answers, dict) else {}
    return values


async def lead_to_disburse(conn: Connection, lead_id: int) -> Row | None:
    """The lead's id, user_id, owner_id and status."""
    return await conn.fetchone(
        "SELECT id, user_id, owner_id, status FROM leads WHERE id = ?", (lead_id,)
    )


async def loan_of_lead(conn: Connection, lead_id: int) -> int | None:
    """The id of the loan booked for the lead, if any."""
    row = await conn.fetchone("SELECT id FROM loans WHERE lead_id = ?", (lead_id,))
    return None if row is None else row["id"]


# --- reading loans back ------------------------------------------------------------------
# A loan has every loans column plus `manager_name` and `locale` (typed by `loan_values`);
# an installment has every installments column (typed by `installment_values`).


async def loan(db: Database, loan_id: int) -> dict[str, Any] | None:
    row = await db.fetchone(_LOAN_SQL + " WHERE l.id = ?", (loan_id,))
    return None if row is None else loan_values(row)


async def loans_of_user(db: Database, user_id: int, *, active_only: bool) -> list[dict[str, Any]]:
    """The borrower's loans (only the active ones with `active_only`), oldest first."""
    sql = _LOAN_SQL + " WHERE l.user_id = ?" + (" AND l.status = 'active'" if active_only else "")
    return [loan_values(row) for row in await db.fetchall(sql + " ORDER BY l.id", (user_id,))]


async def installments(db: Database, loan_id: int) -> list[dict[str, Any]]:
    """The loan's installments in order."""
    return [installment_values(row) for row in await db.fetchall(_INSTALLMENTS_SQL, (loan_id,))]


async def loan_in_conn(conn: Connection, loan_id: int) -> dict[str, Any] | None:
    """`loan`, through an open transaction's connection."""
    row = await conn.fetchone(_LOAN_SQL + " WHERE l.id = ?", (loan_id,))
    return None if row is None else loan_values(row)


async def installments_in_conn(conn: Connection, loan_id: int) -> list[dict[str, Any]]:
    """`installments`, through an open transaction's connection."""
    return [installment_values(row) for row in await conn.fetchall(_INSTALLMENTS_SQL, (loan_id,))]


async def loans_by_ids(conn: Connection, loan_ids: list[int]) -> list[dict[str, Any]]:
    """Several loans in one query (`loan_ids` not empty), in no particular order."""
    marks = ",".join("?" * len(loan_ids))
    rows = await conn.fetchall(_LOAN_SQL + f" WHERE l.id IN ({marks})", loan_ids)
    return [loan_values(row) for row in rows]


# --- the book as a whole -----------------------------------------------------------------


# SQLite's SUM over the text amounts would go through floats: there the amounts come as
# text ("payment/paid_amount", joined by commas) and are added here as Decimals. PostgreSQL
# sums its NUMERIC columns exactly.
_ARREARS_OWED = {
    "sqlite": "GROUP_CONCAT(i.payment || '/' || i.paid_amount) AS parts",
    "postgresql": "SUM(i.payment - i.paid_amount) AS owed",
}


async def arrears_by_loan(db: Database, today: date) -> list[dict[str, Any]]:
    """One dict per active loan with unpaid installments due before `today`: `loan_id`,
    `oldest` (the earliest such due date) and `owed` (the unpaid parts of those
    installments, an exact Decimal). Reads only the partial index of unpaid installments
    by due date."""
    dialect = db.dialect
    rows = await db.fetchall(
        f"SELECT i.loan_id, MIN(i.due_date) AS oldest, {_ARREARS_OWED[dialect]}"
        " FROM installments i JOIN loans l ON l.id = i.loan_id AND l.status = 'active'"
        " WHERE i.status != 'paid' AND i.due_date < ? GROUP BY i.loan_id",
        (today.isoformat() if dialect == "sqlite" else today,),
    )
    return [
        {
            "loan_id": row["loan_id"],
            "oldest": day(row["oldest"]),
            "owed": _owed(row["parts"]) if dialect == "sqlite" else money(row["owed"]),
        }
        for row in rows
    ]


def _owed(parts: str) -> Decimal:
    owed = Decimal(0)
    for part in parts.split(","):
        payment, _, paid = part.partition("/")
        owed += money(payment) - money(paid)
    return owed


async def close_if_repaid(conn: Connection, loan_id: int) -> bool:
    """Mark the loan closed once every installment is paid; True when it just closed."""
    changed = await conn.execute(
        "UPDATE loans SET status = 'closed' WHERE id = ? AND status = 'active'"
        " AND NOT EXISTS (SELECT 1 FROM installments WHERE loan_id = ? AND status != 'paid')",
        (loan_id, loan_id),
    )
    return changed == 1


async def borrower_name(conn: Connection, user_id: int) -> str | None:
    """The name on the borrower's latest application, else their Telegram first name; None
    when neither is known or there is no such user."""
    return await conn.fetchval(
        "SELECT COALESCE(a.full_name, u.first_name) AS name FROM users u"
        " LEFT JOIN applications a ON a.id = (SELECT MAX(id) FROM applications"
        "                                      WHERE user_id = u.user_id)"
        " WHERE u.user_id = ?",
        (user_id,),
    )

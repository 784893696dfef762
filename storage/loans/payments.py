"""Payments against installments: an installment read for a payment, what a payment
changes on it, the payments table, and an installment's "reported as paid" state."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from storage.db import Connection
from storage.loans.book import installment_values


async def installment(conn: Connection, installment_id: int) -> dict[str, Any] | None:
    """Every column of the installment (typed as `book.installment_values` says)."""
    row = await conn.fetchone("SELECT * FROM installments WHERE id = ?", (installment_id,))
    return None if row is None else installment_values(row)


async def installment_of_loan(conn: Connection, loan_id: int, n: int) -> dict[str, Any] | None:
    """Every column of the loan's installment number `n` (typed as `installment`)."""
    row = await conn.fetchone(
        "SELECT * FROM installments WHERE loan_id = ? AND n = ?", (loan_id, n)
    )
    return None if row is None else installment_values(row)


async def set_paid_amount(
    conn: Connection,
    installment_id: int,
    *,
    paid_amount: Decimal,
    status: str,
    paid_at: datetime | None,
) -> None:
    """What a payment leaves on the installment; a pending "I've paid" is settled by it."""
    await conn.execute(
        "UPDATE installments SET paid_amount = ?, status = ?, paid_at = ?, reported_at = NULL"
        " WHERE id = ?",
        (
            str(paid_amount),
            status,
            paid_at.isoformat() if paid_at is not None else None,
            installment_id,
        ),
    )


async def insert_payment(
    conn: Connection,
    *,
    loan_id: int,
    installment_id: int,
    amount: Decimal,
    recorded_by: int | None,
    source: str,
    paid_on: date,
    at: datetime,
    reference: str | None,
) -> None:
    """One payment; `reference` (the bank's, of an imported payment) is unique, so a second
    payment with it fails."""
    await conn.execute(
        "INSERT INTO payments (loan_id, installment_id, amount, recorded_by, source, paid_on,"
        " created_at, payment_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            loan_id,
            installment_id,
            str(amount),
            recorded_by,
            source,
            paid_on.isoformat(),
            at.isoformat(),
            reference,
        ),
    )


async def mark_reported(conn: Connection, installment_id: int, at: datetime) -> None:
    """The borrower said "I've paid": the installment waits for the manager."""
    await conn.execute(
        "UPDATE installments SET status = 'reported', reported_at = ? WHERE id = ?",
        (at.isoformat(), installment_id),
    )


async def mark_due_again(conn: Connection, installment_id: int) -> None:
    """The manager rejected the borrower's "I've paid"."""
    await conn.execute(
        "UPDATE installments SET status = 'due', reported_at = NULL WHERE id = ?",
        (installment_id,),
    )


async def latest_payment_id(conn: Connection, loan_id: int) -> int | None:
    """The id of the loan's most recent payment (None when it has none)."""
    return await conn.fetchval("SELECT MAX(id) AS id FROM payments WHERE loan_id = ?", (loan_id,))

"""What the CSV imports of loans and payments look up while they check a file (references
already booked, the lead or loan a row names, borrowers the bot knows), the few writes only
an import makes, and the conflict a concurrent import causes, in storage's own terms."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from storage.db import Connection, Database, Row
from storage.values import converted


class ConstraintConflict(Exception):
    """A write broke a constraint of the database (a unique reference, a key): for an
    import checked beforehand, another writer got there between the check and the write."""


@contextmanager
def constraint_conflicts() -> Iterator[None]:
    """Raise ConstraintConflict for either driver's integrity error inside the block (wrap
    the whole transaction, so it is rolled back first)."""
    # psycopg's only when PostgreSQL loaded it: a SQLite deployment never imports the driver.
    psycopg = sys.modules.get("psycopg")
    errors = (sqlite3.IntegrityError,) + ((psycopg.IntegrityError,) if psycopg else ())
    try:
        yield
    except errors as error:
        raise ConstraintConflict(str(error)) from error


# --- loans -------------------------------------------------------------------------------


async def loan_ref_booked(db: Database, loan_ref: str) -> bool:
    return await db.fetchone("SELECT 1 FROM loans WHERE loan_ref = ?", (loan_ref,)) is not None


async def lead_for_import(db: Database, lead_id: int) -> Row | None:
    """The lead's user_id, owner_id and status."""
    return await db.fetchone("SELECT user_id, owner_id, status FROM leads WHERE id = ?", (lead_id,))


async def lead_has_loan(db: Database, lead_id: int) -> bool:
    return await db.fetchone("SELECT 1 FROM loans WHERE lead_id = ?", (lead_id,)) is not None


async def user_known(db: Database, user_id: int) -> bool:
    """Whether the user has a row: they talked to the bot (or an import added them)."""
    return await db.fetchone("SELECT 1 FROM users WHERE user_id = ?", (user_id,)) is not None


async def add_user(conn: Connection, user_id: int, *, locale: str, at: datetime) -> None:
    """A users row for a borrower booked elsewhere, for their loan to point at (nothing
    if one exists)."""
    await conn.execute(
        "INSERT INTO users (user_id, locale, created_at, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO NOTHING",
        (user_id, locale, at.isoformat(), at.isoformat()),
    )


async def set_loan_ref(conn: Connection, loan_id: int, loan_ref: str) -> None:
    """The lender's own reference of the loan; unique, so a second loan with it fails."""
    await conn.execute("UPDATE loans SET loan_ref = ? WHERE id = ?", (loan_ref, loan_id))


# --- payments ----------------------------------------------------------------------------


async def payment_ref_recorded(db: Database, payment_ref: str) -> bool:
    return (
        await db.fetchone("SELECT 1 FROM payments WHERE payment_ref = ?", (payment_ref,))
        is not None
    )


async def installment_to_pay(db: Database, loan_id: int, n: int) -> dict[str, Any] | None:
    """The loan's installment number `n`: its id, payment and paid_amount (Decimal) and
    status."""
    row = await db.fetchone(
        "SELECT id, payment, paid_amount, status FROM installments WHERE loan_id = ? AND n = ?",
        (loan_id, n),
    )
    return None if row is None else converted(row, money=("payment", "paid_amount"))


async def loan_exists(db: Database, loan_id: int) -> bool:
    return await db.fetchone("SELECT 1 FROM loans WHERE id = ?", (loan_id,)) is not None

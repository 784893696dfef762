"""Building the borrower's world for loan tests: borrowers, booked loans, what they saw."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.sandbox.world import SandboxWorld
from lending.schedule import RepaymentMethod
from services.loans import book as loans

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment given in Shanghai time, as the aware UTC datetime the clock takes."""
    return datetime.combine(day, time(hour, minute), SHANGHAI).astimezone(UTC)


def terms(
    principal: str = "120000",
    rate: str = "4.8",
    months: int = 12,
    first_due: date = date(2026, 4, 3),
    method: RepaymentMethod = RepaymentMethod.ANNUITY,
    fee: str = "0",
) -> loans.LoanTerms:
    return loans.LoanTerms(
        principal=Decimal(principal),
        annual_rate=Decimal(rate),
        term_months=months,
        method=method,
        first_due_date=first_due,
        upfront_fee=Decimal(fee),
    )


async def borrower(world: SandboxWorld, user_id: int, name: str, language: str = "en"):
    """A sandbox user who has started the bot (so they have a chat and a users row)."""
    scripted = world.user(user_id, name, language)
    scripted.command("/start")
    await world.settle()
    return scripted


async def manager_named(world: SandboxWorld, user_id: int, name: str) -> None:
    now = world.clock.now().isoformat()
    async with world.runtime.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO managers (user_id, display_name, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name",
            (user_id, name, now),
        )


async def book(
    world: SandboxWorld,
    user_id: int,
    manager_id: int | None = 7001,
    loan_terms: loans.LoanTerms | None = None,
) -> int:
    """A loan booked as the CSV import would (no lead), disbursed now."""
    runtime = world.runtime
    async with runtime.db.transaction() as conn:
        booked = await loans.book_loan(
            conn,
            user_id=user_id,
            lead_id=None,
            manager_id=manager_id,
            terms=loan_terms or terms(),
            disbursed_at=runtime.clock.now(),
            disbursed_on=runtime.local_now().date(),
        )
    return booked.loan_id


async def sent_reminders(world: SandboxWorld) -> list[tuple[int, str, str]]:
    """(installment n, kind, local day) of every borrower reminder recorded, in order."""
    rows = await world.runtime.db.fetchall(
        "SELECT i.n, r.kind, r.sent_on FROM reminders_sent r"
        " JOIN installments i ON i.id = r.installment_id"
        " WHERE r.kind NOT LIKE 'alert-%' ORDER BY r.sent_on, i.n"
    )
    # str(): SQLite keeps the day as ISO text, PostgreSQL's date column gives a date.
    return [(row["n"], row["kind"], str(row["sent_on"])) for row in rows]


def local_hours(messages) -> list[int]:
    return [datetime.fromtimestamp(m.data["date"], UTC).astimezone(SHANGHAI).hour for m in messages]


def per_day(messages) -> Counter:
    return Counter(
        datetime.fromtimestamp(m.data["date"], UTC).astimezone(SHANGHAI).date() for m in messages
    )

"""Managers see overdue loans by bucket in /stats."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.sandbox.world import SandboxWorld
from tests.formats import grouped
from tests.loans.helpers import book, borrower, local, terms


async def overdue_amount(world: SandboxWorld, loan_id: int, before: date) -> str:
    rows = await world.runtime.db.fetchall(
        "SELECT payment FROM installments WHERE loan_id = ? AND due_date < ?",
        (loan_id, before.isoformat()),
    )
    return grouped(sum(Decimal(row["payment"]) for row in rows))


async def test_stats_shows_overdue_loans_by_bucket(world: SandboxWorld) -> None:
    on_time = await borrower(world, 2001, "Zhao")
    late = await borrower(world, 2002, "Qian")
    zhao = await book(world, on_time.id, loan_terms=terms(first_due=date(2026, 4, 3)))
    qian = await book(world, late.id, loan_terms=terms(first_due=date(2026, 3, 10)))
    today = date(2026, 4, 24)
    # Nobody has paid: Qian is 45 days late (two installments owed), Zhao 21 days (one).
    world.clock.set(local(today, 10))
    manager = world.manager(0)
    manager.command("/stats")
    await world.settle()
    text = manager.last_text()
    assert "Loans overdue now" in text
    assert f"1-30 days: 1 loans, ¥{await overdue_amount(world, zhao, today)} overdue" in text
    assert f"31-60 days: 1 loans, ¥{await overdue_amount(world, qian, today)} overdue" in text
    assert "90+ days: 0 loans" in text

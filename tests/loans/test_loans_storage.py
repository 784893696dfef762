"""storage.loans: the contracts services rely on that no SQL in a service shows any more."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.loans import imports as loan_import
from services.loans.payments import record_payment, report_paid
from storage.loans import book as book_store
from storage.loans import imports as imports_store
from storage.loans import payments as payments_store
from storage.loans import reminders as reminders_store

from .helpers import book, borrower, terms

LOANS_HEADER = "loan_ref,telegram_id,principal,annual_rate,term_months,first_due_date\n"


async def test_a_broken_unique_reference_is_a_constraint_conflict_and_rolls_back(world):
    await borrower(world, 1001, "Li")
    runtime = world.runtime
    first = await book(world, 1001)
    second = await book(world, 1001)
    async with runtime.db.transaction() as conn:
        await imports_store.set_loan_ref(conn, first, "L1")
    with pytest.raises(imports_store.ConstraintConflict):
        with imports_store.constraint_conflicts():
            async with runtime.db.transaction() as conn:
                await imports_store.set_loan_ref(conn, second, "L2")
                await imports_store.set_loan_ref(conn, second, "L1")
    rows = await runtime.db.fetchall("SELECT id, loan_ref FROM loans ORDER BY id")
    assert [(row["id"], row["loan_ref"]) for row in rows] == [(first, "L1"), (second, None)]


async def test_a_reference_booked_between_check_and_write_refuses_the_whole_file(
    world, tmp_path, monkeypatch
):
    await borrower(world, 1001, "Li")
    csv = tmp_path / "loans.csv"
    csv.write_text(
        LOANS_HEADER + "L7,1001,120000,4.8,12,2026-04-03\n" + "L8,1001,50000,4.8,12,2026-04-03\n",
        encoding="utf-8",
    )
    assert (await loan_import.import_loans(world.runtime, csv)).written == 2

    async def not_yet_booked(db, loan_ref):  # the check ran before the other import wrote
        return False

    monkeypatch.setattr(imports_store, "loan_ref_booked", not_yet_booked)
    again = tmp_path / "again.csv"
    again.write_text(
        LOANS_HEADER + "L9,1001,60000,4.8,12,2026-04-03\n" + "L8,1001,50000,4.8,12,2026-04-03\n",
        encoding="utf-8",
    )
    with pytest.raises(loan_import.ImportFileError, match="booked meanwhile; run it again"):
        await loan_import.import_loans(world.runtime, again)
    assert await world.runtime.db.fetchval("SELECT COUNT(*) FROM loans") == 2


async def test_what_is_not_there_reads_as_none(world):
    await borrower(world, 1001, "Li")
    loan_id = await book(world, 1001)
    async with world.runtime.db.transaction() as conn:
        assert await book_store.borrower_name(conn, 424242) is None
        assert await book_store.borrower_name(conn, 1001) == "Li"
        assert await book_store.loan_of_lead(conn, 99) is None
        assert await payments_store.latest_payment_id(conn, loan_id) is None
        assert await payments_store.installment_of_loan(conn, loan_id, 13) is None


async def test_a_loan_reads_back_typed_decimal_amounts_dates_and_aware_instants(world):
    """What the services compute with: Decimal (never float or text), date, aware datetime."""
    await borrower(world, 1001, "Li")
    runtime = world.runtime
    world.clock.set(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))  # 09:00 in Shanghai
    # A zero-rate promotion of 1,200.00 over three months: three installments of 400.00.
    loan_id = await book(world, 1001, loan_terms=terms(principal="1200.00", rate="0", months=3))

    loan = await book_store.loan(runtime.db, loan_id)
    assert loan is not None
    for name, expected in [
        ("principal", Decimal("1200.00")),
        ("annual_rate", Decimal("0")),
        ("balloon_amount", Decimal("0")),
        ("upfront_fee", Decimal("0")),
        ("apr", Decimal("0")),
    ]:
        assert type(loan[name]) is Decimal and loan[name] == expected, name
    assert loan["first_due_date"] == date(2026, 4, 3)
    assert type(loan["first_due_date"]) is date
    assert loan["disbursed_at"] == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert loan["disbursed_at"].utcoffset() == timedelta(0)

    rows = await book_store.installments(runtime.db, loan_id)
    assert [
        (r["n"], r["due_date"], r["payment"], r["principal"], r["interest"], r["balance"])
        for r in rows
    ] == [
        (1, date(2026, 4, 3), Decimal("400"), Decimal("400"), Decimal("0"), Decimal("800")),
        (2, date(2026, 5, 3), Decimal("400"), Decimal("400"), Decimal("0"), Decimal("400")),
        (3, date(2026, 6, 3), Decimal("400"), Decimal("400"), Decimal("0"), Decimal("0")),
    ]
    assert all(
        type(r[name]) is Decimal
        for r in rows
        for name in ("payment", "principal", "interest", "balance", "paid_amount")
    )

    # 150.50 paid on the first; the borrower says the second is paid.
    await record_payment(runtime, 7001, loan_id, 1, Decimal("150.50"))
    world.clock.set(datetime(2026, 5, 3, 2, 30, tzinfo=UTC))
    second = (await book_store.installments(runtime.db, loan_id))[1]["id"]
    await report_paid(runtime, 1001, second)
    async with runtime.db.transaction() as conn:
        first = await payments_store.installment_of_loan(conn, loan_id, 1)
        reported = await payments_store.installment(conn, second)
    assert first is not None and reported is not None
    assert (first["paid_amount"], first["status"], first["paid_at"]) == (
        Decimal("150.50"),
        "due",
        None,
    )
    assert type(first["paid_amount"]) is Decimal
    assert reported["reported_at"] == datetime(2026, 5, 3, 2, 30, tzinfo=UTC)

    # Every unpaid installment is late on 2026-07-01: 249.50 + 400 + 400, to the fen.
    assert await book_store.arrears_by_loan(runtime.db, date(2026, 7, 1)) == [
        {"loan_id": loan_id, "oldest": date(2026, 4, 3), "owed": Decimal("1049.50")}
    ]
    owed = (await book_store.arrears_by_loan(runtime.db, date(2026, 7, 1)))[0]["owed"]
    assert type(owed) is Decimal and str(owed) == "1049.50"


async def test_the_reminder_scans_and_the_unreachable_mark_read_back_typed(world):
    await borrower(world, 1001, "Li")
    runtime = world.runtime
    world.clock.set(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    loan_id = await book(world, 1001)  # first installment due 2026-04-03
    async with runtime.db.transaction() as conn:
        found = await reminders_store.unsent_reminders(
            conn, [("before-3", date(2026, 4, 1), date(2026, 4, 3))], date(2026, 3, 31)
        )
        await conn.execute(
            "UPDATE users SET unreachable_at = ? WHERE user_id = ?",
            ("2026-03-05T02:00:00+00:00", 1001),
        )
    assert [(r["loan_id"], r["kind"], r["due_date"]) for r in found] == [
        (loan_id, "before-3", date(2026, 4, 3))
    ]
    alerts = await reminders_store.unsent_alerts(
        runtime.db, [("alert-manager-3", date(2026, 3, 1), date(2026, 5, 3))]
    )
    assert [(r["kind"], r["due_date"]) for r in alerts] == [
        ("alert-manager-3", date(2026, 4, 3)),
        ("alert-manager-3", date(2026, 5, 3)),
    ]
    assert await reminders_store.unreachable_since(runtime.db, 1001) == datetime(
        2026, 3, 5, 2, 0, tzinfo=UTC
    )
    assert await reminders_store.unreachable_since(runtime.db, 424242) is None

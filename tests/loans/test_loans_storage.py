"""storage.loans: the contracts services rely on that no SQL in a service shows any more."""

from __future__ import annotations

import pytest

from services.loans import imports as loan_import
from storage.loans import book as book_store
from storage.loans import imports as imports_store
from storage.loans import payments as payments_store

from .helpers import book, borrower

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

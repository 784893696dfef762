"""CSV imports: every bad row named by line and reason, and then nothing written."""

from __future__ import annotations

from pathlib import Path

from bot.cli.main import main
from services.loans import imports as loan_import

from .helpers import book, borrower

LOANS_HEADER = (
    "loan_ref,telegram_id,principal,annual_rate,term_months,method,first_due_date,upfront_fee\n"
)


async def count(world, table: str) -> int:
    return await world.runtime.db.fetchval(f"SELECT COUNT(*) FROM {table}")


async def test_a_valid_loans_file_books_every_loan_and_welcomes_known_borrowers(world, tmp_path):
    li = await borrower(world, 1001, "Li")
    csv = tmp_path / "loans.csv"
    csv.write_text(
        LOANS_HEADER
        + "L1001,1001,120000,4.8,12,annuity,2026-04-03,1200\n"
        + "L5555,5555,80000,0,24,equal-principal,2026-04-10,\n",
        encoding="utf-8",
    )
    result = await loan_import.import_loans(world.runtime, csv)
    assert result.ok and result.written == 2
    assert await count(world, "installments") == 36
    await world.settle()
    assert "has been paid out" in li.bot_messages()[-2].text or "paid out" in li.last_text()


async def test_a_bad_row_writes_nothing_and_names_its_line(world, tmp_path):
    await borrower(world, 1001, "Li")
    csv = tmp_path / "loans.csv"
    csv.write_text(
        LOANS_HEADER
        + "L1001,1001,120000,4.8,12,annuity,2026-04-03,0\n"
        + "\n"  # blank lines are skipped but still counted
        + "L1002,1002,abc,4.8,12,annuity,2026-04-03,0\n"
        + "L1003,1003,50000,4.8,12,weekly,2026-04-03,0\n"
        + "L1004,1004,50000,4.8,12,annuity,2026-02-30,0\n"
        + "L1005,1005,50000,4.8,12,annuity,2026-09-03,0\n",
        encoding="utf-8",
    )
    result = await loan_import.import_loans(world.runtime, csv)
    assert [str(e) for e in result.errors] == [
        "line 4: principal: 'abc' is not a number",
        "line 5: method: 'weekly' is not annuity, equal-principal or balloon",
        "line 6: first_due_date: '2026-02-30' is not a date YYYY-MM-DD",
        "line 7: first_due_date: must be within three months of disbursed_on",
    ]
    assert await count(world, "loans") == 0 and await count(world, "installments") == 0


async def test_payments_import_checks_parts_together_and_writes_nothing_on_overpayment(
    world, tmp_path
):
    await borrower(world, 1001, "Li")
    loan_id = await book(world, 1001)
    payment = await world.runtime.db.fetchval(
        "SELECT payment FROM installments WHERE loan_id = ? AND n = 1", (loan_id,)
    )
    csv = tmp_path / "payments.csv"
    csv.write_text(
        "payment_ref,loan_id,n,amount,paid_on\n"
        f"P1,{loan_id},1,5000,2026-03-03\n"
        f"P2,{loan_id},1,6000,2026-03-03\n"  # together more than the installment
        f"P3,{loan_id},13,100,2026-03-03\n"
        f"P4,99,1,100,2026-03-03\n"
        f"P5,{loan_id},2,-5,\n",
        encoding="utf-8",
    )
    result = await loan_import.import_payments(world.runtime, csv)
    left = f"{float(payment) - 5000:.2f}"
    assert [str(e) for e in result.errors] == [
        f"line 3: amount: 6000 is more than is left of the installment ({left})",
        f"line 4: n: loan {loan_id} has no installment 13",
        "line 5: loan_id: there is no loan 99",
        "line 6: amount: must be more than zero, got -5",
    ]
    assert await count(world, "payments") == 0
    csv.write_text(
        f"payment_ref,loan_id,n,amount\nP1,{loan_id},1,5000\nP2,{loan_id},1,\nP3,{loan_id},2,100\n"
    )
    result = await loan_import.import_payments(world.runtime, csv)
    assert result.ok and result.written == 3
    statuses = await world.runtime.db.fetchall(
        "SELECT status, paid_amount FROM installments WHERE loan_id = ? AND n <= 2 ORDER BY n",
        (loan_id,),
    )
    # str(): text on SQLite, NUMERIC (a Decimal) on PostgreSQL.
    assert [(r["status"], str(r["paid_amount"])) for r in statuses] == [
        ("paid", str(payment)),
        ("due", "100"),
    ]


def test_the_command_line_reports_each_bad_row_and_exits_2(tmp_path, database_setting, capsys):
    assert main(["migrate"]) == 0
    csv = tmp_path / "loans.csv"
    csv.write_text(
        LOANS_HEADER + "L1,1001,120000,4.8,12,annuity,2099-04-03,0\nL2,1002,1000,1,1,annuity,x,0\n"
    )
    assert main(["loans", "import", str(csv)]) == 2
    err = capsys.readouterr().err
    assert "line 2: first_due_date: must be within three months" in err
    assert "line 3: first_due_date: 'x' is not a date" in err
    assert "nothing imported (2 bad row(s)" in err
    assert main(["loans", "import", str(tmp_path / "missing.csv")]) == 2
    assert "file not found" in capsys.readouterr().err
    bad_header = tmp_path / "typo.csv"
    bad_header.write_text("payment_ref,loan_id,n,amout\nP1,1,1,5\n")
    assert main(["payments", "import", str(bad_header)]) == 2
    assert "line 1: unknown column 'amout'" in capsys.readouterr().err


def test_the_command_line_imports_a_good_file(tmp_path: Path, database_setting, capsys):
    assert main(["migrate"]) == 0
    from datetime import date, timedelta

    first_due = (date.today() + timedelta(days=20)).isoformat()
    csv = tmp_path / "loans.csv"
    csv.write_text(LOANS_HEADER + f"L1001,1001,120000,4.8,12,annuity,{first_due},0\n")
    assert main(["loans", "import", str(csv)]) == 0
    assert "imported 1 loans" in capsys.readouterr().out


async def test_the_same_file_twice_books_nothing_twice(world, tmp_path):
    """A loan reference already booked is named and the file refused; with skip_existing
    it is skipped and counted, and only new references are booked."""
    await borrower(world, 1001, "Li")
    csv = tmp_path / "loans.csv"
    csv.write_text(LOANS_HEADER + "C-1,1001,120000,4.8,12,annuity,2026-04-03,0\n")
    assert (await loan_import.import_loans(world.runtime, csv)).written == 1
    csv.write_text(
        LOANS_HEADER
        + "C-1,1001,120000,4.8,12,annuity,2026-04-03,0\n"
        + "C-2,1001,50000,4.8,12,annuity,2026-04-03,0\n"
    )
    again = await loan_import.import_loans(world.runtime, csv)
    assert [str(e) for e in again.errors] == ["line 2: loan C-1 is already booked"]
    assert await count(world, "loans") == 1
    skipping = await loan_import.import_loans(world.runtime, csv, skip_existing=True)
    assert (skipping.ok, skipping.written, skipping.skipped) == (True, 1, 1)
    refs = await world.runtime.db.fetchall("SELECT loan_ref FROM loans ORDER BY id")
    assert [r["loan_ref"] for r in refs] == ["C-1", "C-2"]


async def test_a_payment_reference_is_recorded_once(world, tmp_path):
    await borrower(world, 1001, "Li")
    loan_id = await book(world, 1001)
    csv = tmp_path / "payments.csv"
    csv.write_text(f"payment_ref,loan_id,n,amount\nB-77,{loan_id},1,100\n")
    assert (await loan_import.import_payments(world.runtime, csv)).written == 1
    again = await loan_import.import_payments(world.runtime, csv)
    assert [str(e) for e in again.errors] == ["line 2: payment B-77 is already recorded"]
    skipping = await loan_import.import_payments(world.runtime, csv, skip_existing=True)
    assert (skipping.written, skipping.skipped) == (0, 1)
    paid = await world.runtime.db.fetchall("SELECT amount, payment_ref FROM payments")
    assert [(str(p["amount"]), p["payment_ref"]) for p in paid] == [("100", "B-77")]


async def test_amounts_and_ids_are_bounded(world, tmp_path):
    """lending/bounds.py: 1,000 to 10,000,000 yuan for a principal; ids are whole numbers."""
    await borrower(world, 1001, "Li")
    csv = tmp_path / "loans.csv"
    rows = [
        ("B1", "1001", "10000000"),  # the bound itself: fine
        ("B2", "1001", "10000000.01"),
        ("B3", "1001", "999.99"),
        ("B4", "1" + "0" * 16, "5000"),
        ("B5", "1001", "1e30"),
    ]
    csv.write_text(
        LOANS_HEADER + "".join(f"{r},{t},{p},4.8,12,annuity,2026-04-03,0\n" for r, t, p in rows)
    )
    result = await loan_import.import_loans(world.runtime, csv)
    assert [str(e) for e in result.errors] == [
        "line 3: principal: must be from 1,000 to 10,000,000 yuan, got 10000000.01",
        "line 4: principal: must be from 1,000 to 10,000,000 yuan, got 999.99",
        "line 5: telegram_id: '10000000000000000' is not a whole number up to"
        " 1,000,000,000,000,000",
        "line 6: principal: must be from 1,000 to 10,000,000 yuan, got 1E+30",
    ]

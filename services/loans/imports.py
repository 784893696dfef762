"""CSV imports of loans booked elsewhere and of payments received: all rows or none.

Every row is validated first and every bad row is reported with its line number and
reason; nothing is written unless the whole file is valid, and then everything is
written in one transaction. UTF-8 (a BOM is fine), comma-separated, a header row first;
column names are case-insensitive, unknown columns are an error (a typo must not
silently drop a value), blank lines are skipped.

Loans (`python -m bot loans import FILE.csv`):

| column           | required | meaning                                                      |
|------------------|----------|--------------------------------------------------------------|
| `loan_ref`       | yes      | the lender's own loan reference (contract number), unique    |
| `telegram_id`    | one of   | the borrower's Telegram user id                               |
| `lead_id`        | the two  | a lead in 'approved' status; it moves to 'disbursed'         |
| `manager_id`     | no       | the borrower's manager (default: the lead's owner)           |
| `principal`      | yes      | amount lent, yuan, 1,000 to 10,000,000, e.g. `120000.00`     |
| `annual_rate`    | yes      | percent a year, 0 to 36, e.g. `4.8`                          |
| `term_months`    | yes      | 1 to 120                                                     |
| `method`         | no       | `annuity` (default), `equal-principal` or `balloon`         |
| `balloon_amount` | no       | final lump sum of a balloon loan, yuan (default 0)           |
| `upfront_fee`    | no       | fee taken at payout, yuan (default 0); it raises the APR     |
| `rate_type`      | no       | `fixed` (default) or `floating`                              |
| `disbursed_on`   | no       | payout date YYYY-MM-DD (default: today)                      |
| `first_due_date` | yes      | YYYY-MM-DD, after the payout and within three months of it   |

Payments (`python -m bot payments import FILE.csv`):

| column        | required | meaning                                                      |
|---------------|----------|--------------------------------------------------------------|
| `payment_ref` | yes      | the bank's reference of the payment (transaction id), unique |
| `loan_id`     | yes      | the loan number                                              |
| `n`           | yes      | the installment number, 1 to the term                        |
| `amount`      | no       | yuan; default what is left of that installment; no overpayment |
| `paid_on`     | no       | YYYY-MM-DD (default: today)                                  |

Several rows may pay the same installment in parts; together they may not exceed it.

Imports are idempotent: a `loan_ref` or `payment_ref` already booked (or twice in the file)
is reported as `line N: loan REF is already booked` and the file is refused; with
`--skip-existing` such rows are skipped and counted instead. References are 1-64 printable
characters. Every amount is at most 10,000,000 yuan and ids are whole numbers
(lending/bounds.py holds the bounds).
Imported payments stop that installment's reminders; the borrower is not messaged (bank
files arrive in bulk). A borrower whose loan is imported gets the welcome with the
schedule only if they have talked to the bot before (Telegram lets a bot write first to
nobody).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lending.bounds import MAX_AMOUNT, MIN_LOAN, amount_problem
from lending.money import CENT, ZERO
from lending.schedule import RepaymentMethod
from services.loans import book as loans
from services.people import managers
from services.runtime import Runtime
from storage.db import Connection
from storage.loans import imports as imports_store
from storage.loans import payments as payments_store

LOAN_COLUMNS = {
    "loan_ref": True,
    "telegram_id": False,
    "lead_id": False,
    "manager_id": False,
    "principal": True,
    "annual_rate": True,
    "term_months": True,
    "method": False,
    "balloon_amount": False,
    "upfront_fee": False,
    "rate_type": False,
    "disbursed_on": False,
    "first_due_date": True,
}
PAYMENT_COLUMNS = {
    "payment_ref": True,
    "loan_id": True,
    "n": True,
    "amount": False,
    "paid_on": False,
}
MAX_ROWS = 100_000
MAX_ID = 10**15  # Telegram ids and our row ids stay far below this
MAX_REF = 64


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportResult:
    errors: list[RowError] = field(default_factory=list)
    written: int = 0
    skipped: int = 0  # rows whose reference was already booked (--skip-existing)

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportFileError(ValueError):
    """The file as a whole cannot be read (missing, not UTF-8, no header)."""


class _RowProblem(ValueError):
    pass


class _AlreadyBooked(_RowProblem):
    """The row's reference is in the database already: an error, or with --skip-existing
    a row skipped."""


def read_rows(path: Path, columns: dict[str, bool]) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for every non-blank data row; raises ImportFileError for the file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImportFileError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path}: is a directory, not a CSV file") from None
    except UnicodeDecodeError:
        raise ImportFileError(f"{path}: not UTF-8 text (save the CSV as UTF-8)") from None
    if "\x00" in text:
        raise ImportFileError(f"{path}: not a CSV text file (it holds NUL bytes)")
    # strict: a quote left open is an error, not a field that swallows the rest of the file.
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        return _rows(path, reader, columns)
    except csv.Error as error:
        raise ImportFileError(
            f"{path}: line {reader.line_num}: not valid CSV ({error}; a quote left open?)"
        ) from None


def _rows(path: Path, reader: Any, columns: dict[str, bool]) -> list[tuple[int, dict[str, str]]]:
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise ImportFileError(f"{path}: line 1: no header row (expected {', '.join(columns)})")
    names = [h.strip().lower() for h in header]
    unknown = [n for n in names if n not in columns]
    if unknown:
        raise ImportFileError(
            f"{path}: line 1: unknown column {unknown[0]!r} (columns: {', '.join(columns)})"
        )
    if len(set(names)) != len(names):
        raise ImportFileError(f"{path}: line 1: a column appears twice")
    missing = [c for c, required in columns.items() if required and c not in names]
    if missing:
        raise ImportFileError(f"{path}: line 1: missing column {missing[0]!r}")
    rows = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(f"{path}: more than {MAX_ROWS} rows; split the file")
        if len(values) != len(names):
            rows.append((line, {"__error__": f"{len(values)} values for {len(names)} columns"}))
            continue
        rows.append((line, {n: v.strip() for n, v in zip(names, values, strict=True)}))
    return rows


# --- parsing one value ---------------------------------------------------------------------


def _decimal(row: dict[str, str], name: str, default: Decimal | None = None) -> Decimal:
    text = row.get(name, "")
    if not text:
        if default is None:
            raise _RowProblem(f"{name}: missing")
        return default
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise _RowProblem(f"{name}: {text!r} is not a number") from None
    if not value.is_finite():
        raise _RowProblem(f"{name}: {text!r} is not a number")
    return value


def _amount(
    row: dict[str, str], name: str, default: Decimal | None = None, minimum: Decimal = ZERO
) -> Decimal:
    value = _decimal(row, name, default)
    if value < 0:
        raise _RowProblem(f"{name}: must not be negative, got {value}")
    problem = amount_problem(value, minimum=minimum)
    if problem:
        raise _RowProblem(f"{name}: {problem}")
    if value != value.quantize(CENT):
        raise _RowProblem(f"{name}: at most two decimals (fen), got {value}")
    return value


def _int(row: dict[str, str], name: str, *, required: bool = True) -> int | None:
    text = row.get(name, "")
    if not text:
        if required:
            raise _RowProblem(f"{name}: missing")
        return None
    if not re.fullmatch(r"[0-9]{1,16}", text) or int(text) > MAX_ID:
        raise _RowProblem(f"{name}: {text!r} is not a whole number up to {MAX_ID:,}")
    return int(text)


def _reference(row: dict[str, str], name: str) -> str:
    text = row.get(name, "")
    if not text:
        raise _RowProblem(f"{name}: missing")
    if len(text) > MAX_REF or not text.isprintable():
        raise _RowProblem(f"{name}: at most {MAX_REF} printable characters, got {text[:80]!r}")
    return text


def _date(row: dict[str, str], name: str, default: date | None = None) -> date:
    text = row.get(name, "")
    if not text:
        if default is None:
            raise _RowProblem(f"{name}: missing")
        return default
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise _RowProblem(f"{name}: {text!r} is not a date YYYY-MM-DD") from None


def _past_date(row: dict[str, str], name: str, today: date) -> date:
    """A date on or before today (default: today)."""
    value = _date(row, name, today)
    if value > today:
        raise _RowProblem(f"{name}: {value} is in the future")
    return value


TERM_REASONS = {
    "principal_not_positive": "principal: must be more than zero",
    "rate_out_of_range": "annual_rate: must be between 0 and 36",
    "term_out_of_range": "term_months: must be 1 to 120",
    "rate_type_unknown": "rate_type: must be fixed or floating",
    "balloon_out_of_range": "balloon_amount: a balloon loan needs one above 0 and below principal",
    "balloon_without_method": "balloon_amount: only a balloon loan has one (method=balloon)",
    "fee_out_of_range": "upfront_fee: must be at least 0 and below principal",
    "first_due_not_after_disbursal": "first_due_date: must be after disbursed_on",
    "first_due_too_late": "first_due_date: must be within three months of disbursed_on",
}


# --- loans -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LoanRow:
    line: int
    loan_ref: str
    user_id: int
    lead_id: int | None
    manager_id: int | None
    terms: loans.LoanTerms
    disbursed_on: date
    known_user: bool


async def import_loans(
    runtime: Runtime, path: Path, *, skip_existing: bool = False
) -> ImportResult:
    """Validate every row of a loans CSV; book them all in one transaction, or none."""
    leads_seen: dict[int, int] = {}
    refs_seen: dict[str, int] = {}
    today = runtime.local_now().date()

    async def check(line: int, row: dict[str, str]) -> _LoanRow:
        loan_ref = _reference(row, "loan_ref")
        _first_in_file(refs_seen, loan_ref, line, "loan_ref")
        if await imports_store.loan_ref_booked(runtime.db, loan_ref):
            raise _AlreadyBooked(f"loan {loan_ref} is already booked")
        parsed = await _loan_row(runtime, line, loan_ref, row, today)
        if parsed.lead_id is not None:
            if parsed.lead_id in leads_seen:
                raise _RowProblem(
                    f"lead_id: lead {parsed.lead_id} is already on line {leads_seen[parsed.lead_id]}"
                )
            leads_seen[parsed.lead_id] = line
        return parsed

    result = await _import(runtime, path, LOAN_COLUMNS, check, _book, skip_existing)
    if result.ok:
        runtime.wake_outbox()
    return result


def _first_in_file(seen: dict[str, int], reference: str, line: int, column: str) -> None:
    """A reference may appear once in a file."""
    if reference in seen:
        raise _RowProblem(f"{column}: {reference} is already on line {seen[reference]}")
    seen[reference] = line


async def _loan_row(
    runtime: Runtime, line: int, loan_ref: str, row: dict[str, str], today: date
) -> _LoanRow:
    telegram_id = _int(row, "telegram_id", required=False)
    lead_id = _int(row, "lead_id", required=False)
    if (telegram_id is None) == (lead_id is None):
        raise _RowProblem("give exactly one of telegram_id and lead_id")
    manager_id = _int(row, "manager_id", required=False)
    method_text = row.get("method") or "annuity"
    try:
        method = RepaymentMethod(method_text.lower())
    except ValueError:
        raise _RowProblem(
            f"method: {method_text!r} is not annuity, equal-principal or balloon"
        ) from None
    term = _int(row, "term_months")
    assert term is not None
    disbursed_on = _past_date(row, "disbursed_on", today)
    terms = loans.LoanTerms(
        principal=_amount(row, "principal", minimum=MIN_LOAN),
        annual_rate=_decimal(row, "annual_rate"),
        term_months=term,
        method=method,
        first_due_date=_date(row, "first_due_date"),
        rate_type=(row.get("rate_type") or "fixed").lower(),
        balloon_amount=_amount(row, "balloon_amount", ZERO),
        upfront_fee=_amount(row, "upfront_fee", ZERO),
    )
    try:
        loans.validate_terms(terms, disbursed_on)
    except loans.LoanError as error:
        raise _RowProblem(TERM_REASONS.get(error.code, error.code)) from None
    db = runtime.db
    if lead_id is not None:
        lead = await imports_store.lead_for_import(db, lead_id)
        if lead is None:
            raise _RowProblem(f"lead_id: there is no lead {lead_id}")
        if await imports_store.lead_has_loan(db, lead_id):
            raise _RowProblem(f"lead_id: lead {lead_id} already has a loan")
        if lead["status"] != "approved":
            raise _RowProblem(f"lead_id: lead {lead_id} is {lead['status']}, not approved")
        from services.leads import checklist

        still_open = await checklist.open_steps(db.conn, lead_id)
        if still_open:
            raise _RowProblem(
                f"lead_id: lead {lead_id} has checklist steps neither done nor waived:"
                f" {', '.join(still_open)}"
            )
        if lead["owner_id"] is None and manager_id is None:
            raise _RowProblem(f"lead_id: lead {lead_id} has no owner; give manager_id")
        user_id = lead["user_id"]
        manager_id = manager_id or lead["owner_id"]
    else:
        assert telegram_id is not None
        user_id = telegram_id
    if manager_id is not None and not await managers.is_manager(runtime, manager_id):
        raise _RowProblem(f"manager_id: {manager_id} is not a manager")
    known = await imports_store.user_known(db, user_id)
    return _LoanRow(line, loan_ref, user_id, lead_id, manager_id, terms, disbursed_on, known)


async def _book(conn: Connection, runtime: Runtime, item: _LoanRow) -> None:
    now = runtime.clock.now()
    if not item.known_user:
        # Booked elsewhere for someone who never wrote to the bot: a row for the loan to
        # point at. No welcome: a bot cannot write first to a user who never started it.
        await imports_store.add_user(conn, item.user_id, locale=runtime.default_locale, at=now)
    booked = await loans.book_loan(
        conn,
        user_id=item.user_id,
        lead_id=item.lead_id,
        manager_id=item.manager_id,
        terms=item.terms,
        disbursed_at=now,
        disbursed_on=item.disbursed_on,
    )
    await imports_store.set_loan_ref(conn, booked.loan_id, item.loan_ref)
    if item.lead_id is not None:
        from services.leads import queue as leads

        assert item.manager_id is not None
        await leads.change_status(
            conn, runtime, item.lead_id, "disbursed", item.manager_id, note="import", now=now
        )
    if item.known_user:
        await loans.queue_welcome(conn, runtime, booked.loan_id)


# --- payments --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PaymentRow:
    line: int
    payment_ref: str
    installment_id: int
    amount: Decimal
    paid_on: date


async def import_payments(
    runtime: Runtime, path: Path, *, skip_existing: bool = False
) -> ImportResult:
    """Validate every row of a payments CSV; record them all in one transaction, or none."""
    from services.loans.payments import PaymentError, check_amount

    # What earlier rows of this file already pay, so parts together cannot overpay.
    pending: dict[int, Decimal] = {}
    refs_seen: dict[str, int] = {}
    today = runtime.local_now().date()

    async def check(line: int, row: dict[str, str]) -> _PaymentRow:
        payment_ref = _reference(row, "payment_ref")
        _first_in_file(refs_seen, payment_ref, line, "payment_ref")
        if await imports_store.payment_ref_recorded(runtime.db, payment_ref):
            raise _AlreadyBooked(f"payment {payment_ref} is already recorded")
        loan_id = _int(row, "loan_id")
        n = _int(row, "n")
        paid_on = _past_date(row, "paid_on", today)
        found = await imports_store.installment_to_pay(runtime.db, loan_id, n)
        if found is None:
            if await imports_store.loan_exists(runtime.db, loan_id):
                raise _RowProblem(f"n: loan {loan_id} has no installment {n}")
            raise _RowProblem(f"loan_id: there is no loan {loan_id}")
        if found["status"] == "paid":
            raise _RowProblem(f"loan {loan_id} installment {n} is already paid")
        left = found["payment"] - found["paid_amount"] - pending.get(found["id"], ZERO)
        if left <= 0:
            raise _RowProblem(f"loan {loan_id} installment {n} is paid in full by earlier rows")
        amount = _decimal(row, "amount", left)
        if amount > MAX_AMOUNT:  # zero, negative and overpaying: check_amount below
            raise _RowProblem(f"amount: {amount_problem(amount)}")
        try:
            check_amount(amount, left)
        except PaymentError as error:
            raise _RowProblem(_payment_reason(error.code, amount, left)) from None
        pending[found["id"]] = pending.get(found["id"], ZERO) + amount
        return _PaymentRow(line, payment_ref, found["id"], amount, paid_on)

    return await _import(runtime, path, PAYMENT_COLUMNS, check, _pay, skip_existing)


def _payment_reason(code: str, amount: Decimal, left: Decimal) -> str:
    if code == "overpayment":
        return f"amount: {amount} is more than is left of the installment ({left})"
    if code == "amount_precision":
        return f"amount: at most two decimals (fen), got {amount}"
    return f"amount: must be more than zero, got {amount}"


async def _pay(conn: Connection, runtime: Runtime, item: _PaymentRow) -> None:
    from services.loans.payments import apply_payment

    row = await payments_store.installment(conn, item.installment_id)
    await apply_payment(
        conn,
        runtime,
        row,
        item.amount,
        source="import",
        recorded_by=None,
        paid_on=item.paid_on,
        reference=item.payment_ref,
    )


async def _import(
    runtime: Runtime,
    path: Path,
    columns: dict[str, bool],
    check: Callable[[int, dict[str, str]], Awaitable[Any]],
    write: Callable[[Connection, Runtime, Any], Awaitable[None]],
    skip_existing: bool = False,
) -> ImportResult:
    """`check` every row (it raises _RowProblem with the reason); then, only if all passed,
    `write` them all in one transaction."""
    rows = read_rows(path, columns)
    result = ImportResult()
    valid = []
    for line, row in rows:
        try:
            if "__error__" in row:
                raise _RowProblem(row["__error__"])
            valid.append(await check(line, row))
        except _AlreadyBooked as problem:
            if skip_existing:
                result.skipped += 1
            else:
                result.errors.append(RowError(line, str(problem)))
        except _RowProblem as problem:
            result.errors.append(RowError(line, str(problem)))
    if not rows and not result.errors:
        result.errors.append(RowError(2, "no data rows"))
    if result.errors:
        return result
    try:
        with imports_store.constraint_conflicts():
            async with runtime.db.transaction() as conn:
                for item in valid:
                    await write(conn, runtime, item)
    except imports_store.ConstraintConflict:
        # Another import booked one of these references between the check and the write.
        raise ImportFileError(
            f"{path}: nothing imported: a reference in it was booked meanwhile; run it again"
        ) from None
    result.written = len(valid)
    return result

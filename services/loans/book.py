"""Loans after disbursement: booking one, reading it back, and how overdue the book is.

`disburse` is the manager's "the money went out" step: in one transaction it stores the
loan with its real terms, stores the lending engine's schedule as installments, moves the
lead to 'disbursed' (through services.leads.queue, which records the lead event) and queues the
borrower's welcome (terms, APR, schedule as text and as a picture, how reminders work).
`book_loan` is the part shared with the CSV import, which books loans made elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lending.apr import annualized_rate
from lending.bounds import MAX_RATE_PERCENT, MAX_TERM_MONTHS
from lending.dates import add_months
from lending.money import HUNDRED, ZERO, money
from lending.schedule import RepaymentMethod, Schedule, build_schedule
from services import charts
from services.keyboards import inline_keyboard
from services.people import managers
from services.runtime import Runtime
from storage import outbox
from storage.db import Connection
from storage.loans import book as book_store

log = logging.getLogger(__name__)

# A row as storage.loans hands it over: by column name, stored values already typed.
Stored = Mapping[str, Any]

CHART_RENDERER = "loan_chart"  # the outbox renderer that draws a new loan's schedule

RATE_TYPES = ("fixed", "floating")
# The schedule text lists this many installments; the picture shows them all.
SCHEDULE_LINES = 12


class LoanError(ValueError):
    """A loan that cannot be booked; `code` picks the sentence, `params` fill it."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def __str__(self) -> str:
        details = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.code} ({details})" if details else self.code


@dataclass(frozen=True)
class LoanTerms:
    """The real terms a manager confirms (or a CSV row carries)."""

    principal: Decimal
    annual_rate: Decimal
    term_months: int
    method: RepaymentMethod
    first_due_date: date
    rate_type: str = "fixed"
    balloon_amount: Decimal = ZERO
    upfront_fee: Decimal = ZERO

    def schedule(self, disbursed_on: date) -> Schedule:
        return build_schedule(
            self.principal,
            self.annual_rate,
            self.term_months,
            disbursed_on,
            self.method,
            self.balloon_amount,
            first_due=self.first_due_date,
        )

    def apr(self, schedule: Schedule) -> Decimal:
        """The annualized rate with the upfront fee (equals the rate with no fee)."""
        return annualized_rate(self.principal - self.upfront_fee, schedule.payments)

    def as_dict(self) -> dict[str, str]:
        return {
            "principal": str(self.principal),
            "annual_rate": str(self.annual_rate),
            "term_months": str(self.term_months),
            "method": self.method.value,
            "first_due_date": self.first_due_date.isoformat(),
            "rate_type": self.rate_type,
            "balloon_amount": str(self.balloon_amount),
            "upfront_fee": str(self.upfront_fee),
        }

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> LoanTerms:
        return cls(
            principal=Decimal(data["principal"]),
            annual_rate=Decimal(data["annual_rate"]),
            term_months=int(data["term_months"]),
            method=RepaymentMethod(data["method"]),
            first_due_date=date.fromisoformat(data["first_due_date"]),
            rate_type=data["rate_type"],
            balloon_amount=Decimal(data["balloon_amount"]),
            upfront_fee=Decimal(data["upfront_fee"]),
        )


def validate_terms(terms: LoanTerms, disbursed_on: date) -> None:
    """Raise LoanError naming the first term that cannot be booked."""
    if terms.principal <= 0:
        raise LoanError("principal_not_positive", value=terms.principal)
    if not ZERO <= terms.annual_rate <= MAX_RATE_PERCENT:
        raise LoanError("rate_out_of_range", value=terms.annual_rate)
    if not 1 <= terms.term_months <= MAX_TERM_MONTHS:
        raise LoanError("term_out_of_range", value=terms.term_months, max=MAX_TERM_MONTHS)
    if terms.rate_type not in RATE_TYPES:
        raise LoanError("rate_type_unknown", value=terms.rate_type)
    if terms.method is RepaymentMethod.BALLOON:
        if not ZERO < terms.balloon_amount < terms.principal:
            raise LoanError("balloon_out_of_range", value=terms.balloon_amount)
    elif terms.balloon_amount:
        raise LoanError("balloon_without_method", value=terms.balloon_amount)
    if not ZERO <= terms.upfront_fee < terms.principal:
        raise LoanError("fee_out_of_range", value=terms.upfront_fee)
    if terms.first_due_date <= disbursed_on:
        raise LoanError("first_due_not_after_disbursal", value=terms.first_due_date)
    if terms.first_due_date > add_months(disbursed_on, 3):
        raise LoanError("first_due_too_late", value=terms.first_due_date)


def parse_decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except (InvalidOperation, AttributeError):
        return None
    return value if value.is_finite() else None


# --- booking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Booked:
    loan_id: int
    user_id: int
    schedule: Schedule
    apr: Decimal


async def book_loan(
    conn: Connection,
    *,
    user_id: int,
    lead_id: int | None,
    manager_id: int | None,
    terms: LoanTerms,
    disbursed_at: datetime,
    disbursed_on: date,
) -> Booked:
    """Insert the loan and its installments (inside the caller's transaction)."""
    validate_terms(terms, disbursed_on)
    schedule = terms.schedule(disbursed_on)
    apr = terms.apr(schedule)
    loan_id = await book_store.insert_loan(
        conn,
        lead_id=lead_id,
        user_id=user_id,
        manager_id=manager_id,
        principal=money(terms.principal),
        annual_rate=terms.annual_rate,
        rate_type=terms.rate_type,
        term_months=terms.term_months,
        method=terms.method.value,
        balloon_amount=money(terms.balloon_amount),
        upfront_fee=money(terms.upfront_fee),
        apr=apr,
        first_due_date=terms.first_due_date,
        disbursed_at=disbursed_at,
    )
    await book_store.insert_installments(conn, loan_id, schedule.installments)
    return Booked(loan_id, user_id, schedule, apr)


@dataclass(frozen=True)
class LeadForDisbursal:
    """What the disbursement dialog needs: who, whose, and the prefilled terms."""

    lead_id: int
    user_id: int
    owner_id: int | None
    status: str
    borrower_name: str | None
    car_price: Decimal | None
    terms: LoanTerms


async def lead_for_disbursal(runtime: Runtime, lead_id: int) -> LeadForDisbursal | None:
    """The lead with terms prefilled from its application and latest assessment."""
    row = await book_store.disbursal_prefill(runtime.db, lead_id)
    if row is None:
        return None
    today = runtime.local_now().date()
    answers: dict = row["answers"]
    policy = runtime.policy
    price = parse_decimal(str(answers.get("price", ""))) if answers.get("price") else None
    principal = row["loan_amount"] or ZERO
    if not principal and price is not None:
        down = parse_decimal(str(answers.get("down_payment", "0"))) or ZERO
        principal = money(price - down)
    # A 0% dealer promotion is a rate like any other: only a missing one falls back.
    rate = row["annual_rate"] if row["annual_rate"] is not None else policy.rates.worst_rate
    try:
        method = RepaymentMethod(answers.get("method", "annuity"))
    except ValueError:
        method = RepaymentMethod.ANNUITY
    term = int(answers.get("term_months") or policy.terms.offered_months[-1])
    balloon = ZERO
    if method is RepaymentMethod.BALLOON:
        percent = parse_decimal(str(answers.get("balloon_percent") or ""))
        if percent is None:
            percent = policy.balloon.default_percent
        balloon = balloon_from_percent(percent, price, principal)
    terms = LoanTerms(
        principal=money(principal),
        annual_rate=rate,
        term_months=term,
        method=method,
        first_due_date=add_months(today, 1),
        rate_type=policy.rates.basis,
        balloon_amount=balloon,
        upfront_fee=policy.fees.upfront_fee(principal) if principal > 0 else ZERO,
    )
    return LeadForDisbursal(
        lead_id=row["id"],
        user_id=row["user_id"],
        owner_id=row["owner_id"],
        status=row["status"],
        borrower_name=row["full_name"],
        car_price=price,
        terms=terms,
    )


def balloon_from_percent(percent: Decimal, price: Decimal | None, principal: Decimal) -> Decimal:
    """The balloon as an amount: a percent of the car price (of the loan when unknown)."""
    base = price if price else principal
    return money(base * percent / HUNDRED)


def balloon_percent(amount: Decimal, price: Decimal | None, principal: Decimal) -> Decimal:
    base = price if price else principal
    if not base:
        return ZERO
    return (amount * HUNDRED / base).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Disbursed:
    loan_id: int
    user_id: int
    apr: Decimal


async def disburse(runtime: Runtime, lead_id: int, actor_id: int, terms: LoanTerms) -> Disbursed:
    """Book the loan for a lead, move the lead to 'disbursed', queue the borrower's welcome.

    Raises LoanError: `not_found`, `not_allowed` (only the lead's owner or an admin),
    `already_disbursed`, `lead_lost`, `checklist_open` (a step before disbursement is
    neither done nor waived), or a term that cannot be booked.
    """
    # Imported here: services.leads.queue belongs to the manager queue and imports widely.
    from services.leads import checklist
    from services.leads import queue as leads

    now = runtime.clock.now()
    today = runtime.local_now().date()
    validate_terms(terms, today)
    async with runtime.db.transaction() as conn:
        row = await book_store.lead_to_disburse(conn, lead_id)
        if row is None:
            raise LoanError("not_found", lead=lead_id)
        if row["owner_id"] != actor_id and not await managers.is_admin(runtime, actor_id, conn):
            raise LoanError("not_allowed", lead=lead_id)
        existing = await book_store.loan_of_lead(conn, lead_id)
        if row["status"] == "disbursed" or existing is not None:
            raise LoanError("already_disbursed", lead=lead_id)
        if row["status"] == "lost":
            raise LoanError("lead_lost", lead=lead_id)
        still_open = await checklist.open_steps(conn, lead_id)
        if still_open:
            # Insurance, lien and funds first (services/checklist); nothing is booked.
            raise LoanError("checklist_open", lead=lead_id, steps=still_open)
        manager_id = row["owner_id"] or actor_id
        booked = await book_loan(
            conn,
            user_id=row["user_id"],
            lead_id=lead_id,
            manager_id=manager_id,
            terms=terms,
            disbursed_at=now,
            disbursed_on=today,
        )
        try:
            await leads.change_status(conn, runtime, lead_id, "disbursed", actor_id, now=now)
        except leads.LeadError as error:
            # Rolls the booked loan back with the transaction.
            code = "not_approved" if error.code == "bad_transition" else error.code
            raise LoanError(code, lead=lead_id, status=row["status"]) from None
        await queue_welcome(conn, runtime, booked.loan_id)
    runtime.wake_outbox()
    log.info("loan %s disbursed for lead %s", booked.loan_id, lead_id)
    return Disbursed(booked.loan_id, booked.user_id, booked.apr)


# --- reading loans back ------------------------------------------------------------------


@dataclass(frozen=True)
class InstallmentView:
    id: int
    n: int
    due_date: date
    payment: Decimal
    principal: Decimal
    interest: Decimal
    balance: Decimal
    paid_amount: Decimal
    status: str

    @property
    def remaining(self) -> Decimal:
        return max(ZERO, self.payment - self.paid_amount)

    def days_overdue(self, today: date) -> int:
        return max(0, (today - self.due_date).days) if self.status != "paid" else 0


@dataclass(frozen=True)
class LoanView:
    id: int
    user_id: int
    lead_id: int | None
    manager_id: int | None
    manager_name: str | None
    principal: Decimal
    annual_rate: Decimal
    rate_type: str
    term_months: int
    method: str
    balloon_amount: Decimal
    upfront_fee: Decimal
    apr: Decimal
    status: str
    disbursed_at: datetime
    locale: str
    installments: list[InstallmentView] = field(default_factory=list)

    @property
    def paid_so_far(self) -> Decimal:
        return sum((i.paid_amount for i in self.installments), ZERO)

    @property
    def outstanding(self) -> Decimal:
        """What is left to pay: the unpaid part of every installment."""
        return sum((i.remaining for i in self.installments if i.status != "paid"), ZERO)

    def principal_owed(self) -> Decimal:
        """Principal still owed: the principal parts of the installments not yet paid."""
        return sum((i.principal for i in self.installments if i.status != "paid"), ZERO)

    @property
    def open_installments(self) -> list[InstallmentView]:
        return [i for i in self.installments if i.status != "paid"]

    @property
    def next_due(self) -> InstallmentView | None:
        return next(iter(self.open_installments), None)


async def get_loan(runtime: Runtime, loan_id: int) -> LoanView | None:
    row = await book_store.loan(runtime.db, loan_id)
    if row is None:
        return None
    return await _loan_view(runtime, row)


async def loans_of_user(
    runtime: Runtime, user_id: int, *, active_only: bool = True
) -> list[LoanView]:
    rows = await book_store.loans_of_user(runtime.db, user_id, active_only=active_only)
    return [await _loan_view(runtime, row) for row in rows]


async def _loan_view(runtime: Runtime, row: Stored) -> LoanView:
    installments = await book_store.installments(runtime.db, row["id"])
    return _view(row, installments)


def _view(row: Stored, installments: list[Stored]) -> LoanView:
    return LoanView(
        id=row["id"],
        user_id=row["user_id"],
        lead_id=row["lead_id"],
        manager_id=row["manager_id"],
        manager_name=row["manager_name"],
        principal=row["principal"],
        annual_rate=row["annual_rate"],
        rate_type=row["rate_type"],
        term_months=row["term_months"],
        method=row["method"],
        balloon_amount=row["balloon_amount"],
        upfront_fee=row["upfront_fee"],
        apr=row["apr"],
        status=row["status"],
        disbursed_at=row["disbursed_at"],
        locale=row["locale"],
        installments=[installment_view(i) for i in installments],
    )


def installment_view(row: Stored) -> InstallmentView:
    """An installment as storage.loans hands it over (amounts Decimal, due date a date)."""
    return InstallmentView(
        id=row["id"],
        n=row["n"],
        due_date=row["due_date"],
        payment=row["payment"],
        principal=row["principal"],
        interest=row["interest"],
        balance=row["balance"],
        paid_amount=row["paid_amount"],
        status=row["status"],
    )


async def loan_in_conn(conn: Connection, loan_id: int) -> LoanView | None:
    """The loan read through an open transaction's connection (for messages queued in it)."""
    row = await book_store.loan_in_conn(conn, loan_id)
    if row is None:
        return None
    return _view(row, await book_store.installments_in_conn(conn, loan_id))


async def loan_headers_in_conn(conn: Connection, loan_ids: list[int]) -> dict[int, LoanView]:
    """Several loans in one query, by id, WITHOUT their installments (`installments` is empty,
    so totals such as `outstanding` are not meaningful): for batch work whose messages name
    the loan and one installment read separately, such as a day's reminders."""
    if not loan_ids:
        return {}
    return {row["id"]: _view(row, []) for row in await book_store.loans_by_ids(conn, loan_ids)}


# --- what the borrower is sent -----------------------------------------------------------


def schedule_rows(loan: LoanView, *, remaining_only: bool, limit: int = SCHEDULE_LINES) -> dict:
    """The template values for a schedule listing: the rows shown and how many are left out."""
    rows = loan.open_installments if remaining_only else loan.installments
    return {"rows": rows[:limit], "more": max(0, len(rows) - limit)}


def schedule_picture(loan: LoanView, locale: str) -> bytes | None:
    """The schedule as a PNG, drawn by services.charts; None if it cannot be drawn."""
    try:
        return charts.schedule_chart(
            loan.installments,  # type: ignore[arg-type]
            loan.principal,
            locale,
            loan.balloon_amount,
        )
    except Exception:
        log.exception("schedule chart for loan %s failed", loan.id)
        return None


def chart_for_send(runtime: Runtime) -> outbox.RowRenderer:
    """The outbox renderer of the welcome's schedule picture (CHART_RENDERER), drawn when
    it leaves: not inside the transaction that books the loan (a chart is ~2 ms, and a
    write transaction holds up every chat), nor kept in the outbox as 20 kB of base64 per
    loan of an import. None (nothing to send) if the loan is gone or cannot be drawn."""

    async def render(conn: Connection, argument: str) -> dict[str, Any] | None:
        loan = await loan_in_conn(conn, int(argument)) if argument.isdigit() else None
        picture = schedule_picture(loan, loan.locale) if loan is not None else None
        if loan is None or picture is None:
            return None
        return {
            "photo": outbox.file_field(picture, f"schedule-{loan.id}.png"),
            "caption": runtime.renderer.render(loan.locale, "loan_chart_caption", loan=loan),
        }

    return render


def borrower_buttons(runtime: Runtime, locale: str, loan: LoanView, installment_id: int | None):
    """I've paid / Schedule / Contact my manager, as outbox JSON."""
    from services.callbacks import pack

    label = runtime.renderer.label
    rows = []
    if installment_id is not None:
        rows.append([(label(locale, "loans_paid_button"), pack("lpaid", installment_id))])
    rows.append(
        [
            (label(locale, "loans_schedule_button"), pack("lsched", loan.id)),
            (label(locale, "loans_contact_button"), pack("lmgr", loan.id)),
        ]
    )
    return inline_keyboard(rows)


async def queue_welcome(conn: Connection, runtime: Runtime, loan_id: int) -> None:
    """The borrower's welcome: terms, APR, first installments, how reminders work; the chart."""
    loan = await loan_in_conn(conn, loan_id)
    assert loan is not None
    locale = loan.locale
    now = runtime.clock.now()
    text = runtime.renderer.render(
        locale,
        "loan_welcome",
        loan=loan,
        reminders=runtime.policy.reminders,
        repricing=runtime.policy.rates.repricing,  # said to a floating-rate borrower
        **schedule_rows(loan, remaining_only=False),
    )
    await outbox.enqueue(
        conn,
        chat_id=loan.user_id,
        method="sendMessage",
        payload={
            "text": text,
            "parse_mode": "HTML",
            "reply_markup": borrower_buttons(runtime, locale, loan, None),
        },
        now=now,
        dedup_key=f"loan-welcome:{loan.id}",
    )
    await outbox.enqueue(
        conn,
        chat_id=loan.user_id,
        method="sendPhoto",
        payload={"parse_mode": "HTML"},
        now=now,
        dedup_key=f"loan-chart:{loan.id}",
        render=f"{CHART_RENDERER}:{loan.id}",
    )


# --- the book as a whole -----------------------------------------------------------------

BUCKETS = (("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))


@dataclass(frozen=True)
class OverdueBucket:
    name: str
    loans: int
    amount: Decimal


async def overdue_buckets(runtime: Runtime, today: date | None = None) -> list[OverdueBucket]:
    """Active loans by days past due of their oldest unpaid installment (1-30 ... 90+),
    with the overdue amount (unpaid parts of installments already due) in each bucket.

    For /stats. Reads only unpaid installments due before today (the partial index).
    """
    today = today or runtime.local_now().date()
    with runtime.db.offloaded():  # every loan in arrears: off the chats' thread
        rows = await book_store.arrears_by_loan(runtime.db, today)
    counts = {name: 0 for name, _, _ in BUCKETS}
    amounts = {name: ZERO for name, _, _ in BUCKETS}
    for row in rows:
        days = (today - row["oldest"]).days
        owed = row["owed"]
        for name, low, high in BUCKETS:
            if days >= low and (high is None or days <= high):
                counts[name] += 1
                amounts[name] += owed
                break
    return [OverdueBucket(name, counts[name], amounts[name]) for name, _, _ in BUCKETS]


async def borrower_name(conn: Connection, user_id: int) -> str:
    """The borrower's name from their latest application, else their Telegram first name."""
    return await book_store.borrower_name(conn, user_id) or f"#{user_id}"


async def request_contact(runtime: Runtime, user_id: int, loan_id: int) -> LoanView | None:
    """The borrower's "Contact my manager": tell the loan's manager (or the managers' group). At most one
    request per loan per local day reaches them, however often the button is pressed."""
    loan = await get_loan(runtime, loan_id)
    if loan is None or loan.user_id != user_id:
        return None
    target = loan.manager_id or runtime.manager_chat_id
    if target is None:
        return loan
    today = runtime.local_now().date().isoformat()
    async with runtime.db.transaction() as conn:
        locale = await managers.locale_of_user(conn, target, runtime.default_locale)
        text = runtime.renderer.render(
            locale, "loan_contact_request", loan=loan, borrower=await borrower_name(conn, user_id)
        )
        await outbox.enqueue(
            conn,
            chat_id=target,
            method="sendMessage",
            payload={"text": text, "parse_mode": "HTML"},
            now=runtime.clock.now(),
            dedup_key=f"loan-contact:{loan.id}:{today}",
        )
    runtime.wake_outbox()
    return loan

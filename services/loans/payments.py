"""Payments against installments: the borrower's "I've paid", the manager's confirmation,
and payments a manager (or an import) records directly.

"I've paid" is a claim, not money: it moves the installment to 'reported' (reminders wait)
and asks the loan's manager to confirm or reject it. Confirming records a payment of what
was left of that installment. `/paid LOAN N [AMOUNT]` records a payment directly; an amount
below what is left is a partial payment and the rest stays due; more than is left, zero,
negative or finer than a fen is refused with the reason. Every change and the messages it
causes are one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lending.money import CENT, ZERO
from services.callbacks import pack
from services.keyboards import inline_keyboard
from services.loans.book import (
    InstallmentView,
    LoanView,
    Stored,
    borrower_name,
    installment_view,
    loan_in_conn,
)
from services.people import managers
from services.runtime import Runtime
from storage import outbox
from storage.db import Connection
from storage.loans import book as book_store
from storage.loans import payments as payments_store

log = logging.getLogger(__name__)


class PaymentError(ValueError):
    """A payment action that cannot be done; `code` picks the sentence, `params` fill it."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Applied:
    loan_id: int
    n: int
    amount: Decimal
    remaining: Decimal  # of this installment, after the payment
    loan_closed: bool


def check_amount(amount: Decimal, remaining: Decimal) -> None:
    """Raise PaymentError unless `amount` is a payment we can record against `remaining`."""
    if not amount.is_finite() or amount <= 0:
        raise PaymentError("amount_not_positive", amount=amount)
    if amount != amount.quantize(CENT):
        raise PaymentError("amount_precision", amount=amount)
    if amount > remaining:
        raise PaymentError("overpayment", amount=amount, remaining=remaining)


async def may_work_loan(conn: Connection, runtime: Runtime, actor_id: int, loan: LoanView) -> bool:
    """The loan's manager or an admin; any manager when the loan has no manager."""
    if loan.manager_id == actor_id or await managers.is_admin(runtime, actor_id, conn):
        return True
    return loan.manager_id is None and await managers.is_manager(runtime, actor_id, conn)


async def apply_payment(
    conn: Connection,
    runtime: Runtime,
    row: Stored,
    amount: Decimal,
    *,
    source: str,
    recorded_by: int | None,
    paid_on: date,
    reference: str | None = None,
) -> Applied:
    """Record `amount` against one installment (inside the caller's transaction);
    `reference` is the bank's payment reference of an imported payment (unique)."""
    installment = installment_view(row)
    if installment.status == "paid":
        raise PaymentError("already_paid", n=installment.n)
    check_amount(amount, installment.remaining)
    now = runtime.clock.now()
    paid = installment.paid_amount + amount
    full = paid >= installment.payment
    await payments_store.set_paid_amount(
        conn,
        installment.id,
        paid_amount=paid,
        status="paid" if full else "due",
        paid_at=now if full else None,
    )
    await payments_store.insert_payment(
        conn,
        loan_id=row["loan_id"],
        installment_id=installment.id,
        amount=amount,
        recorded_by=recorded_by,
        source=source,
        paid_on=paid_on,
        at=now,
        reference=reference,
    )
    closed = await book_store.close_if_repaid(conn, row["loan_id"]) if full else False
    return Applied(row["loan_id"], installment.n, amount, installment.payment - paid, closed)


# --- the borrower says "I've paid" -----------------------------------------------------------


@dataclass(frozen=True)
class Reported:
    loan_id: int
    n: int
    outcome: str  # 'reported', 'already_reported', 'already_paid'


async def report_paid(runtime: Runtime, user_id: int, installment_id: int) -> Reported:
    """The borrower pressed "I've paid": mark it reported and ask the manager to confirm."""
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        row = await payments_store.installment(conn, installment_id)
        loan = await loan_in_conn(conn, row["loan_id"]) if row is not None else None
        if row is None or loan is None or loan.user_id != user_id:
            raise PaymentError("not_found")
        if row["status"] == "paid":
            return Reported(loan.id, row["n"], "already_paid")
        if row["status"] == "reported":
            return Reported(loan.id, row["n"], "already_reported")
        await payments_store.mark_reported(conn, installment_id, now)
        installment = installment_view(row)
        await _ask_to_confirm(conn, runtime, loan, installment, now.isoformat())
    runtime.wake_outbox()
    return Reported(loan.id, installment.n, "reported")


async def _ask_to_confirm(
    conn: Connection,
    runtime: Runtime,
    loan: LoanView,
    installment: InstallmentView,
    reported_at: str,
) -> None:
    target = loan.manager_id or runtime.manager_chat_id
    if target is None:
        log.warning("loan %s has no manager and no manager chat to confirm a payment", loan.id)
        return
    locale = await managers.locale_of_user(conn, target, runtime.default_locale)
    label = runtime.renderer.label
    text = runtime.renderer.render(
        locale,
        "loan_payment_reported",
        loan=loan,
        installment=installment,
        borrower=await borrower_name(conn, loan.user_id),
    )
    keyboard = inline_keyboard(
        [
            [
                (label(locale, "loans_confirm_button"), pack("lconf", installment.id)),
                (label(locale, "loans_reject_button"), pack("lrej", installment.id)),
            ]
        ]
    )
    await outbox.enqueue(
        conn,
        chat_id=target,
        method="sendMessage",
        payload={"text": text, "parse_mode": "HTML", "reply_markup": keyboard},
        now=runtime.clock.now(),
        dedup_key=f"reported:{installment.id}:{reported_at}",
    )


# --- the manager answers -------------------------------------------------------------------


@dataclass(frozen=True)
class Decided:
    loan_id: int
    n: int
    outcome: str  # 'confirmed', 'rejected'
    amount: Decimal
    loan_closed: bool = False


async def confirm_reported(runtime: Runtime, actor_id: int, installment_id: int) -> Decided:
    """The manager confirms the reported payment: what was left of the installment is paid."""
    async with runtime.db.transaction() as conn:
        row, loan = await _reported(conn, runtime, actor_id, installment_id)
        remaining = installment_view(row).remaining
        applied = await apply_payment(
            conn,
            runtime,
            row,
            remaining,
            source="borrower-confirmed",
            recorded_by=actor_id,
            paid_on=runtime.local_now().date(),
        )
        await _tell_borrower(conn, runtime, loan.id, applied, "loan_payment_confirmed")
    runtime.wake_outbox()
    return Decided(loan.id, row["n"], "confirmed", remaining, applied.loan_closed)


async def reject_reported(runtime: Runtime, actor_id: int, installment_id: int) -> Decided:
    """The manager did not find the money: the installment is due again, reminders resume."""
    async with runtime.db.transaction() as conn:
        row, loan = await _reported(conn, runtime, actor_id, installment_id)
        await payments_store.mark_due_again(conn, installment_id)
        # The key as it always read: the report's time in ISO text, once per report.
        reported_at = row["reported_at"].isoformat() if row["reported_at"] else None
        await _message_borrower(
            conn,
            runtime,
            loan,
            "loan_payment_rejected",
            dedup_key=f"rejected:{installment_id}:{reported_at}",
            installment=installment_view(row),
        )
    runtime.wake_outbox()
    return Decided(loan.id, row["n"], "rejected", ZERO)


async def _reported(
    conn: Connection, runtime: Runtime, actor_id: int, installment_id: int
) -> tuple[Stored, LoanView]:
    row = await payments_store.installment(conn, installment_id)
    loan = await loan_in_conn(conn, row["loan_id"]) if row is not None else None
    if row is None or loan is None:
        raise PaymentError("not_found")
    if not await may_work_loan(conn, runtime, actor_id, loan):
        raise PaymentError("not_allowed", loan=loan.id)
    if row["status"] == "paid":
        raise PaymentError("already_paid", loan=loan.id, n=row["n"])
    if row["status"] != "reported":
        raise PaymentError("not_reported", loan=loan.id, n=row["n"])
    return row, loan


# --- payments recorded directly --------------------------------------------------------------


async def record_payment(
    runtime: Runtime,
    actor_id: int,
    loan_id: int,
    n: int,
    amount: Decimal | None = None,
) -> Applied:
    """`/paid LOAN N [AMOUNT]`: a payment the manager saw arrive (all that is left by default)."""
    async with runtime.db.transaction() as conn:
        loan = await loan_in_conn(conn, loan_id)
        if loan is None:
            raise PaymentError("loan_not_found", loan=loan_id)
        if not await may_work_loan(conn, runtime, actor_id, loan):
            raise PaymentError("not_allowed", loan=loan_id)
        row = await payments_store.installment_of_loan(conn, loan_id, n)
        if row is None:
            raise PaymentError("installment_not_found", loan=loan_id, n=n, term=loan.term_months)
        installment = installment_view(row)
        if installment.status == "paid":
            raise PaymentError("already_paid", loan=loan_id, n=n)
        applied = await apply_payment(
            conn,
            runtime,
            row,
            installment.remaining if amount is None else amount,
            source="manager",
            recorded_by=actor_id,
            paid_on=runtime.local_now().date(),
        )
        await _tell_borrower(conn, runtime, loan_id, applied, "loan_payment_recorded")
    runtime.wake_outbox()
    return applied


async def _tell_borrower(
    conn: Connection, runtime: Runtime, loan_id: int, applied: Applied, template: str
) -> None:
    loan = await loan_in_conn(conn, loan_id)
    assert loan is not None
    payment_id = await payments_store.latest_payment_id(conn, loan_id)
    await _message_borrower(
        conn,
        runtime,
        loan,
        template,
        dedup_key=f"payment:{payment_id}",
        applied=applied,
        next_due=loan.next_due,
    )


async def _message_borrower(
    conn: Connection,
    runtime: Runtime,
    loan: LoanView,
    template: str,
    *,
    dedup_key: str,
    **values: object,
) -> None:
    """One message to the loan's borrower, in their language, queued in the caller's
    transaction; every such template gets the loan and its manager's name."""
    text = runtime.renderer.render(
        loan.locale, template, loan=loan, manager_name=loan.manager_name, **values
    )
    await outbox.enqueue(
        conn,
        chat_id=loan.user_id,
        method="sendMessage",
        payload={"text": text, "parse_mode": "HTML"},
        now=runtime.clock.now(),
        dedup_key=dedup_key,
    )

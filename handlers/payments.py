"""Managers and payments: confirm or reject an "I've paid", and `/paid LOAN N [AMOUNT]`.

The services re-check that whoever acts is the loan's manager or an admin; a refusal or a
bad amount gets one sentence saying what was wrong and what to send instead.
"""

from __future__ import annotations

from typing import cast

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from handlers.context import Context, locale_of, render, runtime_of
from services.applications.parsing import InputError, parse_amount
from services.callbacks import parse_id, pattern, unpack
from services.loans import payments
from services.people import managers

DECISIONS = frozenset({"lconf", "lrej"})


async def record_paid(update: Update, context: Context) -> None:
    """/paid LOAN N [AMOUNT]: record a payment the manager saw arrive."""
    locale = await locale_of(update, context)
    message = cast(Message, update.effective_message)
    runtime = runtime_of(context)
    user = update.effective_user
    assert user is not None
    if not await managers.is_manager(runtime, user.id):
        return  # not a staff command for anyone else; stay silent like an unknown command
    args = context.args or []
    ids = [parse_id(arg) for arg in args[:2]]
    if len(args) not in (2, 3) or None in ids:
        await message.reply_text(
            render(context, locale, "loan_payment_error", code="usage", params={})
        )
        return
    loan_id, n = cast(list[int], ids)
    amount = None
    if len(args) == 3:
        try:
            amount = parse_amount(args[2])
        except InputError:
            await message.reply_text(
                render(
                    context,
                    locale,
                    "loan_payment_error",
                    code="bad_amount",
                    params={"text": args[2][:30]},
                )
            )
            return
    try:
        applied = await payments.record_payment(runtime, user.id, loan_id, n, amount)
    except payments.PaymentError as error:
        await message.reply_text(
            render(context, locale, "loan_payment_error", code=error.code, params=error.params)
        )
        return
    await message.reply_text(
        render(
            context,
            locale,
            "loan_payment_done",
            outcome="recorded",
            loan_id=applied.loan_id,
            n=applied.n,
            amount=applied.amount,
            remaining=applied.remaining,
            closed=applied.loan_closed,
        )
    )


async def decide(update: Update, context: Context) -> None:
    """Confirm payment / Not received, pressed on the manager's "says they paid" message."""
    query = update.callback_query
    assert query is not None
    locale = await locale_of(update, context)
    runtime = runtime_of(context)
    callback = unpack(query.data, actions=DECISIONS)
    installment_id = callback.int_arg() if callback else None
    if callback is None or installment_id is None:
        await query.answer(render(context, locale, "loan_expired"), show_alert=True)
        return
    act = payments.confirm_reported if callback.action == "lconf" else payments.reject_reported
    try:
        decided = await act(runtime, query.from_user.id, installment_id)
    except payments.PaymentError as error:
        text = render(context, locale, "loan_payment_error", code=error.code, params=error.params)
        await query.answer(text[:200], show_alert=True)
        if error.code in ("already_paid", "not_reported"):
            await _close_card(query)  # handled elsewhere (another manager, /paid): no buttons
        return
    await query.answer()
    done = render(
        context,
        locale,
        "loan_payment_done",
        outcome=decided.outcome,
        loan_id=decided.loan_id,
        n=decided.n,
        amount=decided.amount,
        closed=decided.loan_closed,
    )
    message = query.message
    original = message.text_html if isinstance(message, Message) and message.text else ""
    try:
        await query.edit_message_text(f"{original}\n\n{done}" if original else done)
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


async def _close_card(query) -> None:
    try:
        await query.edit_message_reply_markup(None)
    except BadRequest:
        pass  # already without buttons


def register(application: Application) -> None:
    application.add_handler(CommandHandler("paid", record_paid))
    application.add_handler(CallbackQueryHandler(decide, pattern=pattern(*DECISIONS)))

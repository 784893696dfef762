"""The borrower after disbursement: /schedule, /loan, /stop, /resume and the reminder buttons.

Reminders (queued by services.loans.reminders) carry three buttons: "I've paid" (the installment
becomes 'reported' and the manager is asked to confirm), "Schedule" and "Contact my
manager". Every button names a loan or installment id; the service checks it belongs to
whoever pressed it.
"""

from __future__ import annotations

from typing import cast

from telegram import Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from handlers.context import Context, locale_of, render, runtime_of
from services.callbacks import pattern, unpack
from services.loans import book as loans
from services.loans import payments, reminders

BORROWER_ACTIONS = frozenset({"lpaid", "lsched", "lmgr"})


async def _borrower_locale(update: Update, context: Context) -> str:
    """The reader's language (handlers.common notes that they are reachable again)."""
    return await locale_of(update, context)


async def _send_schedule(
    update: Update, context: Context, locale: str, loan: loans.LoanView
) -> None:
    """The remaining installments as text, then the picture of the whole schedule."""
    chat_id = cast(Message, update.effective_message).chat.id
    text = render(
        context,
        locale,
        "loan_schedule",
        loan=loan,
        **loans.schedule_rows(loan, remaining_only=True),
    )
    await context.bot.send_message(chat_id, text)
    picture = loans.schedule_picture(loan, locale)
    if picture is not None and loan.open_installments:
        await context.bot.send_photo(
            chat_id, picture, caption=render(context, locale, "loan_chart_caption", loan=loan)
        )


async def show_schedule(update: Update, context: Context) -> None:
    """/schedule: what is left to pay on each active loan, in text and as a picture."""
    locale = await _borrower_locale(update, context)
    user = update.effective_user
    assert user is not None
    found = await loans.loans_of_user(runtime_of(context), user.id)
    if not found:
        await cast(Message, update.effective_message).reply_text(
            render(context, locale, "loan_none")
        )
        return
    for loan in found:
        await _send_schedule(update, context, locale, loan)


async def show_loan(update: Update, context: Context) -> None:
    """/loan: terms, APR, paid so far and what is left."""
    locale = await _borrower_locale(update, context)
    user = update.effective_user
    assert user is not None
    found = await loans.loans_of_user(runtime_of(context), user.id, active_only=False)
    message = cast(Message, update.effective_message)
    if not found:
        await message.reply_text(render(context, locale, "loan_none"))
        return
    active = [loan for loan in found if loan.status == "active"] or found[-1:]
    for loan in active:
        await message.reply_text(render(context, locale, "loan_summary", loan=loan))


async def stop_reminders(update: Update, context: Context) -> None:
    """/stop: courtesy reminders off; says that overdue notices continue."""
    await _pause_reminders(update, context, paused=True, reply="loan_stopped")


async def resume_reminders(update: Update, context: Context) -> None:
    """/resume: courtesy reminders on again."""
    await _pause_reminders(update, context, paused=False, reply="loan_resumed")


async def _pause_reminders(update: Update, context: Context, *, paused: bool, reply: str) -> None:
    locale = await _borrower_locale(update, context)
    user = update.effective_user
    assert user is not None
    await reminders.set_paused(runtime_of(context), user.id, paused)
    await cast(Message, update.effective_message).reply_text(render(context, locale, reply))


async def on_button(update: Update, context: Context) -> None:
    """I've paid / Schedule / Contact my manager, from a reminder or the welcome."""
    query = update.callback_query
    assert query is not None
    locale = await _borrower_locale(update, context)
    runtime = runtime_of(context)
    callback = unpack(query.data, actions=BORROWER_ACTIONS)
    target = callback.int_arg() if callback else None
    if callback is None or target is None:
        await query.answer(render(context, locale, "loan_expired"), show_alert=True)
        return
    user_id = query.from_user.id
    if callback.action == "lpaid":
        try:
            reported = await payments.report_paid(runtime, user_id, target)
        except payments.PaymentError:
            await query.answer(render(context, locale, "loan_expired"), show_alert=True)
            return
        loan = await loans.get_loan(runtime, reported.loan_id)
        await query.answer()
        await context.bot.send_message(
            user_id,
            render(
                context,
                locale,
                "loan_paid_ack",
                outcome=reported.outcome,
                n=reported.n,
                manager_name=loan.manager_name if loan else None,
            ),
        )
        return
    loan = await loans.get_loan(runtime, target)
    if loan is None or loan.user_id != user_id:
        await query.answer(render(context, locale, "loan_expired"), show_alert=True)
        return
    await query.answer()
    if callback.action == "lsched":
        await _send_schedule(update, context, locale, loan)
    else:
        await loans.request_contact(runtime, user_id, loan.id)
        await context.bot.send_message(
            user_id,
            render(context, locale, "loan_contact", loan=loan, manager_name=loan.manager_name),
        )


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("schedule", show_schedule, filters=private))
    application.add_handler(CommandHandler("loan", show_loan, filters=private))
    application.add_handler(CommandHandler("stop", stop_reminders, filters=private))
    application.add_handler(CommandHandler("resume", resume_reminders, filters=private))
    application.add_handler(CallbackQueryHandler(on_button, pattern=pattern(*BORROWER_ACTIONS)))

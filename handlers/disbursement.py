"""The manager's disbursement dialog: the real terms, prefilled, confirmed, then booked.

Entered from the lead's pipeline button (`pack("disburse", lead_id)`, rendered by the lead
queue). One card shows the terms prefilled from the assessment; each "✏" button asks for
one value in the next message, each "↻" button cycles a choice, "Disburse" books the loan
(services.loans.book.disburse, which re-checks who may do it) and "Cancel" drops the draft.

    REVIEW --✏--> EDIT --valid text--> REVIEW --Disburse--> END
       |  <--invalid text: reason, ask again--'      '--Cancel / /cancel--> END

The draft lives in user_data as plain strings (JSON persistence), so a restart in the
middle keeps it.
"""

from __future__ import annotations

import re
import warnings
from datetime import date
from decimal import Decimal
from typing import cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from handlers.context import Context, label, locale_of, render, runtime_of
from lending.dates import add_months
from lending.schedule import RepaymentMethod
from services.applications.parsing import InputError, parse_amount, parse_count, parse_percent
from services.callbacks import pack, pattern, unpack
from services.leads import checklist
from services.loans import book as loans
from services.people import managers

REVIEW, EDIT = range(2)
DRAFT = "disburse"
TEXT_FIELDS = (
    "principal",
    "annual_rate",
    "term_months",
    "balloon",
    "upfront_fee",
    "first_due_date",
)
METHODS = [m.value for m in RepaymentMethod]


def _draft(context: Context) -> dict | None:
    return cast(dict, context.user_data).get(DRAFT)


def _terms(draft: dict) -> loans.LoanTerms:
    return loans.LoanTerms.from_dict(draft["terms"])


def _price(draft: dict) -> Decimal | None:
    return Decimal(draft["price"]) if draft.get("price") else None


def _card(context: Context, locale: str, draft: dict) -> tuple[str, InlineKeyboardMarkup]:
    runtime = runtime_of(context)
    terms = _terms(draft)
    payment = apr = None
    problem = None
    try:
        loans.validate_terms(terms, runtime.local_now().date())
        schedule = terms.schedule(runtime.local_now().date())
        payment, apr = schedule.monthly_payment, terms.apr(schedule)
    except loans.LoanError as error:
        problem = render(
            context, locale, "loan_disburse_problem", code=error.code, params=error.params
        )
    text = render(
        context,
        locale,
        "loan_disburse_card",
        lead_id=draft["lead_id"],
        borrower=draft.get("borrower"),
        terms=terms,
        balloon_percent=loans.balloon_percent(terms.balloon_amount, _price(draft), terms.principal),
        has_price=bool(draft.get("price")),
        payment=payment,
        apr=apr,
        problem=problem or draft.get("problem"),
    )
    lead_id = draft["lead_id"]

    def button(key: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            label(context, locale, key), callback_data=pack("dsb", action, lead_id)
        )

    rows = [
        [
            button("loans_edit_principal", "principal"),
            button("loans_edit_annual_rate", "annual_rate"),
        ],
        [
            button("loans_edit_rate_type", "rate_type"),
            button("loans_edit_term_months", "term_months"),
        ],
        [button("loans_edit_method", "method")],
    ]
    if terms.method is RepaymentMethod.BALLOON:
        rows[-1].append(button("loans_edit_balloon", "balloon"))
    rows.append(
        [
            button("loans_edit_upfront_fee", "upfront_fee"),
            button("loans_edit_first_due_date", "first_due_date"),
        ]
    )
    rows.append([button("loans_disburse_confirm", "go"), button("loans_disburse_cancel", "cancel")])
    return text, InlineKeyboardMarkup(rows)


async def start(update: Update, context: Context) -> int:
    """The pipeline's Disburse button: load the lead, check who pressed, show the terms."""
    query = update.callback_query
    assert query is not None
    locale = await locale_of(update, context)
    runtime = runtime_of(context)
    callback = unpack(query.data, actions={"disburse"})
    lead_id = callback.int_arg() if callback else None
    lead = await loans.lead_for_disbursal(runtime, lead_id) if lead_id is not None else None
    if lead is None:
        await query.answer(render(context, locale, "loan_expired"), show_alert=True)
        return ConversationHandler.END
    actor = query.from_user.id
    if lead.owner_id != actor and not await managers.is_admin(runtime, actor):
        await query.answer(
            render(context, locale, "loan_disburse_problem", code="not_allowed", params={}),
            show_alert=True,
        )
        return ConversationHandler.END
    if lead.status in ("disbursed", "lost"):
        code = "already_disbursed" if lead.status == "disbursed" else "lead_lost"
        await query.answer(
            render(context, locale, "loan_disburse_problem", code=code, params={}), show_alert=True
        )
        return ConversationHandler.END
    still_open = await checklist.open_steps(runtime.db.conn, lead.lead_id)
    if still_open:
        # Refused before any terms are shown: the steps come first (services/leads/checklist.py).
        await query.answer()
        await context.bot.send_message(
            cast(Message, query.message).chat.id,
            render(
                context, locale, "desk_checklist_blocked", lead_id=lead.lead_id, steps=still_open
            ),
        )
        return ConversationHandler.END
    draft = {
        "lead_id": lead.lead_id,
        "borrower": lead.borrower_name,
        "price": str(lead.car_price) if lead.car_price else None,
        "terms": lead.terms.as_dict(),
        "field": None,
    }
    cast(dict, context.user_data)[DRAFT] = draft
    await query.answer()
    text, keyboard = _card(context, locale, draft)
    message = cast(Message, query.message)
    await context.bot.send_message(message.chat.id, text, reply_markup=keyboard)
    return REVIEW


async def on_button(update: Update, context: Context) -> int:
    """A button on the terms card: ask for a value, cycle a choice, disburse or cancel."""
    query = update.callback_query
    assert query is not None
    locale = await locale_of(update, context)
    runtime = runtime_of(context)
    callback = unpack(query.data, actions={"dsb"})
    draft = _draft(context)
    if callback is None or draft is None or callback.int_arg(1) != draft["lead_id"]:
        await query.answer(render(context, locale, "loan_expired"), show_alert=True)
        return REVIEW if draft else ConversationHandler.END
    action = callback.args[0] if callback.args else ""
    terms = draft["terms"]
    draft.pop("problem", None)
    if action == "cancel":
        cast(dict, context.user_data).pop(DRAFT, None)
        await query.answer()
        await _edit(query, render(context, locale, "loan_disburse_cancelled"))
        return ConversationHandler.END
    if action == "go":
        try:
            done = await loans.disburse(
                runtime, draft["lead_id"], query.from_user.id, _terms(draft)
            )
        except loans.LoanError as error:
            draft["problem"] = render(
                context, locale, "loan_disburse_problem", code=error.code, params=error.params
            )
            await query.answer()
            await _show(query, context, locale, draft)
            return REVIEW
        cast(dict, context.user_data).pop(DRAFT, None)
        await query.answer()
        await _edit(
            query,
            render(
                context,
                locale,
                "loan_disbursed",
                loan_id=done.loan_id,
                lead_id=draft["lead_id"],
                apr=done.apr,
            ),
        )
        return ConversationHandler.END
    if action == "rate_type":
        terms["rate_type"] = "floating" if terms["rate_type"] == "fixed" else "fixed"
    elif action == "method":
        method = METHODS[(METHODS.index(terms["method"]) + 1) % len(METHODS)]
        terms["method"] = method
        if method == RepaymentMethod.BALLOON.value:
            percent = runtime.policy.balloon.default_percent
            amount = loans.balloon_from_percent(percent, _price(draft), Decimal(terms["principal"]))
            terms["balloon_amount"] = str(amount)
        else:
            terms["balloon_amount"] = "0"
    elif action in TEXT_FIELDS:
        draft["field"] = action
        await query.answer()
        # An example the manager could send: a month from today, inside the allowed window.
        example = add_months(runtime.local_now().date(), 1).isoformat()
        await context.bot.send_message(
            cast(Message, query.message).chat.id,
            render(
                context,
                locale,
                "loan_disburse_ask",
                field=action,
                has_price=bool(draft.get("price")),
                example=example,
            ),
        )
        return EDIT
    await query.answer()
    await _show(query, context, locale, draft)
    return REVIEW


async def on_value(update: Update, context: Context) -> int:
    """The value for the field the manager chose; a reason and the same question if bad."""
    message = cast(Message, update.effective_message)
    locale = await locale_of(update, context)
    draft = _draft(context)
    if draft is None or not draft.get("field"):
        return REVIEW if draft else ConversationHandler.END
    field = draft["field"]
    text = message.text or ""
    try:
        _apply(draft, field, text)
    except (InputError, ValueError):
        code = "bad_date" if field == "first_due_date" else "bad_value"
        await message.reply_text(
            render(context, locale, "loan_disburse_problem", code=code, params={"text": text[:40]})
        )
        return EDIT
    draft["field"] = None
    card, keyboard = _card(context, locale, draft)
    await message.reply_text(card, reply_markup=keyboard)
    return REVIEW


def _apply(draft: dict, field: str, text: str) -> None:
    """Set one term from what the manager typed; raises InputError/ValueError when it is not one."""
    terms = draft["terms"]
    if field in ("principal", "upfront_fee"):
        terms[field] = str(parse_amount(text))
    elif field == "annual_rate":
        terms[field] = str(parse_percent(text))
    elif field == "term_months":
        terms[field] = str(parse_count(text))
    elif field == "balloon":
        percent = parse_percent(text)
        terms["balloon_amount"] = str(
            loans.balloon_from_percent(percent, _price(draft), Decimal(terms["principal"]))
        )
    elif field == "first_due_date":
        cleaned = text.strip()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", cleaned):
            raise ValueError(cleaned)
        terms[field] = date.fromisoformat(cleaned).isoformat()
    if field == "principal" and terms["method"] != RepaymentMethod.BALLOON.value:
        terms["balloon_amount"] = "0"


async def cancel(update: Update, context: Context) -> int:
    """/cancel inside the dialog: drop the draft, book nothing."""
    locale = await locale_of(update, context)
    cast(dict, context.user_data).pop(DRAFT, None)
    await cast(Message, update.effective_message).reply_text(
        render(context, locale, "loan_disburse_cancelled")
    )
    return ConversationHandler.END


async def expired(update: Update, context: Context) -> None:
    """A terms-card button from a dialog that is over (done, cancelled, or another release)."""
    query = update.callback_query
    assert query is not None
    locale = await locale_of(update, context)
    await query.answer(render(context, locale, "loan_expired"), show_alert=True)


async def _show(query, context: Context, locale: str, draft: dict) -> None:
    text, keyboard = _card(context, locale, draft)
    await _edit(query, text, keyboard)


async def _edit(query, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    try:
        await query.edit_message_text(text, reply_markup=keyboard)
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


def register(application: Application) -> None:
    # A chat-per-user dialog: per_message=False is intended, so its warning is silenced here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
        dialog = ConversationHandler(
            entry_points=[CallbackQueryHandler(start, pattern=pattern("disburse"))],
            states={
                REVIEW: [CallbackQueryHandler(on_button, pattern=pattern("dsb"))],
                EDIT: [
                    MessageHandler(filters.TEXT & ~filters.COMMAND, on_value),
                    CallbackQueryHandler(on_button, pattern=pattern("dsb")),
                ],
            },
            fallbacks=[CommandHandler("cancel", cancel)],
            name="disbursement",
            persistent=True,
            allow_reentry=True,
        )
    application.add_handler(dialog)
    application.add_handler(CallbackQueryHandler(expired, pattern=pattern("dsb")))

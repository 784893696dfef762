"""python-telegram-bot handlers, grouped by audience. `register_all` wires them in order."""

from __future__ import annotations

from telegram.ext import Application


def register_all(application: Application) -> None:
    """Register every audience's handlers; order matters where commands overlap."""
    from handlers import (
        audience,
        borrower,
        common,
        desk,
        disbursement,
        managers,
        payments,
        prequalify,
        privacy,
        sources,
    )

    audience.register(application)
    common.register(application)
    # /mydata and /forget answer in group -10, before any conversation sees them.
    privacy.register(application)
    # The disbursement dialog before other conversations: while a manager is typing a
    # term, their text belongs to it.
    disbursement.register(application)
    borrower.register(application)
    payments.register(application)
    managers.register(application)
    # Lead sources: its /start recorder runs in its own group before every conversation.
    sources.register(application)
    desk.register(application)  # /whatif; its document handler has its own group
    # Last: its standalone /cancel, photo and result handlers must not shadow the other
    # dialogs' own (a conversation in progress still takes its updates first).
    prequalify.register(application)

"""python-telegram-bot handlers, grouped by audience. `register_all` wires them in order."""

from __future__ import annotations

from telegram.ext import Application


def register_all(application: Application) -> None:
    """Register every audience's handlers; order matters where commands overlap."""
    from handlers import common, managers

    common.register(application)
    managers.register(application)

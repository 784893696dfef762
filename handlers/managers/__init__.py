"""The loan managers' side: lead cards and claims, the pipeline, commands, the hand-off relay.

Registration order matters in one place: the relay and the typed "lost" reason look at
private messages before the buyer's conversation does (group -2), and step aside (return
without stopping) when the message is not theirs.
"""

from __future__ import annotations

from telegram.ext import Application


def register(application: Application) -> None:
    from handlers.managers import cards, checklist, commands, menu, pipeline, relay

    menu.register(application)
    relay.register(application)
    pipeline.register(application)
    checklist.register(application)
    cards.register(application)
    commands.register(application)

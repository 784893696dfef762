"""The loan managers' side: lead cards and claims, the pipeline, commands, the hand-off relay.

Registration order matters in one place: the relay and the typed "lost" reason look at
private messages before the buyer's conversation does (group -2), and step aside (return
without stopping) when the message is not theirs.
"""

from __future__ import annotations

from telegram.ext import Application

from services import lead_cards, lead_relay


def register(application: Application) -> None:
    from handlers.managers import cards, checklist, commands, pipeline, relay

    sender = getattr(application, "outbox", None)
    if sender is not None:
        sender.hooks["lead_card"] = lead_cards.on_card_sent
        sender.hooks["lead_digest"] = lead_cards.on_digest_sent
        sender.hooks["lead_relay"] = lead_relay.on_relay_sent
        runtime = application.bot_data["runtime"]
        sender.renderers[lead_cards.DIGEST_RENDERER] = lead_cards.digest_for_send(runtime)
    relay.register(application)
    pipeline.register(application)
    checklist.register(application)
    cards.register(application)
    commands.register(application)

"""Reaching Telegram at start-up: getMe until it answers, with backoff, one line a try.

A bot started while the network (or the proxy, TELEGRAM_PROXY_URL) is down should wait
for it, saying so, instead of dying with python-telegram-bot's traceback. A token that
Telegram refuses is not a network problem: it stops at once with one line.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, RetryAfter
from telegram.request import HTTPXRequest

from bot.config import ConfigError, Settings
from bot.logs import redact

FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 60.0


async def wait_for_telegram(
    settings: Settings,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    out: TextIO | None = None,
    request: HTTPXRequest | None = None,
) -> None:
    """Return once Telegram answers getMe; until then retry (1 s, 2 s, 4 s ... 60 s)."""
    out = out or sys.stderr
    bot = Bot(
        settings.token,
        base_url=settings.telegram_api_base_url,
        request=request or HTTPXRequest(proxy=settings.telegram_proxy_url, connect_timeout=10),
    )
    delay, attempt = FIRST_DELAY_SECONDS, 0
    try:
        while True:
            attempt += 1
            try:
                await bot.initialize()  # getMe
                return
            except InvalidToken:
                raise ConfigError(
                    "TELEGRAM_BOT_TOKEN: Telegram refused this token; copy it again from"
                    " @BotFather (or TELEGRAM_API_BASE_URL is not a Bot API endpoint)"
                ) from None
            except RetryAfter as error:
                asked = error.retry_after
                seconds = asked if isinstance(asked, int) else asked.total_seconds()
                wait, reason = max(float(seconds), delay), "Telegram asks to wait"
            except NetworkError as error:
                wait, reason = delay, redact(str(error), [settings.token])
            via = " through TELEGRAM_PROXY_URL" if settings.telegram_proxy_url else ""
            print(
                f"Telegram unreachable{via} (attempt {attempt}): {reason}; retrying in {wait:g} s",
                file=out,
                flush=True,
            )
            await sleep(wait)
            delay = min(delay * 2, MAX_DELAY_SECONDS)
    finally:
        await bot.shutdown()

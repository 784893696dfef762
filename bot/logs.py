"""Logging set-up: our messages at the configured level, library chatter kept quiet, and
personal data and the bot token redacted from every record before any handler writes it.

httpx logs every request URL at INFO, and a Bot API URL contains the token: keep it at
WARNING so the token never reaches a log. That is not enough on its own (a DEBUG level,
an exception that quotes a URL, a handler that logs an update), so `RedactingFilter`
rewrites each record's message, arguments and exception text on the way out.

What is redacted (over-redaction is accepted; a log that leaks is not):
- the configured bot token, and anything shaped like a Bot API token or a /bot<token>/ URL;
- mainland mobile numbers (with or without +86, spaces or dashes) and international
  numbers written with a leading +;
- resident ID-card numbers (18 characters, the last may be X; the old 15-digit form);
- money: amounts with a currency mark (¥, CNY, RMB, 元, 万, w, k), thousands-separated
  numbers, decimals with two places; but not inside a file path (`/…/versions/3.11.7/lib`)
  nor in a version number (`3.11.7`, `v1.25`, `Python 3.12`), which say where an error came
  from (phones, ID numbers and the token are hidden there too);
- free text from people: everything after `text=` / `caption=` / `name=` / `phone=` and the
  values of such keys in dict or JSON dumps of updates and payloads.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO

REDACTED = "<redacted>"

# Keys whose values are what people typed or who they are. Matched in `key=value` text
# (the value runs to the end of the line: a message text may contain anything) and in
# dict/JSON dumps (`'text': '...'`, `"first_name": "..."`).
_PERSONAL_KEYS = (
    "text|caption|first_name|last_name|full_name|name|username|phone|phone_number"
    "|income|monthly_income|debts|credit_history|answers|question|data"
)
_KEY_VALUE = re.compile(rf"\b(?P<key>{_PERSONAL_KEYS})=(?P<value>[^\n]*)", re.IGNORECASE)
_QUOTED_VALUE = re.compile(
    rf"""(?P<key>(?P<q>['"])(?:{_PERSONAL_KEYS})(?P=q)\s*:\s*)"""
    r"""(?:(?P<v>['"])(?:\\.|(?!(?P=v)).)*(?P=v)|-?[\d.]+)""",
    re.IGNORECASE | re.DOTALL,
)
# In a URL, whatever follows /bot up to the method's slash, or anything with a token's
# colon (id:secret); a file such as data/bot.db.lock is left alone.
_BOT_URL = re.compile(r"/bot(?:[^/\s'\"]+(?=/)|[^/\s'\"]*:[^/\s'\"]*)")
# A file path in a traceback or a message: /x/y, ./x, ~/x or C:\x, up to a space, a quote
# or a URL query (its values are redacted like any text).
_PATH = re.compile(r"""((?<![\w/\\])(?:[A-Za-z]:\\|~/|\.{1,2}/|/)[^\s'"<>?=&]+)""")
_TOKEN = re.compile(r"\b\d{5,12}:[A-Za-z0-9_-]{20,}")
_ID_CARD = re.compile(r"(?<![\dA-Za-z])(?:\d{17}[\dXx]|\d{15})(?![\dA-Za-z])")
_MAINLAND_PHONE = re.compile(r"(?<![\d+])(?:(?:\+|00)86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)")
_INTERNATIONAL_PHONE = re.compile(r"(?<![\w+])\+\d[\d\s().-]{5,18}\d(?!\d)")
_MONEY = re.compile(
    r"(?:[¥￥$]\s?|\b(?:CNY|RMB|USD)\s?)-?\d[\d,]*(?:\.\d+)?"  # ¥200000, CNY 1,234.50
    r"|-?\d[\d,]*(?:\.\d+)?\s?(?:元|万|w\b|W\b|k\b|K\b|块)"  # 20万, 200k, 3000元
    r"|\b\d{1,3}(?:,\d{3})+(?:\.\d+)?\b"  # 200,000
    r"|(?<![\d.])(?<![vV])(?<!python )(?<!version )\b\d+\.\d{2}\b(?!\.\d)"  # 4321.09, not 3.11.7
    r"|Decimal\('[^']*'\)",
    re.IGNORECASE,
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """The text with secrets and personal data replaced by placeholders."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<token>")
    text = _BOT_URL.sub("/bot<token>", text)
    text = _TOKEN.sub("<token>", text)
    text = _KEY_VALUE.sub(lambda m: f"{m['key']}={REDACTED}", text)
    text = _QUOTED_VALUE.sub(lambda m: f"{m['key']}'{REDACTED}'", text)
    text = _ID_CARD.sub("<id-card>", text)
    text = _MAINLAND_PHONE.sub("<phone>", text)
    text = _INTERNATIONAL_PHONE.sub("<phone>", text)
    # Amounts outside file paths only: a path's digits are versions and dates, not money.
    return "".join(
        part if _PATH.fullmatch(part) else _MONEY.sub("<amount>", part)
        for part in _PATH.split(text)
    )


class RedactingFilter(logging.Filter):
    """Rewrites a record so no handler sees personal data or the token.

    The message is formatted with its arguments first (an argument may be a phone number
    or a whole update), then redacted, and the arguments dropped. Exception text is
    formatted and redacted here too: a handler's Formatter reuses `record.exc_text`.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message, self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
            # Keep exc_info for tools that inspect it, but the text a handler prints is the
            # redacted one (Formatter.format only formats exc_info when exc_text is empty).
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def configure_logging(
    level: str = "INFO", *, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> RedactingFilter:
    """Log to `stream` (stderr) through the redacting filter; returns the filter.

    The filter sits on the handlers, not the root logger: a logger's filters do not see
    records that propagate up from child loggers, a handler's filters see all of them.
    Handlers already on the root logger (a test runner's) get it too.
    """
    redacting = RedactingFilter(secrets)
    root = logging.getLogger()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for old in [h for h in root.handlers if getattr(h, "_autoloan", False)]:
        root.removeHandler(old)
    handler._autoloan = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for existing in root.handlers:
        for old_filter in [f for f in existing.filters if isinstance(f, RedactingFilter)]:
            existing.removeFilter(old_filter)
        existing.addFilter(redacting)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return redacting

"""Ids from outside: callback data for inline buttons (short, versioned, never trusted)
and record numbers typed after a command.

`pack("claim", 42)` gives "v1:claim:42". A button from an older release (another version
prefix), a forged payload or an unknown action unpacks to None, and the handler answers
"this button has expired". Whatever the payload says, the handler re-checks who pressed
it and whether the action is still allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

VERSION = "v1"
MAX_BYTES = 64  # Telegram's limit for callback_data


@dataclass(frozen=True)
class Callback:
    action: str
    args: tuple[str, ...]

    def int_arg(self, index: int = 0) -> int | None:
        """The index-th argument as a whole number from 0 (ids, offer positions); None when
        missing or not one (a forged "9" * 30 must not reach SQLite as an overflow)."""
        if index >= len(self.args):
            return None
        text = self.args[index]
        if text == "0":
            return 0
        return parse_id(text) if not text.startswith("#") else None


def pack(action: str, *args: object) -> str:
    parts = [VERSION, action, *(str(arg) for arg in args)]
    if any(":" in part for part in parts[1:]):
        raise ValueError("callback parts may not contain ':'")
    data = ":".join(parts)
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def unpack(
    data: str | None, *, actions: frozenset[str] | set[str] | None = None
) -> Callback | None:
    """The callback, or None when it is not ours, not this version, or not an action we know."""
    if not data:
        return None
    version, _, rest = data.partition(":")
    if version != VERSION or not rest:
        return None
    action, *args = rest.split(":")
    if actions is not None and action not in actions:
        return None
    return Callback(action, tuple(args))


def pattern(*actions: str) -> str:
    """A regex for CallbackQueryHandler that matches these actions of this version."""
    return rf"^{VERSION}:({'|'.join(actions)})(:|$)"


MAX_ID = 2**63 - 1  # SQLite's INTEGER, and Telegram's ids fit well inside it


def parse_id(text: str) -> int | None:
    """A record number or Telegram id typed after a command ("42", "#42"), or None.

    Only ASCII digits count: `str.isdigit()` also accepts "²" and other digits `int()`
    refuses, and a number past SQLite's INTEGER must not reach a query.
    """
    text = text.strip().removeprefix("#")
    if not text or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None

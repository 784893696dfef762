"""Where leads come from: named sources, deep links with a QR code, and stats by source.

Managers find buyers at car shows, dealership events and online campaigns. Each gets a
named source whose code is the deep-link start parameter (`https://t.me/<bot>?start=<code>`).
A buyer who arrives through one has it recorded as first touch (kept for good) and latest
touch; a lead copies both from its buyer when it opens (a trigger in 0006). Anything that
is not a known source's code - malformed, forged, an old campaign - is recorded as
"unknown", never refused: the buyer must get the same welcome whatever link they used.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

import segno

from services.runtime import Runtime
from storage.leads import sources as sources_db

UNKNOWN = "unknown"
DIRECT = "direct"  # shown for people who never came through a deep link
MAX_NAME = 64
MAX_CODE = 32  # well inside Telegram's 64-character start parameter
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what Telegram allows in a start parameter
_RESERVED = frozenset({UNKNOWN, DIRECT})
# Telegram's rules for a bot's username: 5-32 characters of Latin letters, digits and
# underscores, starting with a letter and ending in "bot".
_BOT_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{1,28}bot$", re.IGNORECASE)
_HAN = re.compile(r"([\u3400-\u9fff\uf900-\ufaff]+)")
QR_MIN_PIXELS = 1000  # wide enough to print a stand's poster sharp


class SourceError(ValueError):
    """A source name that cannot be used: `code` says why (templates word it per locale)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Source:
    code: str
    name: str
    created: bool = False  # False when the name already existed (adding is idempotent)

    def link(self, bot_username: str) -> str:
        return deep_link(bot_username, self.code)


@dataclass(frozen=True)
class SourceStats:
    """One row of /stats by source: leads opened in the period, by their first touch."""

    code: str
    name: str
    people: int  # users whose first touch is this source (all time)
    leads: int
    prequalified: int
    disbursed: int

    @property
    def conversion(self) -> float | None:
        """Disbursed as a percent of the leads."""
        return round(100 * self.disbursed / self.leads, 1) if self.leads else None


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start={code}"


def bot_username(text: str) -> str:
    """A bot's username as t.me links need it (without @), checked by Telegram's rules."""
    name = text.strip().removeprefix("@")
    if not _BOT_USERNAME.match(name):
        raise SourceError(
            "bad_username",
            f"{text!r} is not a bot's username: 5-32 letters, digits or _, starting with a"
            " letter and ending in bot, like AutoLoanBot",
        )
    return name


def check_code(code: str) -> str:
    """A start parameter a person chose (`--slug`): Telegram's alphabet, not one of ours."""
    if not _CODE.match(code):
        raise SourceError(
            "bad_code", f"{code!r}: use 1-64 characters of A-Z, a-z, 0-9, _ and -, like sh_2026"
        )
    if code in _RESERVED:
        raise SourceError("bad_code", f"{code!r} is reserved; choose another")
    return code


def _qr(link: str) -> segno.QRCode:
    # Medium error correction survives a creased print.
    return segno.make(link, error="m", micro=False)


def qr_png(link: str, min_pixels: int = QR_MIN_PIXELS) -> bytes:
    """The link as a QR code picture at least `min_pixels` wide, for print."""
    code = _qr(link)
    scale = -(-min_pixels // code.symbol_size(scale=1, border=4)[0])
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(link: str) -> bytes:
    """The link as a QR code drawing, sharp at any print size."""
    buffer = io.BytesIO()
    _qr(link).save(buffer, kind="svg", scale=10, border=4, xmldecl=True)
    return buffer.getvalue()


def clean_name(name: str) -> str:
    """The name as stored: trimmed, inner whitespace collapsed, no control characters."""
    text = " ".join(str(name).split())
    if not text:
        raise SourceError("empty", "the source needs a name, for example: Shanghai Auto Show 2026")
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise SourceError("control", "the source name may not contain control characters")
    if len(text) > MAX_NAME:
        raise SourceError("too_long", f"the source name is too long: at most {MAX_NAME} characters")
    return text


def _slug(name: str) -> str:
    """A readable code from the name: Chinese as pinyin (上海车展 2026 -> shanghaichezhan_2026),
    accents dropped, words joined by _."""
    from pypinyin import lazy_pinyin  # its dictionaries take ~1 s to load: only when needed

    spelled = "".join(
        " " + "".join(lazy_pinyin(part)) + " " if _HAN.fullmatch(part) else part
        for part in _HAN.split(name)
    )
    ascii_name = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", ascii_name.lower())
    return "_".join(words)[:MAX_CODE].strip("_")


def classify(payload: str | None) -> str | None:
    """A start parameter as it will be recorded, before the lookup: None for no parameter,
    'unknown' for a malformed one, else the candidate code."""
    if payload is None or not payload.strip():
        return None
    text = payload.strip()
    if not _CODE.match(text):
        return UNKNOWN
    return text


async def create_source(
    runtime: Runtime, name: str, created_by: int | None = None, *, code: str | None = None
) -> Source:
    """Add a named source (or return the existing one of that name) with a fresh code, or
    with `code` when the person chose one (refused when another source has it)."""
    name = clean_name(name)
    wanted = None if code is None else check_code(code)
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        row = await sources_db.source_by_name(conn, name)
        if row is not None:
            if wanted is not None and wanted != row["code"]:
                raise SourceError(
                    "name_taken", f"{name!r} already exists with the code {row['code']!r}"
                )
            return Source(row["code"], row["name"], created=False)
        if wanted is not None and await sources_db.code_taken(conn, wanted):
            raise SourceError("code_taken", f"{wanted!r} is already another source's code")
        base = wanted or _slug(name) or "src"
        code = base
        suffix = 1
        while code in _RESERVED or await sources_db.code_taken(conn, code):
            suffix += 1
            code = f"{base[: MAX_CODE - len(str(suffix)) - 1]}_{suffix}"
        await sources_db.insert_source(
            conn, code=code, name=name, created_by=created_by, created_at=now
        )
    return Source(code, name, created=True)


async def list_sources(runtime: Runtime) -> list[Source]:
    rows = await sources_db.all_sources(runtime.db)
    return [Source(r["code"], r["name"]) for r in rows]


async def record_touch(runtime: Runtime, user_id: int, payload: str | None) -> str | None:
    """Record a /start's deep-link parameter on the user and their open leads.

    Returns what was recorded: a source code, 'unknown', or None (a plain /start, which
    changes nothing). The user row must exist. Never raises for any payload.
    """
    code = classify(payload)
    if code is None:
        return None
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        if code != UNKNOWN and not await sources_db.code_taken(conn, code):
            code = UNKNOWN
        await sources_db.record_user_touch(conn, user_id=user_id, code=code, at=now)
        # A lead already in the pipeline learns the latest touch too (first stays as it was).
        await sources_db.record_open_leads_touch(conn, user_id=user_id, code=code)
    return code


async def source_name(runtime: Runtime, code: str | None) -> str:
    """A code as people read it: the source's name, or 'unknown' / 'direct'."""
    if code is None:
        return DIRECT
    if code == UNKNOWN:
        return UNKNOWN
    name = await sources_db.source_name(runtime.db, code)
    return str(name) if name is not None else code


async def lead_sources(runtime: Runtime, lead_id: int) -> tuple[str, str] | None:
    """(first, latest) source names of a lead, None when the lead does not exist."""
    row = await sources_db.lead_source_codes(runtime.db, lead_id)
    if row is None:
        return None
    return (
        await source_name(runtime, row["first_source"]),
        await source_name(runtime, row["latest_source"] or row["first_source"]),
    )


async def stats_by_source(runtime: Runtime, days: int) -> list[SourceStats]:
    """Leads opened in the last `days` days by first-touch source, busiest first.

    Every named source appears even with no leads yet (a fresh campaign shows zeros), then
    'unknown' and 'direct' when they have any.
    """
    since = runtime.clock.now() - timedelta(days=days)
    rows = await sources_db.leads_by_first_source(runtime.db, since=since, no_source=DIRECT)
    people_rows = await sources_db.people_by_first_source(runtime.db, no_source=DIRECT)
    people = {r["code"]: int(r["people"]) for r in people_rows}
    by_code = {r["code"]: r for r in rows}
    names = {s.code: s.name for s in await list_sources(runtime)}
    out: list[SourceStats] = []
    for code in [*names, *(c for c in by_code if c not in names)]:
        row = by_code.get(code)
        if row is None and code not in names:
            continue
        out.append(
            SourceStats(
                code=code,
                name=names.get(code, code),
                people=people.get(code, 0) if code != DIRECT else 0,
                leads=int(row["leads"]) if row else 0,
                prequalified=int(row["prequalified"] or 0) if row else 0,
                disbursed=int(row["disbursed"] or 0) if row else 0,
            )
        )
    out.sort(key=lambda s: (-s.leads, s.code in _RESERVED, s.name))
    return out

"""What people type, turned into numbers and phone numbers, with a reason when it cannot be.

Prospects type amounts the way they speak: `150000`, `150,000`, `15万`, `15w`, `150k`,
`¥150000`, `150000元`, or with full-width digits from a Chinese keyboard (`１５０００`).
Every parser here either returns a clean value or raises `InputError` whose `code` names
what was wrong (`scientific`, `negative`, `not_a_number`...). Handlers turn the code into a
sentence in the reader's language with an example; nothing here knows about Telegram.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from services.applications.spoken import (
    clean,
    digits,
    drop_hedges,
    drop_per_month,
    is_nothing,
    read_duration,
    whole,
)

# The largest amount anyone could mean in a car-loan chat: a billion yuan. Anything above is
# a typo, and keeping Decimal digits bounded keeps the arithmetic fast and exact.
AMOUNT_CEILING = Decimal(1_000_000_000)
CENT = Decimal("0.01")

_MULTIPLIERS = {"万": 10_000, "w": 10_000, "千": 1_000, "k": 1_000}
_CURRENCY_PREFIXES = ("rmb", "cny", "¥", "$")
_CURRENCY_SUFFIXES = ("人民币", "rmb", "cny", "yuan", "元", "块", "圆")
_PLAIN = re.compile(r"^\d+(\.\d+)?$")
_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_SCIENTIFIC = re.compile(r"^[+-]?\d*\.?\d+e[+-]?\d+$")
_HEX = re.compile(r"^[+-]?0[xob][0-9a-f_]+$")
_INFINITE = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "∞", "+∞", "-∞", "无穷"}
_NAN = {"nan", "+nan", "-nan", "snan"}


@dataclass
class InputError(ValueError):
    """Bad input; `code` picks the sentence shown, `params` fill its placeholders."""

    code: str
    params: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.code


def normalize(text: str) -> str:
    """Full-width to half-width (NFKC), lower case, no spaces: `１５，０００` -> `15,000`."""
    text = unicodedata.normalize("NFKC", text or "")
    # NFKC leaves the ideographic full stop and comma alone; people use them as separators.
    text = text.replace("。", ".").replace("、", ",").replace("，", ",")
    return re.sub(r"\s+", "", text).lower()


def _strip_currency(text: str) -> str:
    for prefix in _CURRENCY_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    for suffix in _CURRENCY_SUFFIXES:
        if text.endswith(suffix):
            text = text[: -len(suffix)]
            break
    return text


def _reject_special(text: str) -> None:
    """The numbers a float parser would accept and no person means as money."""
    if text in _NAN:
        raise InputError("nan")
    if text in _INFINITE:
        raise InputError("infinite")
    if _HEX.match(text):
        raise InputError("not_decimal")
    if _SCIENTIFIC.match(text):
        raise InputError("scientific")
    if text.startswith("-") and len(text) > 1:
        raise InputError("negative")


def _decimal(digits: str) -> Decimal:
    if _GROUPED.match(digits):
        digits = digits.replace(",", "")
    elif "," in digits:
        raise InputError("bad_grouping")
    if not _PLAIN.match(digits):
        raise InputError("not_a_number")
    try:
        return Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        raise InputError("not_a_number") from None


def parse_amount(text: str) -> Decimal:
    """An amount of yuan, to the fen: `15万` -> 150000, `¥1,200.5` -> 1200.50."""
    cleaned = normalize(text)
    if not cleaned:
        raise InputError("empty")
    _reject_special(cleaned)
    cleaned = cleaned.lstrip("+")
    cleaned = _strip_currency(cleaned)
    multiplier = 1
    if cleaned and cleaned[-1] in _MULTIPLIERS:
        multiplier = _MULTIPLIERS[cleaned[-1]]
        cleaned = cleaned[:-1]
    cleaned = _strip_currency(cleaned)  # "¥15万", "15万元" both work
    _reject_special(cleaned)
    if not cleaned:
        raise InputError("not_a_number")
    if "%" in cleaned:
        raise InputError("percent_not_amount")
    value = _decimal(cleaned)
    if value.as_tuple().exponent < -6:  # type: ignore[operator]
        raise InputError("too_precise")
    value = value * multiplier
    if value > AMOUNT_CEILING:
        raise InputError("too_large")
    if value != value.quantize(CENT):
        raise InputError("too_precise")
    return value.quantize(CENT)


@dataclass(frozen=True)
class DownPayment:
    """A down payment as the prospect gave it: an amount, or a percent of the price."""

    amount: Decimal
    percent: Decimal | None = None


def parse_down_payment(text: str, price: Decimal) -> DownPayment:
    """`30%` or a bare `30` (at most 100) is a percent of the price; otherwise an amount."""
    cleaned = normalize(text)
    if cleaned.endswith("%") or cleaned.endswith("成"):
        percent = parse_percent(cleaned)
        if cleaned.endswith("成"):  # "3成" is 30% in everyday Chinese
            percent = percent * 10
        return DownPayment(_share(price, percent), percent)
    value = parse_amount(cleaned)
    if value <= 100 and not any(mark in cleaned for mark in ("¥", "元", "万", "w", "k", "千")):
        return DownPayment(_share(price, value), value)
    return DownPayment(value)


def _share(price: Decimal, percent: Decimal) -> Decimal:
    if percent > 100:
        raise InputError("percent_over_100")
    return (price * percent / 100).quantize(CENT)


def parse_percent(text: str) -> Decimal:
    """`30%`, `30`, `12.5 %` -> Decimal; 0..100 only."""
    cleaned = normalize(text).removesuffix("%").removesuffix("成")
    if not cleaned:
        raise InputError("empty")
    _reject_special(cleaned)
    value = _decimal(cleaned.lstrip("+"))
    if value > 100:
        raise InputError("percent_over_100")
    return value


_COUNT_SUFFIXES = (
    "个月",
    "months",
    "month",
    "mos",
    "mo",
    "岁",
    "years",
    "year",
    "yrs",
    "yr",
    "年",
    "月",
)


def parse_count(text: str) -> int:
    """A whole number of months or years: `36`, `36个月`, `3年` is 3 (the caller's unit)."""
    cleaned = normalize(text)
    if not cleaned:
        raise InputError("empty")
    _reject_special(cleaned)
    for suffix in _COUNT_SUFFIXES:
        if cleaned.endswith(suffix) and len(cleaned) > len(suffix):
            cleaned = cleaned[: -len(suffix)]
            break
    cleaned = cleaned.lstrip("+")
    value = _decimal(cleaned)
    if value != value.to_integral_value():
        raise InputError("not_whole")
    if value > 10_000:
        raise InputError("too_large")
    return int(value)


# --- answers as people say them --------------------------------------------------------------
# The parsers above read digits; these first bring words to digits (services/applications/spoken.py):
# "大概一万五左右", "about 8000 a month", "none", "首付三成", "两年半".


def parse_spoken_amount(text: str) -> Decimal:
    """`parse_amount` after the words: "none"/没有 is 0, hedges and "a month" go, and
    Chinese or English numerals become digits (`二十万`, `15万5`, `twenty thousand`)."""
    try:
        return parse_amount(text)  # most answers are plain numbers: no words to read
    except InputError as plain:
        if is_nothing(text):
            return Decimal("0.00")
        try:
            return parse_amount(digits(drop_per_month(drop_hedges(clean(text)))))
        except InputError:
            raise plain from None  # the reason names what was typed, not our rewrite


_HALF_SHARE = re.compile(r"^(\d+)成半$")


def parse_spoken_down_payment(text: str, price: Decimal) -> DownPayment:
    """`parse_down_payment` after the words: `首付三成`, `三十%`, `百分之三十`, `三成半`."""
    try:
        return parse_down_payment(text, price)
    except InputError as plain:
        spoken = digits(drop_hedges(clean(text))).replace(" ", "")
        half = _HALF_SHARE.match(spoken)
        if half:  # "三成半" is 35%
            percent = Decimal(half.group(1)) * 10 + 5
            return DownPayment(_share(price, percent), percent)
        try:
            return parse_down_payment(spoken, price)
        except InputError:
            raise plain from None


@dataclass(frozen=True)
class Count:
    """A whole number in the unit asked for; `sure` is False when it came from another
    unit or was rounded, so the reader is asked to confirm it."""

    value: int
    sure: bool


def parse_duration(text: str, unit: str) -> Count:
    """Months or years (`unit`) as people give them: `3年` is 36 months, `18个月` is
    2 years (rounded), `两年半`, `2.5 years`, `1年3个月`; a bare number is in `unit`."""
    plain = text.strip()
    if plain.isascii() and plain.isdigit():  # most answers: a number in the unit asked
        return Count(parse_count(plain), sure=True)
    if is_nothing(text):
        return Count(0, sure=True)
    duration = read_duration(text, unit)
    if duration is None:
        return Count(parse_count(text), sure=True)  # its error says what is wrong
    if duration.value > 10_000:  # before rounding: Decimal cannot round a 40-digit number
        raise InputError("too_large")
    value = whole(duration.value)
    if not duration.had_unit and value != duration.value:
        raise InputError("not_whole")
    return Count(value, sure=not duration.converted and value == duration.value)


def check_range(value: Decimal | int, low: Decimal | int, high: Decimal | int) -> None:
    """Raise `too_small`/`too_big` with the bounds, for the question's sensible range."""
    if value < low:
        raise InputError("too_small", {"low": str(low), "high": str(high)})
    if value > high:
        raise InputError("too_big", {"low": str(low), "high": str(high)})


# --- phones --------------------------------------------------------------------------------

_MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def parse_phone(text: str) -> str:
    """A phone number in E.164 form: `138 0013 8000`, `+86-138...` -> `+8613800138000`.

    A mainland mobile is 11 digits starting 13-19, with or without +86/0086/86; any other
    number needs its country code after a `+` (or `00`).
    """
    cleaned = normalize(text)
    if not cleaned:
        raise InputError("empty")
    cleaned = re.sub(r"[-().]", "", cleaned)
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if not re.fullmatch(r"\+?\d+", cleaned):
        raise InputError("phone_chars")
    digits = cleaned.lstrip("+")
    if cleaned.startswith("+86") or (not cleaned.startswith("+") and len(digits) == 13):
        national = digits[2:] if digits.startswith("86") else digits
        if _MAINLAND_MOBILE.match(national):
            return "+86" + national
        raise InputError("phone_mainland")
    if not cleaned.startswith("+"):
        if _MAINLAND_MOBILE.match(digits):
            return "+86" + digits
        raise InputError("phone_mainland" if digits.startswith("1") else "phone_country")
    if _E164.match(cleaned):
        return cleaned
    raise InputError("phone_length")


def mask_phone(phone: str) -> str:
    """`+8613800138000` -> `+86138****8000`: enough to recognise, not to dial."""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:-8] + "****" + phone[-4:]


# --- names ---------------------------------------------------------------------------------

NAME_MAX = 64


def parse_name(text: str) -> str:
    """A person's name as they write it (any script), trimmed; markup is kept as text and
    escaped wherever it is shown."""
    name = " ".join((text or "").split())
    if not name:
        raise InputError("empty")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in name):
        raise InputError("name_chars")
    if len(name) > NAME_MAX:
        raise InputError("name_long", {"max": str(NAME_MAX)})
    if not any(ch.isalpha() for ch in name):
        raise InputError("name_letters")
    return name

"""Turns message templates into the HTML text Telegram shows, in the reader's language.

Templates live in `templates/<locale>/<name>.j2` with the same names in every locale;
short button labels live in `templates/<locale>/labels*.toml` (one file per feature, keys
unique across them). Autoescape is on, so any
value a user typed is escaped before it reaches an HTML message.

One way to write each kind of figure, in every message of a language:

- Money (`money`): "¥" and the figure, thousands grouped, cents only when there are some:
  ¥150,000, ¥4,120.91, in both languages. A Chinese text never puts "元" after a figure
  (nor "¥4,120.91元"); "元" appears only as a unit in a question or an axis title.
- A price, a down payment or a loan amount (`amount`): in Chinese "20万元" when it is a
  whole number of hundreds from 1万 up (how prices are advertised), else as money; in
  English as money. Payments, incomes, debts, fees, balloons and subsidies are money.
- Ratios and rates (`percent`, and the reason texts): trimmed, never padded: 14.3%,
  9.51%, 40% (the figure as computed to two decimals, trailing zeros dropped).
- Dates (`day`): "Mar 3, 2026" / "2026年3月3日"; a moment adds the time, 24-hour, in the
  company's time zone (`moment`). No ISO dates in a message.
- A balloon loan's last payment: "final payment ¥T on <day> (the balloon of ¥B plus that
  month's payment)" / "末期还款¥T，于<day>到期（含尾款¥B及当月月供）", in every message
  (`final_payment` in loan_macros.j2); the chart labels its bar with the same two parts.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache, partial
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import jinja2
from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import NumberPattern, parse_pattern

import templates as templates_package

LOCALES = ("en", "zh")
BABEL_LOCALE = {"en": "en", "zh": "zh_Hans_CN"}
# One date style per language, the same in every message: the day alone, and the day with
# the time (24-hour clock, in the company's time zone) where the moment matters.
DAY_PATTERN = {"en": "MMM d, y", "zh": "y年M月d日"}
MOMENT_PATTERN = {"en": "MMM d, y, HH:mm", "zh": "y年M月d日 HH:mm"}
PHONE_REGION = "CN"  # a number typed without +country is read as a Chinese one
_PHONE_CHARACTERS = re.compile(r"\+?[\d\s()-]{6,}")
TEMPLATE_DIR = Path(templates_package.__file__).parent
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
# Distinct outputs remembered per memoised function: the common ones are a few hundred
# (locale x question x step); the rest are one prospect's own price or name.
MEMO_SIZE = 4096

P = ParamSpec("P")
T = TypeVar("T")


def locale_for(language_code: str | None, default: str = "en") -> str:
    """Chinese for any zh* client language, English for everything else."""
    if not language_code:
        return default
    return "zh" if language_code.lower().startswith("zh") else "en"


class Renderer:
    def __init__(self, timezone: str = "Asia/Shanghai", template_dir: Path = TEMPLATE_DIR) -> None:
        self.tz = ZoneInfo(timezone)
        self.template_dir = template_dir
        self.envs = {locale: self._environment(locale) for locale in LOCALES}
        self._memos: dict[Callable[..., object], Callable[..., object]] = {}

    def _environment(self, locale: str) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.template_dir / locale)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            # Templates ship with the code: no need to stat the files on every render.
            auto_reload=False,
        )
        env.filters.update(_filters(locale, self.tz))
        return env

    def render(self, locale: str, name: str, /, **context: object) -> str:
        """Render `templates/<locale>/<name>.j2`; blank lines at the ends are trimmed."""
        env = self.envs[locale if locale in LOCALES else "en"]
        return env.get_template(f"{name}.j2").render(**context).strip()

    def label(self, locale: str, key: str, /, **values: object) -> str:
        """A short button or keyboard label from labels.toml, with {placeholders} filled."""
        labels = _labels(self.template_dir, locale if locale in LOCALES else "en")
        try:
            text = labels[key]
        except KeyError:
            raise KeyError(f"templates/{locale}/labels*.toml have no label {key!r}") from None
        return text.format(**values) if values else text

    def labels(self, locale: str) -> dict[str, str]:
        return dict(_labels(self.template_dir, locale if locale in LOCALES else "en"))

    def memoised(self, function: Callable[Concatenate[Renderer, P], T]) -> Callable[P, T]:
        """`function(self, ...)`, remembered for this renderer in a bounded LRU.

        Only for output that depends on nothing but the arguments and this renderer's
        templates and labels: never memoise what reads the clock, a random number or the
        database. Arguments must be hashable, and equal arguments must give equal output
        (pass amounts as strings: Decimal("30") == Decimal("30.0")). The memo lives on the
        renderer, so two renderers (other templates, other time zone) never share one.
        """
        memo = self._memos.get(function)
        if memo is None:
            memo = lru_cache(maxsize=MEMO_SIZE, typed=True)(partial(function, self))
            self._memos[function] = memo
        return memo  # type: ignore[return-value]


@lru_cache(maxsize=4)
def _labels(template_dir: Path, locale: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((template_dir / locale).glob("labels*.toml")):
        with open(path, "rb") as handle:
            labels = tomllib.load(handle)
        clash = merged.keys() & labels.keys()
        if clash:
            raise ValueError(f"{path}: labels defined twice: {', '.join(sorted(clash))}")
        merged.update(labels)
    return merged


@lru_cache(maxsize=32)
def _pattern(pattern: str) -> NumberPattern:
    return parse_pattern(pattern)


def _filters(locale: str, tz: ZoneInfo) -> dict[str, object]:
    """Babel-backed filters: `{{ amount|money }}`, `{{ price|amount }}`, `{{ rate|percent }}`,
    `{{ due|day }}`, `{{ at|moment }}`, `{{ age|ago }}`, `{{ minutes|duration }}`,
    `{{ phone|phone }}`.

    The number patterns and the Babel locale are parsed once here and applied per call
    (what `format_currency`/`format_decimal` do, minus re-parsing the pattern and the
    locale every time, on every amount of every message: money 25 -> 8 us a call)."""
    babel_locale = BABEL_LOCALE[locale]
    parsed_locale = Locale.parse(babel_locale)
    cents_pattern = _pattern("#,##0.00")
    whole_pattern = _pattern("#,##0")
    percent_pattern = _pattern("#,##0.##")
    wan_pattern = _pattern("#,##0.##")
    minus = parsed_locale.number_symbols["latn"]["minusSign"]

    def money(amount: Decimal | str | int) -> str:
        # What format_currency(format="¤#,##0.00") writes, the sign put in front by hand:
        # Babel's currency path also looks up the currency's names and plural forms on
        # every call. Babel's English symbol for the yuan is "CN¥"; buyers in China read
        # "¥" in any language, so it is "¥" in both. Whole amounts go without ".00"
        # (¥150,000), as people write them; cents only where there are some (¥4,120.91).
        value = Decimal(str(amount))
        pattern = whole_pattern if value == value.to_integral_value() else cents_pattern
        text = pattern.apply(value, parsed_locale, numbering_system="latn")
        if text.startswith(minus):
            return minus + "¥" + text[len(minus) :]
        return "¥" + text

    def amount(value: Decimal | str | int) -> str:
        """A car price, a down payment or a loan: in Chinese "15万元" (how prices are said
        and advertised) when it is a whole number of hundreds from 1万 up; else `money`."""
        value = Decimal(str(value))
        if locale != "zh" or value < 10_000 or value % 100:
            return money(value)
        return wan_pattern.apply(value / 10_000, parsed_locale, numbering_system="latn") + "万元"

    def number(value: Decimal | str | int, digits: int = 0) -> str:
        pattern = _pattern("#,##0" + ("." + "0" * digits if digits else ""))
        return pattern.apply(Decimal(str(value)), parsed_locale, numbering_system="latn")

    def percent(value: Decimal | str | int) -> str:
        return (
            percent_pattern.apply(Decimal(str(value)), parsed_locale, numbering_system="latn") + "%"
        )

    def day(value: date | str) -> str:
        if isinstance(value, str):
            value = date.fromisoformat(value)
        return format_date(value, DAY_PATTERN[locale], locale=babel_locale)

    def moment(value: datetime | str) -> str:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return format_datetime(value.astimezone(tz), MOMENT_PATTERN[locale], locale=babel_locale)

    def ago(age: timedelta | int) -> str:
        """How long ago, in the largest unit that reads naturally: "3 days ago", "3天前";
        an int is minutes. Under a minute reads as one minute."""
        if not isinstance(age, timedelta):
            age = timedelta(minutes=age)
        age = max(age, timedelta(minutes=1))
        return format_timedelta(-age, add_direction=True, locale=babel_locale)

    def duration(length: timedelta | int) -> str:
        """A length of time in words, "3 hours", "3小时"; an int is minutes."""
        if not isinstance(length, timedelta):
            length = timedelta(minutes=length)
        return format_timedelta(max(length, timedelta(minutes=1)), locale=babel_locale)

    return {
        "money": money,
        "amount": amount,
        "number": number,
        "percent": percent,
        "day": day,
        "moment": moment,
        "ago": ago,
        "duration": duration,
        "phone": format_phone,
    }


@lru_cache(maxsize=MEMO_SIZE)
def format_phone(phone: str | None) -> str:
    """A phone number grouped as people write it: a Chinese number as dialled at home
    ("138 1234 5678"), any other with its country code ("+44 20 7946 0958"). Anything
    that is not a number (a masked one, "138****5678") is left as it is.

    phonenumbers is imported on first use (0.15 s, a cost start-up need not pay), and a
    number once formatted is remembered (a card or summary shows the same one again)."""
    import phonenumbers

    if not phone:
        return "—"
    if not _PHONE_CHARACTERS.fullmatch(phone.strip()):
        return phone
    try:
        parsed = phonenumbers.parse(phone, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return phone
    if not phonenumbers.is_possible_number(parsed):
        return phone
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if phonenumbers.region_code_for_number(parsed) == PHONE_REGION
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, style)


# What jinja2's autoescape (markupsafe) makes of the characters it escapes.
_ESCAPED_LENGTH = {"&": 5, "<": 4, ">": 4, '"': 5, "'": 5}


def telegram_length(text: str) -> int:
    """A text's length as Telegram counts it for its limits: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_escaped(text: str, budget: int) -> list[str]:
    """`text` in consecutive pieces, each of which, once HTML-escaped, is at most `budget`
    long as Telegram counts it; a piece ends at a line break or space when one is in its
    last fifth. Cutting the escaped HTML instead can land inside `&amp;`, which Telegram
    refuses; cutting before escaping by a character count overflows when it escapes."""
    pieces: list[str] = []
    start = used = 0
    last_space = -1
    for index, char in enumerate(text):
        cost = _ESCAPED_LENGTH.get(char, 2 if ord(char) > 0xFFFF else 1)
        if used + cost > budget and index > start:
            cut = (
                last_space + 1
                if last_space >= start and index - last_space < budget // 5
                else index
            )
            pieces.append(text[start:cut])
            start, last_space = cut, -1
            used = sum(_ESCAPED_LENGTH.get(c, 2 if ord(c) > 0xFFFF else 1) for c in text[cut:index])
        used += cost
        if char in " \n":
            last_space = index
    if start < len(text) or not pieces:
        pieces.append(text[start:])
    return pieces

"""Numbers as people say them, brought to the digits the parsers in `services.applications.parsing` read.

A prospect answers "大概一万五左右", "about 8000 a month", "thirty-five", "两年半" or
"none". This module drops the hedges, turns number words into digits (Chinese through
cn2an, English through text2num), reads durations in years and months, and says when an
answer means "nothing". It returns text or numbers, never guesses: whether a reading is
certain enough to use without asking is the caller's decision (`Duration.converted`).
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

# Words around a number that do not change it: approximations, and where the money comes
# from. Longest first, so "大约" goes before "约". English ones match whole words.
_HEDGES_ZH = (
    "差不多", "大概", "大约", "左右", "上下", "估计", "将近", "接近", "不到", "约",
    "税后", "到手", "实发", "月薪", "月入", "收入", "工资", "首付", "付", "已经", "工作", "干",
    "做", "开", "车龄", "年龄", "今年", "我", "是", "有", "了", "的", "啊", "吧",
)  # fmt: skip
_HEDGES_EN = (
    r"about", r"around", r"approx\.?", r"approximately", r"roughly", r"circa", r"maybe",
    r"nearly", r"almost", r"some", r"or so", r"ish", r"net", r"after tax", r"take[- ]home",
    r"i earn", r"i make", r"i pay", r"i'?m", r"i am", r"it'?s", r"it is", r"my", r"salary",
    r"income", r"down", r"payment", r"deposit", r"of the price", r"old", r"aged?", r"already",
    r"over", r"more than", r"less than", r"under", r"just", r"for", r"since", r"now",
)  # fmt: skip
_HEDGE_EN = re.compile(r"\b(?:" + "|".join(_HEDGES_EN) + r")\b")
_APPROX_SIGNS = re.compile(r"[~≈～]")

# "a month" after an amount: the questions already ask for a monthly figure.
_PER_MONTH_ZH = ("每个月", "每月", "一个月", "一月", "/月", "每月份", "月")
_PER_MONTH_EN = re.compile(
    r"(?:\bper\s*month\b|\ba\s*month\b|\beach\s*month\b|\bevery\s*month\b|\bmonthly\b"
    r"|/\s*(?:month|mo|m)\b|\bp\.?m\.?$|\bpm\b)"
)

# The words for "nothing" a prospect uses for debts (or a job just started).
NOTHING = frozenset(
    {
        "none", "nothing", "no", "nil", "nope", "zero", "n/a", "na", "no debt", "no debts",
        "no loans", "no loan", "nothing at all", "i have none", "don't have any",
        "没有", "无", "没", "零", "没有负债", "无负债", "没有贷款", "无贷款", "没有欠款",
        "都没有", "一分没有", "没欠", "不欠", "0",
    }
)  # fmt: skip

# The characters that make a Chinese numeral (cn2an is imported only when one is seen).
_CN_NUMERALS = frozenset("零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟")
_LIANG = re.compile(r"两(?=[个年月岁期千百万成]|$)")
# "15万5" and "3万2千": the digit after 万 counts thousands, as people say it.
_WAN_TAIL = re.compile(r"(\d+(?:\.\d+)?)(万|w)(\d)(?:千|k)?(?![\d.])")


def clean(text: str) -> str:
    """NFKC (full-width digits to ASCII), lower case, single spaces."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = text.replace("。", ".").replace("，", ",").replace("、", ",")
    return " ".join(text.split())


def is_nothing(text: str) -> bool:
    """ "none", "没有", "无", "0": the answer is zero."""
    return clean(text).strip(" .!。！") in NOTHING


def drop_hedges(text: str) -> str:
    """`大概一万五左右` -> `一万五`; `about 8000` -> `8000`."""
    text = _APPROX_SIGNS.sub(" ", _HEDGE_EN.sub(" ", text))
    for word in _HEDGES_ZH:
        text = text.replace(word, "")
    return " ".join(text.split())


def drop_per_month(text: str) -> str:
    """`8000/month`, `每月8000`, `8000 a month` -> `8000`."""
    text = _PER_MONTH_EN.sub(" ", text)
    for word in _PER_MONTH_ZH:
        if text.startswith(word):
            text = text[len(word) :]
        if text.endswith(word):
            text = text[: -len(word)]
    return " ".join(text.split())


@cache
def _cn2an() -> Any:
    import cn2an  # ~0.3 s to import: paid by the first Chinese numeral, not at start-up

    return cn2an


def _english_words(text: str) -> str:
    from text_to_num import alpha2digit

    text = re.sub(r"\bhalf\s+(?:a|an)\s+(year|month)\b", r"0.5 \1", text)
    text = re.sub(r"\b(?:a|an|one)\s+(?=(?:year|month)s?\b)", "1 ", text)
    text = re.sub(r"\b(\d+|a|an|one)\s+(year|month)s?\s+and\s+a\s+half\b", r"\1.5 \2s", text)
    text = re.sub(r"\b(\w+)\s+and\s+a\s+half\s+(year|month)s?\b", r"\1.5 \2s", text)
    text = re.sub(r"\b(?:a|an|one)\.5\b", "1.5", text)
    text = alpha2digit(text, "en", threshold=0)
    # "150 thousand" comes back as "150 1000"; "20 grand" is the same thing.
    return re.sub(r"(\d)\s*(?:1000|thousand|grand)\b", r"\1k", text)


def _chinese_numerals(text: str) -> str:
    text = _LIANG.sub("二", text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cn2an warns about a lone 万 it leaves alone
        text = _cn2an().transform(text, "cn2an")
    return text


def digits(text: str) -> str:
    """Number words as digits, hedges gone: `大概一万五左右` -> `15000`, `thirty-five` -> `35`,
    `首付三成` -> `3成`, `百分之三十` -> `30%`. Units (万, 年, 个月...) are kept."""
    text = drop_hedges(clean(text))
    if re.search(r"[a-z]{2}", text):
        text = _english_words(text)
    if any(ch in _CN_NUMERALS for ch in text):
        text = _chinese_numerals(text)
    text = text.replace("percent", "%").replace("pct", "%")
    text = _WAN_TAIL.sub(lambda m: str(_wan_tail(m)), text)
    return " ".join(text.split())


def _wan_tail(match: re.Match[str]) -> Decimal:
    return Decimal(match.group(1)) * 10_000 + int(match.group(3)) * 1_000


# --- durations --------------------------------------------------------------------------------

_YEAR_UNITS = r"(?:years?|yrs?|y|周岁|年|岁)"
_MONTH_UNITS = r"(?:months?|mths?|mos?|个月|月|期)"
_NUMBER = r"(\d+(?:\.\d+)?)"
_PART = re.compile(rf"{_NUMBER}\s*({_YEAR_UNITS}|{_MONTH_UNITS})(半)?|(半年)")
_JOINERS = re.compile(r"^(?:\s|and|又|零|,|&|\+)*$")


@dataclass(frozen=True)
class Duration:
    """A duration in the unit asked for; `converted` when it was given in another unit
    (or in both), so the reading is worth echoing back for a tap to confirm."""

    value: Decimal
    converted: bool
    had_unit: bool


def read_duration(text: str, unit: str) -> Duration | None:
    """`3年`, `两年半`, `36个月`, `2.5 years`, `1 year 6 months` in `unit` ("months" or
    "years"); a bare number is taken in `unit`. None if the text is not a duration."""
    spoken = digits(text).replace("old", "").strip()
    if re.fullmatch(_NUMBER, spoken):
        return Duration(Decimal(spoken), converted=False, had_unit=False)
    months = Decimal(0)
    units: set[str] = set()
    position = 0
    for match in _PART.finditer(spoken):
        if not _JOINERS.match(spoken[position : match.start()]):
            return None
        position = match.end()
        if match.group(4):  # 半年
            months += 6
            units.add("years")
            continue
        number = Decimal(match.group(1))
        if re.fullmatch(_YEAR_UNITS, match.group(2)):
            months += number * 12 + (6 if match.group(3) else 0)
            units.add("years")
        else:
            months += number + (Decimal("0.5") if match.group(3) else 0)
            units.add("months")
    if not units or not _JOINERS.match(spoken[position:]):
        return None
    value = months if unit == "months" else months / 12
    return Duration(value, converted=units != {unit}, had_unit=True)


def whole(value: Decimal) -> int:
    """Rounded half up to a whole number (30.5 months -> 31)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))

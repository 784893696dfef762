"""Formats per locale, as a reader of each language expects them (hand-written strings)."""

from __future__ import annotations

import re

import pytest

from lending.reasons import ABOUT_BUYER, REASON_TEXTS, reason_text
from services.rendering import Renderer, format_phone

RENDERER = Renderer("Asia/Shanghai")


def _filter(locale: str, name: str):
    return RENDERER.envs[locale].filters[name]


@pytest.mark.parametrize(
    ("locale", "value", "shown"),
    [
        ("en", "150000.00", "¥150,000"),
        ("zh", "150000.00", "¥150,000"),
        ("en", "4120.91", "¥4,120.91"),
        ("zh", "4120.9", "¥4,120.90"),
        ("en", "0", "¥0"),
        ("en", "-5.00", "-¥5"),
    ],
)
def test_money_has_cents_only_when_there_are_some(locale: str, value: str, shown: str) -> None:
    assert _filter(locale, "money")(value) == shown


@pytest.mark.parametrize(
    ("locale", "value", "shown"),
    [
        ("zh", "150000", "15万元"),
        ("zh", "155000.00", "15.5万元"),
        ("zh", "200000", "20万元"),
        ("zh", "8000", "¥8,000"),  # under 1万: as money
        ("zh", "150050", "¥150,050"),  # not whole hundreds: as money
        ("en", "150000", "¥150,000"),
    ],
)
def test_prices_in_wan_in_chinese(locale: str, value: str, shown: str) -> None:
    assert _filter(locale, "amount")(value) == shown


@pytest.mark.parametrize(
    ("locale", "day", "moment"),
    [
        ("en", "Apr 3, 2026", "Apr 3, 2026, 10:00"),
        ("zh", "2026年4月3日", "2026年4月3日 10:00"),
    ],
)
def test_one_date_style_per_language_in_the_company_time_zone(
    locale: str, day: str, moment: str
) -> None:
    assert _filter(locale, "day")("2026-04-03") == day
    # 02:00 UTC is 10:00 in Shanghai; 24-hour clock, the year written out.
    assert _filter(locale, "moment")("2026-04-03T02:00:00+00:00") == moment


@pytest.mark.parametrize(
    ("locale", "minutes", "shown"),
    [
        ("en", 4320, "3 days ago"),
        ("zh", 4320, "3天前"),
        ("en", 45, "45 minutes ago"),
        ("en", 0, "1 minute ago"),
        ("zh", 300, "5小时前"),
    ],
)
def test_ages_in_words(locale: str, minutes: int, shown: str) -> None:
    assert _filter(locale, "ago")(minutes) == shown


def test_durations_in_words() -> None:
    assert _filter("en", "duration")(4.0) == "4 minutes"
    assert _filter("zh", "duration")(180) == "3小时"


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("+8613812345678", "138 1234 5678"),
        ("13812345678", "138 1234 5678"),
        ("+86 138-1234-5678", "138 1234 5678"),
        ("+442079460958", "+44 20 7946 0958"),
        ("138****5678", "138****5678"),  # masked: left alone
        ("", "—"),
    ],
)
def test_phones_grouped_as_people_write_them(phone: str, shown: str) -> None:
    assert format_phone(phone) == shown


def test_reasons_on_a_manager_card_speak_about_the_buyer() -> None:
    assert set(ABOUT_BUYER) <= set(REASON_TEXTS)
    for code, texts in ABOUT_BUYER.items():
        assert set(texts) == {"en", "zh"}, code
        assert not re.search(r"\b(you|your)\b", texts["en"], re.IGNORECASE), code
        assert "您" not in texts["zh"], code
    assert (
        reason_text("down_payment_low", "en", about_buyer=True, share="30.00")
        == "The down payment is only 30% of the price."
    )
    assert (
        reason_text("down_payment_low", "en", share="30.00")
        == "A larger down payment would help (now 30% of the price)."
    )
    assert (
        reason_text(
            "ltv_above_cap", "zh", about_buyer=True, ltv="85.50", cap="80", min_down="40000.00"
        )
        == "贷款占车价85.5%（上限80%），首付至少需¥40,000。"
    )

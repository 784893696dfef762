"""What prospects type, read the way they mean it, and refused with a reason when not."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.applications.answer_words import match_choice
from services.applications.parsing import (
    InputError,
    mask_phone,
    parse_amount,
    parse_count,
    parse_down_payment,
    parse_duration,
    parse_name,
    parse_percent,
    parse_phone,
    parse_spoken_amount,
    parse_spoken_down_payment,
)


@pytest.mark.parametrize(
    "typed",
    [
        "150000",
        "150,000",
        "15万",
        "15w",
        "15W",
        "150k",
        "150K",
        "¥150000",
        "￥150,000",
        "150000元",
        "１５００００",
        "15万元",
        "¥15万",
        " 150 000 ",
        "150000.00",
        "RMB 150000",
        "15.0万",
        "+150000",
        "１５０，０００",
    ],
)
def test_amounts_people_type(typed: str) -> None:
    assert parse_amount(typed) == Decimal("150000.00")


def test_fractions_of_ten_thousand() -> None:
    assert parse_amount("15.5万") == Decimal("155000")
    assert parse_amount("1,200.50") == Decimal("1200.50")


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("1e9", "scientific"),
        ("2.5E5", "scientific"),
        ("-5", "negative"),
        ("-150,000", "negative"),
        ("NaN", "nan"),
        ("nan", "nan"),
        ("∞", "infinite"),
        ("inf", "infinite"),
        ("Infinity", "infinite"),
        ("0x10", "not_decimal"),
        ("0b101", "not_decimal"),
        ("abc", "not_a_number"),
        ("", "empty"),
        ("万", "not_a_number"),
        ("1,50,000", "bad_grouping"),
        ("0.001", "too_precise"),
        ("30%", "percent_not_amount"),
        ("99999999999", "too_large"),
        ("1.2.3", "not_a_number"),
    ],
)
def test_amounts_refused_with_a_reason(typed: str, code: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_amount(typed)
    assert caught.value.code == code


@given(st.text(max_size=40))
def test_any_text_is_an_amount_or_a_reason(text: str) -> None:
    try:
        value = parse_amount(text)
    except InputError as error:
        assert error.code
    else:
        assert value >= 0 and value == value.quantize(Decimal("0.01"))


def test_down_payment_as_percent_or_amount() -> None:
    price = Decimal("200000")
    assert parse_down_payment("30%", price).amount == Decimal("60000.00")
    assert parse_down_payment("30", price).percent == Decimal("30")
    assert parse_down_payment("３成", price).amount == Decimal("60000.00")
    assert parse_down_payment("6万", price).amount == Decimal("60000.00")
    assert parse_down_payment("60000", price).percent is None
    with pytest.raises(InputError, match="percent_over_100"):
        parse_down_payment("130%", price)


def test_percent_and_counts() -> None:
    assert parse_percent("12.5 %") == Decimal("12.5")
    assert parse_count("36个月") == 36
    assert parse_count("3年") == 3
    assert parse_count("２４") == 24
    for bad, code in [("3.5", "not_whole"), ("-1", "negative"), ("1e3", "scientific")]:
        with pytest.raises(InputError) as caught:
            parse_count(bad)
        assert caught.value.code == code


@pytest.mark.parametrize(
    ("typed", "phone"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("008613800138000", "+8613800138000"),
        ("8613800138000", "+8613800138000"),
        ("＋８６１３８００１３８０００", "+8613800138000"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("+852 9123 4567", "+85291234567"),
    ],
)
def test_phones(typed: str, phone: str) -> None:
    assert parse_phone(typed) == phone


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("12800138000", "phone_mainland"),
        ("+86 12345", "phone_mainland"),
        ("call me", "phone_chars"),
        ("4155550100", "phone_country"),
        ("+1234", "phone_length"),
    ],
)
def test_bad_phones(typed: str, code: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_phone(typed)
    assert caught.value.code == code


def test_phone_mask_and_names() -> None:
    assert mask_phone("+8613800138000") == "+86138****8000"
    assert parse_name('  <b>Zhang & "Li"</b> ') == '<b>Zhang & "Li"</b>'
    assert parse_name("张 伟") == "张 伟"
    for bad, code in [
        ("12345", "name_letters"),
        ("a\u200bb", "name_chars"),
        ("x" * 65, "name_long"),
    ]:
        with pytest.raises(InputError) as caught:
            parse_name(bad)
        assert caught.value.code == code


def test_record_numbers_typed_after_a_command() -> None:
    from services.callbacks import parse_id

    assert parse_id("42") == 42 and parse_id("#42") == 42 and parse_id(" 7 ") == 7
    for bad in ("", "0", "-3", "4.2", "²", "１２", "9" * 20, "12abc"):
        assert parse_id(bad) is None, bad


SPOKEN_PIECES = st.sampled_from(
    ["一", "二", "两", "十", "百", "千", "万", "亿", "零", "半", "年", "个月", "成", "%", "百分之",
     "大概", "左右", "每月", "没有", "无", "thirty", "five", "thousand", "and", "a", "half",
     "year", "months", "about", "none", "/month", "1", "5", "0", ".", ",", "-", " ", "e", "w", "k",
     "¥", "元", "岁", "期", "and a half", "point"]
)  # fmt: skip


@given(
    st.lists(SPOKEN_PIECES, max_size=8).map("".join)
    | st.text(max_size=30)
    | st.sampled_from(["9" * 40 + "个月", "九" * 40, "１２３４５６７８９０" * 3 + "年", "半半年"])
)
def test_any_spoken_answer_is_a_value_or_a_reason(text: str) -> None:
    """Whatever words are typed, each reader gives a value or an InputError, nothing else."""
    readers = (
        parse_spoken_amount,
        lambda t: parse_spoken_down_payment(t, Decimal(200000)),
        lambda t: parse_duration(t, "months"),
        lambda t: parse_duration(t, "years"),
    )
    for read in readers:
        try:
            read(text)
        except InputError:
            pass
    match_choice("credit_history", text)

"""Answers as people type them, in English and Chinese, and the value each must give.

Every row is written by hand: the question, what a prospect typed, the value stored, and
whether the bot may use it at once (True) or must read it back for a tap ("36 months?")
first (False). The car is a new petrol car for personal use at ¥200,000 (minimum down
payment 20%, terms 12-60 months).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from handlers.prequalify.questions import read_answer
from lending.policy import load_policy
from services.applications.parsing import InputError
from tests.prequalify.journey import RENDERER

CAR = {"vehicle_condition": "new", "powertrain": "fuel", "use": "personal", "price": "200000.00"}
SURE, ASK = True, False

ENGLISH: list[tuple[str, str, Any, bool]] = [
    # the price
    ("price", "200000", "200000.00", SURE),
    ("price", "200,000", "200000.00", SURE),
    ("price", "200k", "200000.00", SURE),
    ("price", "about 200k", "200000.00", SURE),
    ("price", "two hundred thousand", "200000.00", SURE),
    ("price", "200 thousand", "200000.00", SURE),
    ("price", "roughly 150000 yuan", "150000.00", SURE),
    ("price", "¥180,000", "180000.00", SURE),
    # the car's age, in years
    ("vehicle_age_years", "3", 3, SURE),
    ("vehicle_age_years", "3 years", 3, SURE),
    ("vehicle_age_years", "three years", 3, SURE),
    ("vehicle_age_years", "3 years old", 3, SURE),
    ("vehicle_age_years", "a year", 1, SURE),
    ("vehicle_age_years", "36 months", 3, ASK),
    ("vehicle_age_years", "18 months", 2, ASK),
    ("vehicle_age_years", "2.5 years", 3, ASK),
    # the down payment (an amount or a share of the price)
    ("down_payment", "30%", "60000.00", SURE),
    ("down_payment", "30 percent", "60000.00", SURE),
    ("down_payment", "thirty percent", "60000.00", SURE),
    ("down_payment", "60000", "60000.00", SURE),
    ("down_payment", "60k", "60000.00", SURE),
    ("down_payment", "about 50,000", "50000.00", SURE),
    ("down_payment", "40", "80000.00", SURE),  # a bare number up to 100 is a percent
    # the term, in months
    ("term_months", "36", 36, SURE),
    ("term_months", "36 months", 36, SURE),
    ("term_months", "48 mo", 48, SURE),
    ("term_months", "3 years", 36, ASK),
    ("term_months", "three years", 36, ASK),
    ("term_months", "5 years", 60, ASK),
    ("term_months", "a year", 12, ASK),
    ("term_months", "3", 36, ASK),  # 3 months is not offered; 3 years is
    # months in the current job
    ("employment_months", "18", 18, SURE),
    ("employment_months", "18 months", 18, SURE),
    ("employment_months", "six months", 6, SURE),
    ("employment_months", "2 years", 24, ASK),
    ("employment_months", "2.5 years", 30, ASK),
    ("employment_months", "three years", 36, ASK),
    ("employment_months", "one and a half years", 18, ASK),
    ("employment_months", "a year and a half", 18, ASK),
    ("employment_months", "1 year 6 months", 18, ASK),
    ("employment_months", "none", 0, SURE),
    ("employment_months", "18 mths", 18, SURE),
    ("employment_months", "half a year", 6, ASK),
    ("employment_months", "3 years already", 36, ASK),
    ("employment_months", "two and a half years", 30, ASK),
    # monthly income
    ("monthly_income", "12000", "12000.00", SURE),
    ("monthly_income", "12k", "12000.00", SURE),
    ("monthly_income", "about 8000 a month", "8000.00", SURE),
    ("monthly_income", "8000/month", "8000.00", SURE),
    ("monthly_income", "8000 per month", "8000.00", SURE),
    ("monthly_income", "twelve thousand", "12000.00", SURE),
    ("monthly_income", "¥15,000 after tax", "15000.00", SURE),
    ("monthly_income", "net 9000 monthly", "9000.00", SURE),
    ("monthly_income", "15", "15.00", ASK),  # 15 yuan a month? more likely 15k: read back
    ("monthly_income", "0", "0.00", SURE),
    # other debts each month
    ("monthly_debt", "none", "0.00", SURE),
    ("monthly_debt", "None.", "0.00", SURE),
    ("monthly_debt", "0", "0.00", SURE),
    ("monthly_debt", "nothing", "0.00", SURE),
    ("monthly_debt", "no debts", "0.00", SURE),
    ("monthly_debt", "n/a", "0.00", SURE),
    ("monthly_debt", "zero", "0.00", SURE),
    ("monthly_debt", "about 2,500 a month", "2500.00", SURE),
    # age
    ("age", "35", 35, SURE),
    ("age", "thirty-five", 35, SURE),
    ("age", "thirty five", 35, SURE),
    ("age", "35 years old", 35, SURE),
    ("age", "I'm 35", 35, SURE),
    ("age", "aged 42", 42, SURE),
    # buttons' choices in other words
    ("vehicle_condition", "New car", "new", SURE),
    ("vehicle_condition", "brand new", "new", SURE),
    ("vehicle_condition", "second-hand", "used", SURE),
    ("vehicle_condition", "pre-owned", "used", SURE),
    ("powertrain", "EV", "nev", SURE),
    ("powertrain", "electric", "nev", SURE),
    ("powertrain", "plug-in hybrid", "nev", SURE),
    ("powertrain", "it's an electric car", "nev", ASK),
    ("powertrain", "petrol", "fuel", SURE),
    ("powertrain", "diesel", "fuel", SURE),
    ("use", "private", "personal", SURE),
    ("use", "for my family", "personal", ASK),
    ("use", "taxi", "business", SURE),
    ("method", "equal payments", "annuity", SURE),
    ("method", "equal principal", "equal-principal", SURE),
    ("method", "balloon", "balloon", SURE),
    ("employment", "employee", "salaried", SURE),
    ("employment", "freelancer", "self_employed", SURE),
    ("employment", "business owner", "business_owner", SURE),
    ("employment", "retired", "retired", SURE),
    ("employment", "student", "other", SURE),
    ("credit_history", "No late payments", "clean", SURE),  # the button itself
    ("credit_history", "never late", "clean", ASK),
    ("credit_history", "good", "clean", ASK),
    ("credit_history", "I was late once last year", "late", ASK),
    ("credit_history", "missed a payment in 2024", "late", ASK),
    ("credit_history", "currently overdue on a card", "default", ASK),
    # a negation before a bad word means a clean record
    ("credit_history", "no overdue", "clean", ASK),
    ("credit_history", "never overdue", "clean", ASK),
    ("credit_history", "not late", "clean", ASK),
    ("credit_history", "not currently overdue", "clean", ASK),
    ("credit_history", "never been late", "clean", ASK),
    ("credit_history", "I haven't missed a payment", "clean", ASK),
    ("credit_history", "never missed a single payment", "clean", ASK),
    ("credit_history", "no defaults", "clean", ASK),
    ("credit_history", "never defaulted", "clean", ASK),
    ("credit_history", "not late, never defaulted", "clean", ASK),
    ("credit_history", "no missed payments at all", "clean", ASK),
    ("credit_history", "bad", "late", ASK),
    ("credit_history", "not good", "late", ASK),
    ("credit_history", "a bit late twice", "late", ASK),
    # choices in more words
    ("vehicle_condition", "nearly new", "used", SURE),
    ("powertrain", "hybrid", "fuel", ASK),  # an ordinary hybrid is a fuel car in China
    ("powertrain", "HEV", "fuel", SURE),
    ("powertrain", "PHEV", "nev", SURE),
    ("use", "for work", "business", SURE),
    ("use", "commuting", "personal", SURE),
    ("employment", "emplyee", "salaried", ASK),  # a typo, read back
    ("employment", "retird", "retired", ASK),
    ("employment", "uber", "self_employed", SURE),
    ("employment", "uber driver", "self_employed", SURE),
    ("employment", "delivery driver", "self_employed", SURE),
]

CHINESE: list[tuple[str, str, Any, bool]] = [
    # 车价
    ("price", "20万", "200000.00", SURE),
    ("price", "二十万", "200000.00", SURE),
    ("price", "二十万元", "200000.00", SURE),
    ("price", "20w", "200000.00", SURE),
    ("price", "大概20万", "200000.00", SURE),
    ("price", "20万左右", "200000.00", SURE),
    ("price", "15万5", "155000.00", SURE),
    ("price", "十五万五", "155000.00", SURE),
    ("price", "１８万", "180000.00", SURE),
    ("price", "¥20万", "200000.00", SURE),
    # 车龄
    ("vehicle_age_years", "3年", 3, SURE),
    ("vehicle_age_years", "三年", 3, SURE),
    ("vehicle_age_years", "三", 3, SURE),
    ("vehicle_age_years", "车龄3年", 3, SURE),
    ("vehicle_age_years", "两年半", 3, ASK),
    ("vehicle_age_years", "十八个月", 2, ASK),
    # 首付
    ("down_payment", "首付三成", "60000.00", SURE),
    ("down_payment", "三成", "60000.00", SURE),
    ("down_payment", "3成", "60000.00", SURE),
    ("down_payment", "30%", "60000.00", SURE),
    ("down_payment", "三十%", "60000.00", SURE),
    ("down_payment", "百分之三十", "60000.00", SURE),
    ("down_payment", "三成半", "70000.00", SURE),
    ("down_payment", "6万", "60000.00", SURE),
    ("down_payment", "六万", "60000.00", SURE),
    ("down_payment", "首付6万", "60000.00", SURE),
    # 期限
    ("term_months", "36期", 36, SURE),
    ("term_months", "36个月", 36, SURE),
    ("term_months", "三十六期", 36, SURE),
    ("term_months", "3年", 36, ASK),
    ("term_months", "三年", 36, ASK),
    ("term_months", "五年", 60, ASK),
    ("term_months", "一年", 12, ASK),
    # 现单位工作时间（月）
    ("employment_months", "18个月", 18, SURE),
    ("employment_months", "十八个月", 18, SURE),
    ("employment_months", "2年", 24, ASK),
    ("employment_months", "两年", 24, ASK),
    ("employment_months", "两年半", 30, ASK),
    ("employment_months", "半年", 6, ASK),
    ("employment_months", "1年3个月", 15, ASK),
    ("employment_months", "已经干了3年了", 36, ASK),
    # 月收入
    ("monthly_income", "一万五", "15000.00", SURE),
    ("monthly_income", "大概一万五", "15000.00", SURE),
    ("monthly_income", "1.5万", "15000.00", SURE),
    ("monthly_income", "1.5w", "15000.00", SURE),
    ("monthly_income", "每月八千", "8000.00", SURE),
    ("monthly_income", "月入一万二", "12000.00", SURE),
    ("monthly_income", "税后8000", "8000.00", SURE),
    ("monthly_income", "八千左右", "8000.00", SURE),
    ("monthly_income", "一个月一万", "10000.00", SURE),
    ("monthly_income", "800", "800.00", ASK),
    # 其他月还款
    ("monthly_debt", "没有", "0.00", SURE),
    ("monthly_debt", "无", "0.00", SURE),
    ("monthly_debt", "0", "0.00", SURE),
    ("monthly_debt", "零", "0.00", SURE),
    ("monthly_debt", "没有负债", "0.00", SURE),
    ("monthly_debt", "两千五", "2500.00", SURE),
    ("monthly_debt", "每月三千左右", "3000.00", SURE),
    # 年龄
    ("age", "35", 35, SURE),
    ("age", "三十五", 35, SURE),
    ("age", "35岁", 35, SURE),
    ("age", "三十五岁", 35, SURE),
    ("age", "今年四十二", 42, SURE),
    # 按钮选项的其他说法
    ("vehicle_condition", "新车", "new", SURE),
    ("vehicle_condition", "新的", "new", SURE),
    ("vehicle_condition", "二手", "used", SURE),
    ("powertrain", "电车", "nev", SURE),
    ("powertrain", "新能源", "nev", SURE),
    ("powertrain", "纯电", "nev", SURE),
    ("powertrain", "插混", "nev", SURE),
    ("powertrain", "油车", "fuel", SURE),
    ("powertrain", "燃油", "fuel", SURE),
    ("use", "自用", "personal", SURE),
    ("use", "家用", "personal", SURE),
    ("use", "个人自用", "personal", SURE),  # the button itself
    ("use", "跑网约车", "business", SURE),
    ("use", "商用", "business", SURE),
    ("method", "等额本息", "annuity", SURE),
    ("method", "等额本金", "equal-principal", SURE),
    ("method", "尾款", "balloon", SURE),
    ("employment", "上班族", "salaried", SURE),
    ("employment", "在职员工", "salaried", SURE),
    ("employment", "个体户", "self_employed", SURE),
    ("employment", "老板", "business_owner", SURE),
    ("employment", "退休", "retired", SURE),
    ("employment", "学生", "other", SURE),
    ("credit_history", "无逾期记录", "clean", SURE),  # the button itself
    ("credit_history", "从没逾期", "clean", ASK),
    ("credit_history", "信用很好", "clean", ASK),
    ("credit_history", "以前逾期过一次", "late", ASK),
    ("credit_history", "目前有逾期", "default", ASK),
    ("credit_history", "上了黑名单", "default", ASK),
    # 否定词在前：记录良好
    ("credit_history", "没有违约", "clean", ASK),
    ("credit_history", "没有逾期", "clean", ASK),
    ("credit_history", "从未逾期", "clean", ASK),
    ("credit_history", "从来没有过逾期", "clean", ASK),
    ("credit_history", "没有任何逾期", "clean", ASK),
    ("credit_history", "未逾期", "clean", ASK),
    ("credit_history", "无违约", "clean", ASK),
    ("credit_history", "没逾期过", "clean", ASK),
    ("credit_history", "没有不良记录", "clean", ASK),
    ("credit_history", "没有逾期也没有违约", "clean", ASK),
    ("credit_history", "从不逾期", "clean", ASK),
    ("credit_history", "不好", "late", ASK),
    ("credit_history", "信用不好", "late", ASK),
    ("credit_history", "有逾期", "late", ASK),
    ("credit_history", "拖欠过", "late", ASK),
    # 更多说法
    ("vehicle_condition", "准新车", "used", SURE),  # 准新车 is a nearly new used car
    ("vehicle_condition", "次新车", "used", SURE),
    ("powertrain", "混动", "fuel", ASK),
    ("powertrain", "油电混合", "fuel", SURE),
    ("powertrain", "油电混动", "fuel", SURE),
    ("powertrain", "插电混动", "nev", SURE),
    ("powertrain", "插电式混合动力", "nev", SURE),
    ("use", "通勤", "personal", SURE),
    ("use", "工作用", "business", SURE),
    ("employment", "自己做生意", "self_employed", SURE),
    ("employment", "滴滴司机", "self_employed", SURE),
    ("employment", "外卖员", "self_employed", SURE),
    ("employment", "开店的", "self_employed", SURE),
    ("age", "35周岁", 35, SURE),
    ("age", "三十五周岁", 35, SURE),
]

# Answers that must be refused (with the code of the reason shown), not guessed.
REFUSED: list[tuple[str, str, str]] = [
    ("price", "a lot", "not_a_number"),
    ("price", "很多", "not_a_number"),
    ("term_months", "2.5 years", "term_not_allowed"),  # 30 months is not offered
    ("term_months", "7", "term_not_allowed"),  # neither 7 months nor 7 years
    ("employment_months", "2.5", "not_whole"),  # half a month, or years? ask again
    ("age", "-35", "negative"),
    ("powertrain", "a horse", "choice"),
    ("credit_history", "不知道", "choice"),
    # Denied and admitted at once, or not known: the buttons, never the worst by default.
    ("credit_history", "not currently overdue but late once", "choice"),
    ("credit_history", "没有逾期但是有违约", "choice"),
    ("credit_history", "不知道有没有逾期", "choice"),
    ("credit_history", "not sure if I was late", "choice"),
    ("monthly_debt", "1e5", "scientific"),
]


def context_at(answers: dict[str, Any]) -> Any:
    """Just what reading an answer looks at: the policy, the texts and earlier answers."""
    runtime = SimpleNamespace(policy=POLICY, renderer=RENDERER)
    return SimpleNamespace(bot_data={"runtime": runtime}, user_data={"pq": {"answers": answers}})


POLICY = load_policy()


def _reads(key: str, typed: str, value: Any, sure: bool) -> None:
    answers = {**CAR, "vehicle_condition": "used"} if key == "vehicle_age_years" else CAR
    reading = read_answer(context_at(dict(answers)), key, typed)
    assert (reading.values[key], reading.sure) == (value, sure), typed


@pytest.mark.parametrize(("key", "typed", "value", "sure"), ENGLISH)
def test_english_answers(key: str, typed: str, value: Any, sure: bool) -> None:
    _reads(key, typed, value, sure)


@pytest.mark.parametrize(("key", "typed", "value", "sure"), CHINESE)
def test_chinese_answers(key: str, typed: str, value: Any, sure: bool) -> None:
    _reads(key, typed, value, sure)


@pytest.mark.parametrize(("key", "typed", "code"), REFUSED)
def test_answers_refused_with_a_reason(key: str, typed: str, code: str) -> None:
    with pytest.raises(InputError) as refused:
        read_answer(context_at(dict(CAR)), key, typed)
    assert refused.value.code == code


def test_the_catalogue_is_large_and_holds_every_example_of_the_report() -> None:
    assert len(ENGLISH) >= 60 and len(CHINESE) >= 60
    typed = {(key, text) for key, text, *_ in ENGLISH + CHINESE}
    reported = {
        ("term_months", "3年"), ("term_months", "3 years"), ("term_months", "三年"),
        ("term_months", "36个月"), ("employment_months", "2年"),
        ("employment_months", "2 years"), ("employment_months", "2.5 years"),
        ("monthly_debt", "none"), ("monthly_debt", "没有"), ("monthly_debt", "无"),
        ("monthly_debt", "0"), ("price", "二十万"), ("monthly_income", "大概一万五"),
        ("monthly_income", "一万五"), ("price", "15万5"), ("monthly_income", "1.5w"),
        ("down_payment", "首付三成"), ("down_payment", "三成"), ("down_payment", "30%"),
        ("down_payment", "三十%"), ("monthly_income", "about 8000 a month"),
        ("monthly_income", "8000/month"), ("monthly_income", "每月八千"),
        ("price", "20万左右"), ("age", "thirty-five"), ("powertrain", "EV"),
        ("powertrain", "electric"), ("powertrain", "电车"), ("use", "自用"),
    }  # fmt: skip
    assert reported <= typed, reported - typed

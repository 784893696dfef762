"""Assessment: decisions, hard rules, reason codes in both locales, helpers for the chat."""

import string
from datetime import date
from decimal import Decimal

import pytest

from lending.answers import Answers, AnswersError, parse_answers
from lending.assessment import Decision, allowed_terms, assess, evaluate, minimum_down_payment
from lending.documents import document_text
from lending.policy import Policy, load_policy
from lending.reasons import REASON_TEXTS, reason_text

POLICY = load_policy()
TODAY = date(2025, 10, 1)

GOOD = {
    "vehicle_condition": "new",
    "powertrain": "fuel",
    "use": "personal",
    "price": 200000,
    "vehicle_age_years": 0,
    "down_payment": 60000,
    "term_months": 36,
    "method": "annuity",
    "employment": "salaried",
    "employment_months": 48,
    "monthly_income": 20000,
    "monthly_debt": 0,
    "credit_history": "clean",
    "age": 35,
}


def answers(**changes: object) -> Answers:
    return parse_answers({**GOOD, **changes})


def codes(a: Answers) -> list[str]:
    return [r.code for r in assess(a, POLICY, TODAY).reasons]


def test_a_salaried_buyer_with_30_percent_down_prequalifies_in_tier_a():
    result = assess(answers(), POLICY, TODAY)
    assert result.decision is Decision.PREQUALIFIED
    assert result.tier == "A"
    assert result.loan_amount == Decimal("140000.00")
    assert result.ltv == Decimal("70.00")
    assert result.annual_rate == Decimal("3.8")
    assert result.monthly_payment == result.schedule.monthly_payment
    assert result.apr > result.annual_rate  # the 1% upfront fee
    assert result.total_interest == result.schedule.total_interest
    # The default lender does not take part in the subsidy programme: nothing is promised.
    assert result.subsidy_saving is None
    assert result.notes == []


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"age": 17}, "age_below_minimum"),
        ({"age": 62, "term_months": 60}, "age_above_maximum_at_end"),
        ({"credit_history": "default"}, "credit_default"),
        (
            {"monthly_income": 2999, "price": 30000, "down_payment": 15000, "term_months": 60},
            "income_below_minimum",
        ),
        ({"down_payment": 30000}, "ltv_above_cap"),
        ({"monthly_income": 8000}, "pti_above_cap"),
        ({"monthly_debt": 9000}, "dti_above_cap"),
        ({"term_months": 72}, "term_not_offered"),
        (
            {"vehicle_condition": "used", "vehicle_age_years": 6, "term_months": 36},
            "vehicle_too_old_at_end",
        ),
        ({"price": 60000, "down_payment": 55000}, "loan_below_minimum"),
        ({"method": "balloon", "balloon_percent": 45}, "balloon_above_max"),
    ],
)
def test_hard_rules_decline_whatever_the_score(changes, code):
    result = assess(answers(**changes), POLICY, TODAY)
    assert result.decision is Decision.DECLINED
    assert result.tier is None
    assert code in [r.code for r in result.reasons]
    assert result.reasons[0].hard


def test_reasons_are_ordered_hard_rules_first_then_by_points_lost():
    result = assess(
        answers(
            employment="other", employment_months=3, credit_history="late", monthly_income=8000
        ),
        POLICY,
        TODAY,
    )
    hard = [r for r in result.reasons if r.hard]
    soft = [r for r in result.reasons if not r.hard]
    assert result.reasons == hard + soft
    assert [r.points_lost for r in soft] == sorted((r.points_lost for r in soft), reverse=True)


def test_age_never_earns_or_loses_points():
    scores = {evaluate(answers(age=age), POLICY).score for age in (18, 30, 45, 60)}
    assert len(scores) == 1


def test_the_review_band_sits_between_c_and_declined():
    result = assess(
        answers(
            employment="other", employment_months=3, credit_history="late", monthly_income=12000
        ),
        POLICY,
        TODAY,
    )
    assert POLICY.tiers.review_min <= result.score < POLICY.tiers.C
    assert result.decision is Decision.REVIEW


def test_floating_rates_say_when_and_how_the_payment_changes():
    policy = Policy.model_validate({"rates": {"basis": "floating"}})
    result = assess(answers(), policy, TODAY)
    assert result.annual_rate == Decimal("3.8")
    note = next(n for n in result.notes if n.code == "rate_floating_january_1")
    assert note.text("en") == (
        "The rate floats: the 1-year LPR (now 3%) plus 0.8 points, reset every 1 January. "
        "Your payment will change when the LPR does."
    )
    assert "LPR变动时，您的月供也会随之变化" in note.text("zh")
    yearly = Policy.model_validate({"rates": {"basis": "floating", "repricing": "anniversary"}})
    assert "each anniversary" in assess(answers(), yearly, TODAY).notes[0].text("en")


def test_a_floating_rate_is_stress_tested_with_an_lpr_shock():
    """Worst tier 3.0 + 3.5 = 6.5%, plus the 1-point shock: 7.5% a year. 140,000 over 36
    months at 7.5%: r = 0.00625, payment = 140000 r / (1 - 1.00625^-36) = 4,354.87."""
    policy = Policy.model_validate({"rates": {"basis": "floating"}})
    assert policy.stress_rate == Decimal("7.5")
    verdict = evaluate(answers(), policy)
    r = Decimal("0.00625")
    closed = (140000 * r / (1 - (1 + r) ** -36)).quantize(Decimal("0.01"))
    assert verdict.stress_payment == closed == Decimal("4354.87")
    fixed = evaluate(answers(), POLICY)
    assert fixed.stress_payment < verdict.stress_payment


def test_every_reason_code_reads_in_both_locales_with_its_parameters():
    fields = {"min_age", "max_age", "min_income", "ltv", "cap", "min_down", "ratio", "payment",
              "debt", "stress_rate", "points", "best", "term", "terms", "max", "share",
              "months", "min_loan", "lpr", "spread", "saving", "until", "ends", "balloon", "value",
              "cover"}  # fmt: skip
    for code, texts in REASON_TEXTS.items():
        assert set(texts) == {"en", "zh"}, code
        en_fields = {f for _, f, _, _ in string.Formatter().parse(texts["en"]) if f}
        zh_fields = {f for _, f, _, _ in string.Formatter().parse(texts["zh"]) if f}
        assert en_fields == zh_fields <= fields, code
        params = dict.fromkeys(en_fields, "1")
        for locale in ("en", "zh"):
            assert "{" not in reason_text(code, locale, **params)
    assert reason_text("no_such_code", "zh") == "no_such_code"


def test_assessment_reason_texts_fill_in_the_figures():
    result = assess(answers(down_payment=30000), POLICY, TODAY)
    ltv = next(r for r in result.reasons if r.code == "ltv_above_cap")
    assert "40,000" in ltv.text("en") and "40,000" in ltv.text("zh")


def test_allowed_terms_follow_the_caps_and_the_used_car_age_rule():
    assert allowed_terms("new", 0, POLICY) == [12, 24, 36, 48, 60]
    assert allowed_terms("used", 2, POLICY) == [12, 24, 36]
    assert allowed_terms("used", 6, POLICY) == [12, 24]
    assert allowed_terms("used", 8, POLICY) == []


def test_minimum_down_payment_follows_the_ltv_cap():
    assert minimum_down_payment(Decimal(200000), "new", "fuel", "personal", POLICY) == 40000
    assert minimum_down_payment(Decimal(200000), "new", "nev", "personal", POLICY) == 30000
    assert minimum_down_payment(Decimal(100000), "used", "nev", "business", POLICY) == 30000


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        ({"price": -5}, "price: must be greater than 0, got -5"),
        (
            {"vehicle_condition": "old"},
            "vehicle_condition: must be one of 'new' or 'used', got 'old'",
        ),
        ({"down_payment": 300000}, "down_payment: must not exceed the price"),
        ({"age": "thirty"}, "age: expected a whole number, got 'thirty'"),
        ({"colour": "red"}, "colour: is not a known setting"),
    ],
)
def test_bad_answers_are_one_line_naming_the_field(changes, line):
    with pytest.raises(AnswersError) as caught:
        answers(**changes)
    assert str(caught.value).startswith(line)


def test_a_missing_answer_is_named():
    data = dict(GOOD)
    del data["monthly_income"]
    with pytest.raises(AnswersError, match="^monthly_income: is required$"):
        parse_answers(data)


def test_documents_are_named_in_both_locales():
    assert [document_text(c, "zh") for c in POLICY.documents.required] == [
        "身份证",
        "驾驶证",
        "收入证明",
        "近六个月银行流水",
    ]

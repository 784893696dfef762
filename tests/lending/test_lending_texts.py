"""Every reason, as the buyer reads it and as a manager reads it, in both locales, with the
parameters the engine itself produces: no placeholder is left unfilled.

The answer sets are drawn at random (seeded) until every reason code has been produced;
each code's texts are then rendered from the parameters the engine gave it.
"""

import random
from datetime import date
from decimal import Decimal

import pytest

from lending.answers import AnswersError, parse_answers
from lending.assessment import Reason, assess, evaluate
from lending.offers import counter_offers
from lending.policy import Policy
from lending.reasons import ABOUT_BUYER, REASON_TEXTS, reason_text
from tests.lending.test_lending_subsidy import README_BUYER

NOTES = {"rate_floating_january_1", "rate_floating_anniversary", "subsidy_estimate"}
POLICY = Policy()


def _random_answers(rng: random.Random) -> dict[str, object]:
    condition = rng.choice(["new", "used"])
    method = rng.choice(["annuity", "equal_principal", "balloon"])
    price = rng.choice([30000, 80000, 150000, 200000, 400000])
    data: dict[str, object] = {
        "vehicle_condition": condition,
        "powertrain": rng.choice(["fuel", "nev"]),
        "use": rng.choice(["personal", "business"]),
        "price": price,
        "down_payment": price * rng.choice([0, 5, 15, 30, 60, 95]) // 100,
        "term_months": rng.choice([12, 24, 36, 48, 60, 72, 84, 30]),
        "method": method,
        "employment": rng.choice(["salaried", "self_employed", "business_owner", "other"]),
        "employment_months": rng.choice([0, 3, 12, 48]),
        "monthly_income": rng.choice([0, 2000, 4000, 8000, 15000, 40000]),
        "monthly_debt": rng.choice([0, 0, 1500, 6000]),
        "credit_history": rng.choice(["clean", "clean", "late", "default"]),
        "age": rng.choice([17, 30, 45, 58, 64]),
    }
    if condition == "used":
        data["vehicle_age_years"] = rng.choice([1, 5, 9])
    if method == "balloon":
        data["balloon_percent"] = rng.choice([10, 20, 40, 60])
    return data


# Long negative equity needs a strong buyer with a thin down payment and a balloon.
UNDERWATER = {
    **README_BUYER, "down_payment": 30000, "term_months": 60, "method": "balloon",
    "employment_months": 60, "monthly_income": 40000,
}  # fmt: skip


def _reasons_by_code() -> dict[str, Reason]:
    rng = random.Random(18)
    found = {r.code: r for r in evaluate(parse_answers(UNDERWATER), POLICY).reasons}
    wanted = set(REASON_TEXTS) - NOTES
    for _ in range(20000):
        try:
            answers = parse_answers(_random_answers(rng))
        except AnswersError:
            continue
        for reason in evaluate(answers, POLICY).reasons:
            found.setdefault(reason.code, reason)
        if wanted <= set(found):
            break
    return found


FOUND = _reasons_by_code()


def test_the_engine_produces_every_reason_code():
    assert set(REASON_TEXTS) - NOTES - set(FOUND) == set()


def test_every_manager_wording_has_a_buyer_wording():
    assert set(ABOUT_BUYER) <= set(REASON_TEXTS)


@pytest.mark.parametrize("code", sorted(set(REASON_TEXTS) - NOTES))
@pytest.mark.parametrize("locale", ["en", "zh"])
@pytest.mark.parametrize("about_buyer", [False, True])
def test_every_reason_renders_with_the_engine_parameters(code, locale, about_buyer):
    reason = FOUND[code]
    text = reason_text(code, locale, about_buyer=about_buyer, **reason.params)
    assert "{" not in text and "}" not in text, text
    assert text != code


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_the_manager_reads_every_reason_about_the_buyer(locale):
    """Third person on the card: every reason code has its own manager wording."""
    assert set(REASON_TEXTS) - NOTES - set(ABOUT_BUYER) == set()
    for code, texts in ABOUT_BUYER.items():
        text = texts[locale]
        if locale == "en":
            assert "you" not in text.lower().split(), (code, text)
        else:
            assert "您" not in text, (code, text)


def test_a_missing_parameter_fails_loudly():
    with pytest.raises(KeyError):
        reason_text("pti_above_cap", "en", about_buyer=True, cap="40")


def test_the_card_wording_carries_the_ratio():
    """Hand-worked: 4,120.91 on an income of 25,000 is 16.48%."""
    text = reason_text(
        "payment_to_income_high", "en", about_buyer=True,
        payment="4,120.91", ratio=Decimal("16.48"), best="15",
    )  # fmt: skip
    assert text == "The monthly payment is a large share of income (16.48%)."
    zh = reason_text(
        "pti_above_cap", "zh", about_buyer=True, payment="6,129.46", ratio="40.33", cap="40"
    )
    assert zh == "月供6,129.46元，月供收入比40.33%（上限40%）。"


AGED = {**README_BUYER, "powertrain": "fuel", "employment_months": 120, "monthly_income": 40000}
del AGED["age"]


def test_a_64_year_old_is_not_told_a_shorter_term_may_work_when_none_does():
    """64 may be 64 and 11 months: 64 x 12 + 11 + 12 = 791 months > 65 x 12 = 780, so even
    the shortest term (12) ends past 65: no plan, and no reason suggesting one."""
    answers = parse_answers({**AGED, "age": 64})
    result = assess(answers, POLICY, date(2026, 3, 1))
    [age] = [r for r in result.reasons if r.code == "age_above_maximum_at_end"]
    assert age.text("en") == "You could be over 65 when the loan ends."
    assert age.text("zh") == "贷款到期时您的年龄可能超过65岁。"
    assert counter_offers(answers, POLICY, date(2026, 3, 1)) == []


def test_a_60_year_old_is_offered_the_shorter_term_that_works():
    """60 x 12 + 11 + 60 = 791 > 780; with 48 months 779 <= 780: the offer is 48 months."""
    answers = parse_answers({**AGED, "age": 60, "term_months": 60})
    [offer] = counter_offers(answers, POLICY, date(2026, 3, 1))
    assert (offer.kind, offer.answers.term_months) == ("shorter_term", 48)


def _tenure_reasons(months: int) -> list[Reason]:
    answers = parse_answers({**AGED, "age": 35, "employment_months": months})
    return [r for r in evaluate(answers, POLICY).reasons if r.code == "employment_short"]


def test_job_tenure_is_a_reason_only_below_the_best_band_and_names_it():
    """The default scorecard's best tenure band starts at 36 months."""
    assert _tenure_reasons(36) == []
    [short] = _tenure_reasons(24)
    assert short.text("en") == (
        "You have been in your current job for 24 months; 36 months or more scores best."
    )
    assert short.text("zh") == "您在现单位工作24个月；满36个月评分最高。"
    assert reason_text("employment_short", "en", about_buyer=True, **short.params) == (
        "24 months in the current job (36 or more scores best)."
    )

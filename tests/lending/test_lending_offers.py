"""Counter-offers: each pre-qualifies, and one step less generous does not."""

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from lending.answers import Answers
from lending.assessment import Decision, assess, offered_terms
from lending.offers import counter_offers, max_affordable_price
from lending.policy import load_policy

POLICY = load_policy()
TODAY = date(2025, 10, 1)
STEP = Decimal(1000)


def prequalifies(a: Answers) -> bool:
    return assess(a, POLICY, TODAY).decision is Decision.PREQUALIFIED


@st.composite
def applications(draw: st.DrawFn) -> Answers:
    condition = draw(st.sampled_from(["new", "used"]))
    price = Decimal(draw(st.integers(min_value=30, max_value=800))) * STEP
    share = Decimal(draw(st.integers(min_value=0, max_value=60)))
    method = draw(st.sampled_from(["annuity", "equal-principal", "balloon"]))
    return Answers.model_validate(
        {
            "vehicle_condition": condition,
            "powertrain": draw(st.sampled_from(["fuel", "nev"])),
            "use": draw(st.sampled_from(["personal", "business"])),
            "price": price,
            "vehicle_age_years": draw(st.integers(0, 7)) if condition == "used" else 0,
            "down_payment": (price * share / 100).quantize(Decimal(1)),
            "term_months": draw(st.sampled_from(offered_terms(condition, POLICY))),
            "method": method,
            "balloon_percent": draw(st.sampled_from([None, 20, 30])) if method == "balloon" else None,
            "employment": draw(st.sampled_from(["salaried", "self_employed", "business_owner", "retired", "other"])),
            "employment_months": draw(st.integers(0, 120)),
            "monthly_income": Decimal(draw(st.integers(2, 60))) * STEP,
            "monthly_debt": Decimal(draw(st.integers(0, 20))) * 500,
            "credit_history": draw(st.sampled_from(["clean", "clean", "late", "default"])),
            "age": draw(st.integers(17, 66)),
        }
    )  # fmt: skip


@settings(derandomize=True, max_examples=250, deadline=None)
@given(applications())
def test_every_counter_offer_prequalifies_and_one_step_less_does_not(a):
    result = assess(a, POLICY, TODAY)
    offers = counter_offers(a, POLICY, TODAY)
    if result.decision is Decision.PREQUALIFIED:
        assert offers == []
        return
    for offer in offers:
        assert offer.assessment.decision is Decision.PREQUALIFIED
        assert prequalifies(offer.answers)
        o = offer.answers
        if offer.kind == "more_down":
            assert (o.price, o.term_months) == (a.price, a.term_months)
            assert o.down_payment > a.down_payment
            assert (o.down_payment - a.down_payment) % STEP == 0
            assert not prequalifies(o.with_changes(down_payment=o.down_payment - STEP))
        elif offer.kind in ("longer_term", "shorter_term"):
            assert (o.price, o.down_payment) == (a.price, a.down_payment)
            assert (o.term_months > a.term_months) == (offer.kind == "longer_term")
            shorter = [t for t in offered_terms(a.vehicle_condition, POLICY) if t < o.term_months]
            for term in shorter:
                if term != a.term_months:
                    assert not prequalifies(o.with_changes(term_months=term))
        else:
            assert offer.kind == "cheaper_car"
            assert (o.down_payment, o.term_months) == (a.down_payment, a.term_months)
            assert o.price < a.price and o.price % STEP == 0
            assert not prequalifies(o.with_changes(price=o.price + STEP))


def test_a_declined_buyer_gets_three_concrete_plans():
    a = Answers.model_validate(
        {
            "vehicle_condition": "new", "powertrain": "fuel", "use": "personal",
            "price": 300000, "vehicle_age_years": 0, "down_payment": 60000,
            "term_months": 24, "method": "annuity", "employment": "salaried",
            "employment_months": 36, "monthly_income": 15000, "monthly_debt": 0,
            "credit_history": "clean", "age": 35,
        }
    )  # fmt: skip
    assert assess(a, POLICY, TODAY).decision is Decision.DECLINED
    kinds = [o.kind for o in counter_offers(a, POLICY, TODAY)]
    assert kinds == ["more_down", "longer_term", "cheaper_car"]


def test_no_plan_cures_a_current_default():
    a = Answers.model_validate(
        {
            "vehicle_condition": "new", "powertrain": "fuel", "use": "personal",
            "price": 100000, "vehicle_age_years": 0, "down_payment": 30000,
            "term_months": 36, "method": "annuity", "employment": "salaried",
            "employment_months": 36, "monthly_income": 15000, "monthly_debt": 0,
            "credit_history": "default", "age": 35,
        }
    )  # fmt: skip
    assert counter_offers(a, POLICY, TODAY) == []


@settings(derandomize=True, max_examples=100, deadline=None)
@given(applications())
def test_max_affordable_price_qualifies_and_1000_more_does_not(a):
    price = max_affordable_price(a.down_payment, a.term_months, a, POLICY)
    if price is None:
        return
    at = a.with_changes(price=price)
    assert prequalifies(at)
    assert not prequalifies(at.with_changes(price=price + STEP))


def test_max_affordable_price_from_a_mapping_without_a_price():
    profile = {
        "vehicle_condition": "new", "powertrain": "nev", "use": "personal",
        "method": "annuity", "employment": "salaried", "employment_months": 36,
        "monthly_income": 20000, "monthly_debt": 0, "credit_history": "clean", "age": 30,
    }  # fmt: skip
    price = max_affordable_price(Decimal(50000), 60, profile, POLICY)
    assert price is not None and price % STEP == 0 and price > 50000
    assert max_affordable_price(Decimal(0), 60, profile, POLICY) is None

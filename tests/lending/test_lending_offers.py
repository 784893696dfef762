"""Counter-offers: each pre-qualifies, and one step less generous does not."""

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from lending.answers import Answers
from lending.assessment import Decision, assess, offered_terms
from lending.offers import _first_passing, counter_offers, max_affordable_price
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


def brute_nearest_term(a: Answers, term: int | None = None) -> int | None:
    """Every offered term tried; the closest to the asked one wins, the shorter on a tie."""
    asked = a.term_months
    passing = [
        t for t in offered_terms(a.vehicle_condition, POLICY)
        if t != asked and prequalifies(a.with_changes(term_months=t))
    ]  # fmt: skip
    return min(passing, key=lambda t: (abs(t - asked), t), default=None)


def balloon_fits(a: Answers) -> bool:
    """The balloon (a percent of the price, 30 unless asked) is no more than the loan."""
    if a.method != "balloon":
        return True
    pct = Decimal(30) if a.balloon_percent is None else a.balloon_percent
    return a.price * pct / 100 <= a.price - a.down_payment


def offerable(a: Answers) -> bool:
    return balloon_fits(a) and prequalifies(a)


def brute_smallest_down(a: Answers) -> Decimal | None:
    """Every 1,000-yuan step of extra down payment tried, from one step up."""
    down = a.down_payment + STEP
    while a.price - down >= POLICY.eligibility.min_loan_amount:
        if offerable(a.with_changes(down_payment=down)):
            return down
        down += STEP
    return None


def brute_dearest_car(a: Answers) -> Decimal | None:
    """Every price on the 1,000-yuan grid below the asked one tried, dearest first."""
    price = (a.price - Decimal("0.01")) // STEP * STEP
    while price - a.down_payment >= POLICY.eligibility.min_loan_amount:
        if offerable(a.with_changes(price=price)):
            return price
        price -= STEP
    return None


def brute_lower_balloon(a: Answers) -> Decimal | None:
    """Every whole balloon percent below the asked one tried, largest first."""
    if a.method != "balloon":
        return None
    asked = Decimal(30) if a.balloon_percent is None else a.balloon_percent
    for pct in range(int(asked - Decimal("0.01")), 0, -1):
        if offerable(a.with_changes(balloon_percent=Decimal(pct))):
            return Decimal(pct)
    return None


@settings(derandomize=True, max_examples=150, deadline=None)
@given(applications())
def test_every_counter_offer_is_the_nearest_a_brute_force_search_finds(a):
    result = assess(a, POLICY, TODAY)
    offers = counter_offers(a, POLICY, TODAY)
    if result.decision is Decision.PREQUALIFIED:
        assert offers == []
        return
    by_kind = {o.kind: o for o in offers}
    for offer in offers:
        assert offer.assessment.decision is Decision.PREQUALIFIED
        assert prequalifies(offer.answers)
        assert balloon_fits(offer.answers)
    if not offers or any(k.startswith("term_and") for k in by_kind):
        # No single change qualifies: the brute force agrees on each axis.
        if not any(r.code in ("credit_default", "age_below_minimum", "income_none",
                              "income_below_minimum", "balloon_above_max")
                   for r in result.reasons):  # fmt: skip
            assert brute_nearest_term(a) is None
            assert brute_smallest_down(a) is None
            assert brute_dearest_car(a) is None
            assert brute_lower_balloon(a) is None
        return
    lower = by_kind.get("lower_balloon")
    assert (lower.answers.balloon_percent if lower else None) == brute_lower_balloon(a)
    term = brute_nearest_term(a)
    term_offer = by_kind.get("longer_term") or by_kind.get("shorter_term")
    assert (term_offer.answers.term_months if term_offer else None) == term
    if term_offer:
        o = term_offer.answers
        assert (o.price, o.down_payment) == (a.price, a.down_payment)
        assert (o.term_months > a.term_months) == (term_offer.kind == "longer_term")
    down = brute_smallest_down(a)
    assert (by_kind["more_down"].answers.down_payment if "more_down" in by_kind else None) == down
    price = brute_dearest_car(a)
    assert (by_kind["cheaper_car"].answers.price if "cheaper_car" in by_kind else None) == price


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


AGED_61 = {
    "vehicle_condition": "new", "powertrain": "fuel", "use": "personal", "price": 200000,
    "vehicle_age_years": 0, "down_payment": 60000, "term_months": 60, "method": "annuity",
    "employment": "salaried", "employment_months": 48, "monthly_income": 40000,
    "monthly_debt": 0, "credit_history": "clean", "age": 61,
}  # fmt: skip


def test_a_61_year_old_asking_60_months_is_offered_the_nearest_term_not_the_shortest():
    """Counted conservatively, 61 may be 61 and 11 months: 61y11m + 36 months is 64y11m,
    within 65; 48 months would end at 65y11m. 12, 24 and 36 all qualify; 36 is nearest."""
    a = Answers.model_validate(AGED_61)
    for term in (12, 24, 36):
        assert prequalifies(a.with_changes(term_months=term))
    assert not prequalifies(a.with_changes(term_months=48))
    offers = {o.kind: o for o in counter_offers(a, POLICY, TODAY)}
    assert offers["shorter_term"].answers.term_months == 36


def test_a_payment_too_high_is_offered_the_next_longer_term():
    """Asking 24 months on 11,000 a month: 48 and 60 months would qualify too; 36 is nearest."""
    a = Answers.model_validate({**AGED_61, "age": 35, "term_months": 24, "monthly_income": 11000})
    passing = [t for t in (12, 36, 48, 60) if prequalifies(a.with_changes(term_months=t))]
    assert passing == [36, 48, 60]
    offers = {o.kind: o for o in counter_offers(a, POLICY, TODAY)}
    assert offers["longer_term"].answers.term_months == 36


def test_when_no_single_change_works_the_nearest_term_with_the_least_extra_money():
    """63 may be 63y11m: only a 12-month loan ends by 65. Asking 36 months on 6,000 a
    month, 12 months of 140,000 is far over the payment cap: no single change works. At
    12 months, the smallest extra down payment and the dearest car that qualify are found
    by trying every 1,000-yuan step."""
    a = Answers.model_validate({**AGED_61, "age": 63, "term_months": 36, "monthly_income": 6000})
    assert brute_nearest_term(a) is None
    assert brute_smallest_down(a) is None and brute_dearest_car(a) is None
    at_12 = a.with_changes(term_months=12)
    offers = {o.kind: o.answers for o in counter_offers(a, POLICY, TODAY)}
    assert set(offers) == {"term_and_down", "term_and_car"}
    assert offers["term_and_down"].term_months == offers["term_and_car"].term_months == 12
    assert offers["term_and_down"].down_payment == brute_smallest_down(at_12)
    assert offers["term_and_car"].price == brute_dearest_car(at_12)


def test_between_two_equally_near_terms_the_shorter_is_offered():
    """30 months is not on the price list; 24 and 36 are both 6 months away and both
    qualify: the shorter costs less interest."""
    a = Answers.model_validate({**AGED_61, "age": 35, "term_months": 30})
    assert prequalifies(a.with_changes(term_months=24)) and prequalifies(
        a.with_changes(term_months=36)
    )
    offers = {o.kind: o for o in counter_offers(a, POLICY, TODAY)}
    assert offers["shorter_term"].answers.term_months == 24


def test_a_balloon_too_big_for_the_car_is_offered_a_smaller_balloon_never_one_above_the_loan():
    """NEV at 200,000, 30,000 down, 60 months, 40% balloon: 80,000 is above the forecast
    value less the margin (62,000), so no down payment cures it; more down payment could
    only shrink the loan below the balloon (138,000 down leaves 62,000 owed against an
    80,000 balloon) and a cheaper car (43,000) would owe 13,000 against 17,200."""
    a = Answers.model_validate(
        {
            "vehicle_condition": "new", "powertrain": "nev", "use": "personal",
            "price": 200000, "down_payment": 30000, "term_months": 60, "method": "balloon",
            "balloon_percent": 40, "employment": "salaried", "employment_months": 36,
            "monthly_income": 30000, "monthly_debt": 0, "credit_history": "clean", "age": 35,
        }
    )  # fmt: skip
    offers = {o.kind: o for o in counter_offers(a, POLICY, TODAY)}
    assert "more_down" not in offers and "cheaper_car" not in offers
    for offer in offers.values():
        o = offer.answers
        pct = Decimal(30) if o.balloon_percent is None else o.balloon_percent
        assert o.price * pct / 100 <= o.price - o.down_payment
    lower = offers["lower_balloon"].answers
    assert (lower.price, lower.down_payment, lower.term_months) == (200000, 30000, 60)
    assert lower.balloon_percent < 40
    assert prequalifies(lower)
    assert not prequalifies(lower.with_changes(balloon_percent=lower.balloon_percent + 1))


def test_the_step_search_finds_the_first_passing_step_wherever_it_lies():
    # A predicate false below `first` and true from it; the cheap one true from `early`
    # (at or before `first`). Every answer is checked against the plain definition.
    for lo, hi in ((0, 0), (0, 1), (3, 40), (0, 333)):
        for first in range(lo, hi + 2):
            for early in {lo, (lo + first) // 2, first}:
                probed: list[int] = []

                def passes(k: int, first: int = first, probed: list[int] = probed) -> bool:
                    probed.append(k)
                    return k >= first

                def needed(k: int, early: int = early) -> bool:
                    return k >= early

                want = first if first <= hi else None
                assert _first_passing(lo, hi, passes) == want
                assert _first_passing(lo, hi, passes, needed) == want
                assert all(lo <= k <= hi for k in probed)

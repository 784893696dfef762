"""Counter-offers: when the answer is no, the nearest plans whose answer is yes.

A loan manager does not stop at "declined": they change as little as possible of what
the buyer asked. Each offer is the nearest plan that pre-qualifies along one answer: the
offered term closest to the asked one, in either direction (the shorter of two equally
close); the smallest extra down payment on a 1,000-yuan grid; the dearest cheaper car on
that grid; for a balloon loan, the largest balloon percent below the asked one. A balloon
never exceeds the loan: a plan whose balloon percent of the price would be more than what
is borrowed (a large down payment, a cheap car) is never offered. Only when no single change works, the nearest term that works together with
the smallest extra down payment, or with the dearest cheaper car. The money searches rely
on the decision being monotone in that answer (more down payment or a cheaper car never
makes things worse, the car's forecast value included) and binary-search with the fast
`evaluate(..., explain=False)`. Only the winners are fully assessed.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from lending.answers import Answers
from lending.assessment import (
    Assessment,
    assess,
    fixed_rules_decline,
    minimum_down_payment,
    offered_terms,
    over_income_caps,
    within_caps,
)
from lending.assessment import evaluate as _evaluate
from lending.money import HUNDRED, ZERO, money, round_down_to, round_up_to
from lending.policy import Policy
from lending.rules import rules_for
from lending.schedule import RepaymentMethod

STEP = Decimal(1000)

OfferKind = Literal[
    "lower_balloon", "more_down", "longer_term", "shorter_term", "cheaper_car",
    "term_and_down", "term_and_car",
]  # fmt: skip


@dataclass(frozen=True)
class Offer:
    """A complete answer set, one answer changed (two for `term_and_*`), that assesses as
    pre-qualified."""

    kind: OfferKind
    answers: Answers
    assessment: Assessment

    @property
    def monthly_payment(self) -> Decimal:
        return self.assessment.monthly_payment


def _qualifies(answers: Answers, policy: Policy, **overrides: Any) -> bool:
    return _evaluate(answers, policy, explain=False, **overrides).prequalified


def _balloon_percent(answers: Answers, policy: Policy) -> Decimal:
    """The balloon asked for, percent of the price (0 for another method)."""
    if answers.method is not RepaymentMethod.BALLOON:
        return ZERO
    pct = answers.balloon_percent
    return policy.balloon.default_percent if pct is None else pct


def balloon_within_loan(answers: Answers, policy: Policy) -> bool:
    """True when the balloon asked for (a percent of the price) is no more than the loan."""
    return answers.price * _balloon_percent(answers, policy) <= answers.loan_amount * HUNDRED


def _gallop(lo: int, hi: int, passes: Callable[[int], bool]) -> int:
    """Smallest k in [lo, hi] with passes(k), for a predicate false-then-true that holds at
    `hi`: 1, 2, 4, ... steps from `lo`, then a bisection, so an answer near `lo` is cheap."""
    if passes(lo):
        return lo
    step = 1  # passes(lo) is false and passes(hi) true
    while lo + step < hi:
        if passes(lo + step):
            hi = lo + step
            break
        lo += step
        step *= 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if passes(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _first_passing(
    lo: int, hi: int, passes: Callable[[int], bool], needed: Callable[[int], bool] | None = None
) -> int | None:
    """Smallest k in [lo, hi] with passes(k), for a predicate false-then-true; else None.

    `needed` is a cheaper predicate, also false-then-true, that holds wherever `passes`
    does: the search starts where it first holds, and gallops from there (the full
    decision often passes at once or a few steps on).
    """
    if lo > hi or not passes(hi):
        return None
    if needed is not None:  # its answer lies anywhere in the range: bisect
        top = hi
        while lo < top:
            mid = (lo + top) // 2
            if needed(mid):
                top = mid
            else:
                lo = mid + 1
    return _gallop(lo, hi, passes)


def smallest_extra_down(
    answers: Answers, policy: Policy, term: int | None = None
) -> Answers | None:
    """Same car and term (or `term`), the down payment raised by the fewest 1,000-yuan steps."""
    a = answers if term is None else answers.with_changes(term_months=term)
    max_down = a.price - policy.eligibility.min_loan_amount
    steps_max = int((max_down - a.down_payment) // STEP)
    # Below the LTV minimum nothing can pass: start the search there.
    min_down = minimum_down_payment(a.price, a.vehicle_condition, a.powertrain, a.use, policy)
    steps_min = max(1, int(round_up_to(min_down - a.down_payment, STEP) // STEP))

    def passes(k: int) -> bool:
        return _qualifies(a, policy, down_payment=a.down_payment + k * STEP)

    def needed(k: int) -> bool:
        return within_caps(a, policy, down_payment=a.down_payment + k * STEP)

    k = _first_passing(steps_min, steps_max, passes, needed)
    return None if k is None else a.with_changes(down_payment=money(a.down_payment + k * STEP))


def terms_by_nearness(answers: Answers, policy: Policy) -> list[int]:
    """The other offered terms, closest to the asked one first (the shorter of a tie)."""
    asked = answers.term_months
    others = [t for t in offered_terms(answers.vehicle_condition, policy) if t != asked]
    return sorted(others, key=lambda t: (abs(t - asked), t))


def nearest_qualifying_term(answers: Answers, policy: Policy) -> Answers | None:
    """Same car and down payment, the offered term closest to the asked one that qualifies."""
    for term in terms_by_nearness(answers, policy):
        if _qualifies(answers, policy, term_months=term):
            return answers.with_changes(term_months=term)
    return None


def _price_candidates(down: Decimal, policy: Policy) -> int:
    """The lowest price step (in thousands) that still makes a loan above the minimum."""
    return int(round_up_to(down + policy.eligibility.min_loan_amount, STEP) // STEP)


def most_expensive_car(answers: Answers, policy: Policy, term: int | None = None) -> Answers | None:
    """Same down payment and term (or `term`), the dearest car (a multiple of 1,000) below
    the price."""
    a = answers if term is None else answers.with_changes(term_months=term)
    lowest = _price_candidates(a.down_payment, policy)
    highest = int((round_down_to(a.price - Decimal("0.01"), STEP)) // STEP)

    def passes_from_top(i: int) -> bool:  # i counts steps down from `highest`
        return _qualifies(a, policy, price=(highest - i) * STEP)

    def needed(i: int) -> bool:
        return within_caps(a, policy, price=(highest - i) * STEP)

    i = _first_passing(0, highest - lowest, passes_from_top, needed)
    return None if i is None else a.with_changes(price=money((highest - i) * STEP))


def largest_lower_balloon(answers: Answers, policy: Policy) -> Answers | None:
    """Same car, down payment and term, the largest whole balloon percent below the asked
    one that qualifies (a smaller balloon raises the payment, so the search walks down)."""
    asked = _balloon_percent(answers, policy)
    top = int(asked) if asked != int(asked) else int(asked) - 1
    # Above the loan's share of the price the balloon would exceed the loan, and above the
    # forecast value less the margin it is never offered: start below both.
    a = answers
    loan_share = int(a.loan_amount * HUNDRED // a.price)
    values = rules_for(policy).value_percents(
        a.vehicle_condition, a.powertrain, a.vehicle_age_years
    )
    if a.term_months < len(values):
        top = min(top, int(values[a.term_months] - policy.balloon.residual_margin) + 1)
    if fixed_rules_decline(a, policy):
        return None
    for pct in range(min(top, loan_share), 0, -1):
        verdict = _evaluate(a, policy, explain=False, balloon_percent=Decimal(pct))
        if verdict.prequalified:
            return a.with_changes(balloon_percent=Decimal(pct))
        # A smaller balloon only raises the payment: once over a cap, every lower one is.
        if over_income_caps(a, policy, verdict.stress_payment):
            return None
    return None


def counter_offers(answers: Answers, policy: Policy, today: date | None = None) -> list[Offer]:
    """The nearest plans that would pre-qualify: more down, another term, a cheaper car
    (each if any); if none of those, the nearest term with more down or a cheaper car.

    Empty for an application that is already pre-qualified, or whose reasons (a current
    default, age under the minimum, no income or income under the floor) no plan can cure.
    """
    current = _evaluate(answers, policy, explain=False)
    if current.prequalified or current.incurable:
        return []
    found: list[tuple[OfferKind, Answers | None]] = [
        ("lower_balloon", largest_lower_balloon(answers, policy)),
        ("more_down", smallest_extra_down(answers, policy)),
        ("longer_term", nearest_qualifying_term(answers, policy)),
        ("cheaper_car", most_expensive_car(answers, policy)),
    ]
    if not any(plan for _, plan in found):
        for term in terms_by_nearness(answers, policy):
            found = [
                ("term_and_down", smallest_extra_down(answers, policy, term)),
                ("term_and_car", most_expensive_car(answers, policy, term)),
            ]
            if any(plan for _, plan in found):
                break
    offers: list[Offer] = []
    for kind, plan in found:
        # More down payment or a cheaper car shrinks the loan below a balloon set as a share
        # of the price; the nearest such plan failing this, every farther one fails too.
        if plan is None or not balloon_within_loan(plan, policy):
            continue
        if kind == "longer_term" and plan.term_months < answers.term_months:
            kind = "shorter_term"
        offers.append(Offer(kind, plan, assess(plan, policy, today)))
    return offers


def max_affordable_price(
    down_payment: Decimal,
    term_months: int,
    answers_without_price: Answers | Mapping[str, Any],
    policy: Policy,
) -> Decimal | None:
    """The dearest car (a multiple of 1,000 yuan) that pre-qualifies with this down payment
    and term, for a prospect who has not chosen a car yet; None if none does.

    `answers_without_price` is an `Answers` (its price, down payment and term are ignored)
    or a mapping of the other answer keys.
    """
    down = Decimal(down_payment)
    if isinstance(answers_without_price, Answers):
        base = answers_without_price.with_changes(down_payment=money(down), term_months=term_months)
    else:
        data = {**answers_without_price, "down_payment": down, "term_months": term_months}
        data.setdefault("price", down + STEP)
        base = Answers.model_validate(data)
    lowest = _price_candidates(down, policy)

    def fails(k: int) -> bool:
        return not _qualifies(base, policy, price=k * STEP)

    if fails(lowest):
        return None
    # Grow until a price fails (the LTV cap guarantees one), then search between.
    span = 1
    while not fails(lowest + span):
        span *= 2
        if span > 10**7:  # ten billion yuan: no policy lends that; treat as unbounded
            return None
    first_fail = _first_passing(lowest + span // 2, lowest + span, fails)
    assert first_fail is not None
    return money((first_fail - 1) * STEP)

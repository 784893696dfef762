"""Counter-offers: when the answer is no, the nearest plans whose answer is yes.

A loan manager does not stop at "declined": they try a bigger down payment, a longer
term or a cheaper car. Each search here changes one answer on a 1,000-yuan grid (or the
list of terms), relies on the decision being monotone in that answer (more down payment
or a cheaper car never makes things worse), and binary-searches with the fast
`evaluate(..., explain=False)`. Only the winners are fully assessed.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from lending.answers import Answers
from lending.assessment import Assessment, assess, minimum_down_payment, offered_terms
from lending.assessment import evaluate as _evaluate
from lending.money import money, round_down_to, round_up_to
from lending.policy import Policy

STEP = Decimal(1000)

OfferKind = Literal["more_down", "longer_term", "shorter_term", "cheaper_car"]

# Reasons no change of down payment, term or car can cure.
_INCURABLE = frozenset(
    {"age_below_minimum", "credit_default", "income_below_minimum", "balloon_above_max"}
)


@dataclass(frozen=True)
class Offer:
    """A complete answer set, one answer changed, that assesses as pre-qualified."""

    kind: OfferKind
    answers: Answers
    assessment: Assessment

    @property
    def monthly_payment(self) -> Decimal:
        return self.assessment.monthly_payment


def _qualifies(answers: Answers, policy: Policy, **overrides: Any) -> bool:
    return _evaluate(answers, policy, explain=False, **overrides).prequalified


def _first_passing(lo: int, hi: int, passes: Callable[[int], bool]) -> int | None:
    """Smallest k in [lo, hi] with passes(k), for a predicate false-then-true; else None."""
    if lo > hi or not passes(hi):
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if passes(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def smallest_extra_down(answers: Answers, policy: Policy) -> Answers | None:
    """Same car and term, the down payment raised by the fewest 1,000-yuan steps."""
    a = answers
    max_down = a.price - policy.eligibility.min_loan_amount
    steps_max = int((max_down - a.down_payment) // STEP)
    # Below the LTV minimum nothing can pass: start the search there.
    min_down = minimum_down_payment(a.price, a.vehicle_condition, a.powertrain, a.use, policy)
    steps_min = max(1, int(round_up_to(min_down - a.down_payment, STEP) // STEP))

    def passes(k: int) -> bool:
        return _qualifies(a, policy, down_payment=a.down_payment + k * STEP)

    k = _first_passing(steps_min, steps_max, passes)
    return None if k is None else a.with_changes(down_payment=money(a.down_payment + k * STEP))


def shortest_qualifying_term(answers: Answers, policy: Policy) -> Answers | None:
    """Same car and down payment, the shortest offered term (other than the chosen one)."""
    for term in offered_terms(answers.vehicle_condition, policy):
        if term == answers.term_months:
            continue
        if _qualifies(answers, policy, term_months=term):
            return answers.with_changes(term_months=term)
    return None


def _price_candidates(down: Decimal, policy: Policy) -> int:
    """The lowest price step (in thousands) that still makes a loan above the minimum."""
    return int(round_up_to(down + policy.eligibility.min_loan_amount, STEP) // STEP)


def most_expensive_car(answers: Answers, policy: Policy) -> Answers | None:
    """Same down payment and term, the dearest car (a multiple of 1,000) below the price."""
    a = answers
    lowest = _price_candidates(a.down_payment, policy)
    highest = int((round_down_to(a.price - Decimal("0.01"), STEP)) // STEP)

    def passes_from_top(i: int) -> bool:  # i counts steps down from `highest`
        return _qualifies(a, policy, price=(highest - i) * STEP)

    i = _first_passing(0, highest - lowest, passes_from_top)
    return None if i is None else a.with_changes(price=money((highest - i) * STEP))


def counter_offers(answers: Answers, policy: Policy, today: date | None = None) -> list[Offer]:
    """Plans that would pre-qualify: more down, another term, a cheaper car (each if any).

    Empty for an application that is already pre-qualified, or whose reasons (a current
    default, age under the minimum, income under the floor) no plan can cure.
    """
    current = _evaluate(answers, policy)
    if current.prequalified or any(r.code in _INCURABLE for r in current.reasons):
        return []
    offers: list[Offer] = []
    more_down = smallest_extra_down(answers, policy)
    if more_down is not None:
        offers.append(Offer("more_down", more_down, assess(more_down, policy, today)))
    other_term = shortest_qualifying_term(answers, policy)
    if other_term is not None:
        kind: OfferKind = (
            "longer_term" if other_term.term_months > answers.term_months else "shorter_term"
        )
        offers.append(Offer(kind, other_term, assess(other_term, policy, today)))
    cheaper = most_expensive_car(answers, policy)
    if cheaper is not None:
        offers.append(Offer("cheaper_car", cheaper, assess(cheaper, policy, today)))
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

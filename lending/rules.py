"""The policy flattened for the hot path: tuples, dicts and precomputed annuity factors.

Counter-offer searches evaluate an applicant dozens of times; reading pydantic models,
dumping tables and raising `Decimal` powers each time would cost more than the decision
itself. A `Rules` is built once per `Policy` object and kept on it (policies are loaded
once and not mutated afterwards).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from lending.money import ZERO, money, month_interest, monthly_rate
from lending.policy import Depreciation, Policy
from lending.residual import forecast_percents
from lending.schedule import RepaymentMethod

_LONGEST_TERM = 120  # months; `Answers` allows no longer term


@dataclass(frozen=True, slots=True)
class Rules:
    ltv_caps: dict[tuple[str, str, str], Decimal]
    offered_terms: dict[str, tuple[int, ...]]
    used_max_age_months: int
    min_age: int
    max_age_at_end_months: int
    min_income: Decimal
    min_loan: Decimal
    max_pti: Decimal
    max_dti: Decimal
    balloon_default: Decimal
    balloon_max: Decimal
    stress_monthly_rate: Decimal
    stress_factors: dict[int, tuple[Decimal, Decimal]]  # term -> (discount, r / (1 - discount))
    pti_bands: tuple[tuple[Decimal, int], ...]
    dti_bands: tuple[tuple[Decimal, int], ...]
    down_bands: tuple[tuple[Decimal, int], ...]
    months_bands: tuple[tuple[Decimal, int], ...]
    pti_best: int
    dti_best: int
    down_best: int
    months_best: int
    employment: dict[str, int]
    employment_best: int
    credit: dict[str, int]
    credit_best: int
    condition: dict[str, int]
    condition_best: int
    tier_a: int
    tier_b: int
    tier_c: int
    review_min: int
    tier_rates: dict[str, Decimal]
    worst_rate: Decimal
    stress_rate: Decimal
    balloon_margin: Decimal
    negative_equity_max_months: int
    negative_equity_declines: bool
    depreciation: Depreciation
    # (condition, powertrain, vehicle age) -> forecast value by loan month, filled on use.
    _values: dict[tuple[str, str, int], tuple[Decimal, ...]] = field(default_factory=dict)
    _fractions: dict[tuple[str, str, int], tuple[tuple[float, ...], bool]] = field(
        default_factory=dict
    )

    def value_percents(self, condition: str, powertrain: str, age: int) -> tuple[Decimal, ...]:
        """The forecast value after 0..120 months of a loan, percent of the price paid."""
        key = (condition, powertrain, age)
        values = self._values.get(key)
        if values is None:
            values = forecast_percents(self.depreciation, condition, powertrain, age, _LONGEST_TERM)
            self._values[key] = values
        return values

    def value_fractions(
        self, condition: str, powertrain: str, age: int
    ) -> tuple[tuple[float, ...], bool]:
        """`value_percents` as float fractions for the decision's quick first walk, and
        whether they fall ever slower (convex), which lets that walk stop early."""
        key = (condition, powertrain, age)
        found = self._fractions.get(key)
        if found is None:
            fractions = tuple(float(v) / 100 for v in self.value_percents(*key))
            steps = [b - a for a, b in zip(fractions, fractions[1:], strict=False)]
            convex = all(
                later >= earlier - 1e-12 for earlier, later in zip(steps, steps[1:], strict=False)
            )
            found = self._fractions[key] = (fractions, convex)
        return found

    def stress_payment(
        self, loan: Decimal, term: int, method: RepaymentMethod, balloon: Decimal
    ) -> Decimal:
        """First regular installment at the stress rate; equals `schedule.first_payment`."""
        r = self.stress_monthly_rate
        if method is RepaymentMethod.EQUAL_PRINCIPAL:
            return money(loan / term) + month_interest(loan, self.stress_rate)
        if term == 1:
            return loan + month_interest(loan, self.stress_rate)
        if not r:
            return money((loan - balloon) / term)
        factors = self.stress_factors.get(term) or _factors(r, term)
        discount, k = factors
        return money((loan - balloon * discount) * k)


def _factors(r: Decimal, term: int) -> tuple[Decimal, Decimal]:
    discount = (1 + r) ** -term
    return discount, r / (1 - discount) if r else ZERO


def _bands(bands: list, key: str) -> tuple[tuple[tuple[Decimal, int], ...], int]:
    pairs = tuple((getattr(b, key), b.points) for b in bands)
    return pairs, max((p for _, p in pairs), default=0)


def build_rules(policy: Policy) -> Rules:
    """Flatten a policy (see `rules_for` for the cached accessor)."""
    ltv = policy.ltv
    caps = {}
    for powertrain in ("fuel", "nev"):
        for use in ("personal", "business"):
            caps[("new", powertrain, use)] = ltv.cap("new", powertrain, use)
            caps[("used", powertrain, use)] = ltv.cap("used", powertrain, use)
    terms = policy.terms
    offered = {
        "new": tuple(t for t in terms.offered_months if t <= terms.max_months_new),
        "used": tuple(t for t in terms.offered_months if t <= terms.max_months_used),
    }
    r = monthly_rate(policy.stress_rate)
    factors = {t: _factors(r, t) for t in range(1, 121)} if r else {}
    card = policy.scorecard
    pti, pti_best = _bands(card.payment_to_income, "up_to")
    dti, dti_best = _bands(card.debt_to_income, "up_to")
    down, down_best = _bands(card.down_payment_share, "at_least")
    months, months_best = _bands(card.employment_months, "at_least")
    emp = card.employment.model_dump()
    credit = card.credit_history.model_dump()
    cond = card.vehicle_condition.model_dump()
    elig = policy.eligibility
    return Rules(
        ltv_caps=caps,
        offered_terms=offered,
        used_max_age_months=terms.used_max_age_at_end_years * 12,
        min_age=elig.min_age,
        max_age_at_end_months=elig.max_age_at_end * 12,
        min_income=elig.min_monthly_income,
        min_loan=elig.min_loan_amount,
        max_pti=policy.affordability.max_payment_to_income,
        max_dti=policy.affordability.max_debt_to_income,
        balloon_default=policy.balloon.default_percent,
        balloon_max=policy.balloon.max_percent,
        stress_monthly_rate=r,
        stress_factors=factors,
        pti_bands=pti,
        dti_bands=dti,
        down_bands=down,
        months_bands=months,
        pti_best=pti_best,
        dti_best=dti_best,
        down_best=down_best,
        months_best=months_best,
        employment=emp,
        employment_best=max(emp.values()),
        credit=credit,
        credit_best=max(credit.values()),
        condition=cond,
        condition_best=max(cond.values()),
        tier_a=policy.tiers.A,
        tier_b=policy.tiers.B,
        tier_c=policy.tiers.C,
        review_min=policy.tiers.review_min,
        tier_rates={t: policy.rates.rate_for(t) for t in ("A", "B", "C")},
        worst_rate=policy.rates.worst_rate,
        stress_rate=policy.stress_rate,
        balloon_margin=policy.balloon.residual_margin,
        negative_equity_max_months=policy.depreciation.negative_equity_max_months,
        negative_equity_declines=policy.depreciation.negative_equity_action == "decline",
        depreciation=policy.depreciation,
    )


def rules_for(policy: Policy) -> Rules:
    """The flattened rules of a policy, built on first use and kept on the policy object."""
    rules = policy.__pydantic_private__.get("_rules") if policy.__pydantic_private__ else None
    if rules is None:
        rules = build_rules(policy)
        policy._rules = rules
    return rules

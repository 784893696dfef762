"""What pydantic cannot see in one field: a policy that contradicts itself, or that goes
beyond what regulation allows. Each problem is one line naming the setting.

The regulatory maxima (see the comments in lending/default_policy.toml):
- loan-to-value: business use and used cars keep the regulatory caps (new business fuel
  70%, new business NEV 75%, used 70%); new personal cars are the lender's own choice;
- term: at most five years (60 months), three (36) for a used car, extensions included
  (汽车贷款管理办法);
- rate: at most 36% a year (lending.bounds);
- borrower: an adult (18 or older) signs the contract.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from lending.bounds import MAX_AMOUNT
from lending.policy import TIERS, Policy

REGULATORY_LTV = {
    "new_business_fuel": Decimal(70),
    "new_business_nev": Decimal(75),
    "used": Decimal(70),
}
REGULATORY_MAX_MONTHS_NEW = 60
REGULATORY_MAX_MONTHS_USED = 36
ADULT_AGE = 18


def policy_problems(policy: Policy) -> list[str]:
    """Every contradiction and every value beyond regulation, one line each."""
    return [*_regulation(policy), *_contradictions(policy)]


def _regulation(policy: Policy) -> Iterator[str]:
    for key, cap in REGULATORY_LTV.items():
        value = getattr(policy.ltv, key)
        if value > cap:
            yield f"ltv.{key}: {value}% is above the regulatory cap of {cap}%"
    terms = policy.terms
    if terms.max_months_new > REGULATORY_MAX_MONTHS_NEW:
        yield (
            f"terms.max_months_new: {terms.max_months_new} months is above the regulatory"
            f" maximum of {REGULATORY_MAX_MONTHS_NEW}"
        )
    if terms.max_months_used > REGULATORY_MAX_MONTHS_USED:
        yield (
            f"terms.max_months_used: {terms.max_months_used} months is above the regulatory"
            f" maximum of {REGULATORY_MAX_MONTHS_USED} for a used car"
        )
    beyond = [m for m in terms.offered_months if m > REGULATORY_MAX_MONTHS_NEW]
    if beyond:
        yield (
            f"terms.offered_months: {', '.join(map(str, beyond))} months offered; the"
            f" regulatory maximum is {REGULATORY_MAX_MONTHS_NEW}"
        )
    if policy.eligibility.min_age < ADULT_AGE:
        yield (
            f"eligibility.min_age: {policy.eligibility.min_age}; only an adult"
            f" ({ADULT_AGE} or older) can sign a loan contract"
        )


def _contradictions(policy: Policy) -> Iterator[str]:
    eligibility, affordability = policy.eligibility, policy.affordability
    if eligibility.min_age >= eligibility.max_age_at_end:
        yield (
            f"eligibility.max_age_at_end: {eligibility.max_age_at_end} is not above"
            f" eligibility.min_age {eligibility.min_age}: nobody could qualify"
        )
    if affordability.max_payment_to_income > affordability.max_debt_to_income:
        yield (
            f"affordability.max_payment_to_income: {affordability.max_payment_to_income}% is"
            f" above affordability.max_debt_to_income {affordability.max_debt_to_income}%,"
            " which already includes the new payment"
        )
    terms = policy.terms
    longest = max(terms.max_months_new, terms.max_months_used)
    # Beyond regulation is reported above already.
    unreachable = [m for m in terms.offered_months if longest < m <= REGULATORY_MAX_MONTHS_NEW]
    if unreachable:
        yield (
            f"terms.offered_months: {', '.join(map(str, unreachable))} months offered but"
            f" terms.max_months_new is {terms.max_months_new}"
        )
    if terms.max_months_used > terms.max_months_new:
        yield (
            f"terms.max_months_used: {terms.max_months_used} is above terms.max_months_new"
            f" {terms.max_months_new}"
        )
    if policy.balloon.default_percent > policy.balloon.max_percent:
        yield (
            f"balloon.default_percent: {policy.balloon.default_percent} is above"
            f" balloon.max_percent {policy.balloon.max_percent}"
        )
    for table in ("fixed", "spread"):
        rates = [getattr(getattr(policy.rates, table), tier) for tier in TIERS]
        if rates != sorted(rates):
            yield (
                f"rates.{table}: a better tier must not pay more (A {rates[0]},"
                f" B {rates[1]}, C {rates[2]})"
            )
    for key in ("min_monthly_income", "min_loan_amount"):
        value = getattr(eligibility, key)
        if value > MAX_AMOUNT:
            yield f"eligibility.{key}: {value} is above {MAX_AMOUNT:,} yuan: nobody could qualify"

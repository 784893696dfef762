"""The states of the pre-qualification conversation and the questions, as data.

Each question is a state named by its answer key (the keys of `lending.Answers`, plus
`full_name` and `phone`), so the persisted conversation state says exactly which
question is open. The step counter, Back, the summary and "which answer must be asked
again after the car changed" all read this one list.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lending.assessment import allowed_terms, minimum_down_payment
from lending.policy import Policy

# --- states (values are what persistence stores) -------------------------------------------
CONSENT = "consent"
RETURNING = "returning"
VEHICLE_CONDITION = "vehicle_condition"
POWERTRAIN = "powertrain"
USE = "use"
PRICE = "price"
VEHICLE_AGE = "vehicle_age_years"
DOWN_PAYMENT = "down_payment"
TERM = "term_months"
METHOD = "method"
EMPLOYMENT = "employment"
EMPLOYMENT_MONTHS = "employment_months"
INCOME = "monthly_income"
DEBT = "monthly_debt"
CREDIT_HISTORY = "credit_history"
AGE = "age"
FULL_NAME = "full_name"
PHONE = "phone"
SUMMARY = "summary"


@dataclass(frozen=True)
class Question:
    key: str
    kind: str  # "choice", "amount", "count", "down", "term", "name", "phone"
    choices: tuple[str, ...] = ()
    low: int = 0
    high: int = 0
    example: str = ""
    used_only: bool = False
    car_dependent: bool = False  # re-checked when the car changes


QUESTIONS: tuple[Question, ...] = (
    Question(VEHICLE_CONDITION, "choice", ("new", "used")),
    Question(POWERTRAIN, "choice", ("fuel", "nev")),
    Question(USE, "choice", ("personal", "business")),
    Question(PRICE, "amount", low=10_000, high=20_000_000, example="150000, 15万"),
    Question(VEHICLE_AGE, "count", low=0, high=30, example="3", used_only=True),
    Question(DOWN_PAYMENT, "down", example="60000, 30%", car_dependent=True),
    Question(TERM, "term", example="36", car_dependent=True),
    Question(METHOD, "choice", ("annuity", "equal-principal", "balloon")),
    Question(
        EMPLOYMENT,
        "choice",
        ("salaried", "self_employed", "business_owner", "retired", "other"),
    ),
    Question(EMPLOYMENT_MONTHS, "count", low=0, high=720, example="18"),
    Question(INCOME, "amount", low=0, high=10_000_000, example="12000, 1.2万"),
    Question(DEBT, "amount", low=0, high=10_000_000, example="0, 2500"),
    Question(CREDIT_HISTORY, "choice", ("clean", "late", "default")),
    Question(AGE, "count", low=16, high=100, example="35"),
    Question(FULL_NAME, "name", example="Zhang Wei / 张伟"),
    Question(PHONE, "phone", example="138 0013 8000"),
)
BY_KEY = {q.key: q for q in QUESTIONS}
QUESTION_STATES = tuple(BY_KEY)
CAR_KEYS = (VEHICLE_CONDITION, POWERTRAIN, USE, PRICE, VEHICLE_AGE)
# The summary shows the answers in three groups, each with one Edit button.
GROUPS: dict[str, tuple[str, ...]] = {
    "car": CAR_KEYS,
    "plan": (DOWN_PAYMENT, TERM, METHOD),
    "you": (EMPLOYMENT, EMPLOYMENT_MONTHS, INCOME, DEBT, CREDIT_HISTORY, AGE, FULL_NAME, PHONE),
}


def choice_label_key(value: str) -> str:
    return "apply_choice_" + value.replace("-", "_")


def choice_name_key(value: str, labels: Container[str]) -> str:
    """The label that names a choice in a sentence: its button's text, unless the button
    says more than the name ("Balloon – lower payments, …" is named "Balloon")."""
    key = choice_label_key(value)
    return key + "_name" if key + "_name" in labels else key


def applicable(answers: dict[str, Any]) -> list[Question]:
    """The questions this prospect is asked: the car's age only for a used car; time in
    the current job not for a retiree (their pension stands in for it, see the policy)."""
    used = answers.get(VEHICLE_CONDITION) == "used"
    retired = answers.get(EMPLOYMENT) == "retired"
    return [
        q
        for q in QUESTIONS
        if (used or not q.used_only) and not (retired and q.key == EMPLOYMENT_MONTHS)
    ]


def step_of(key: str, answers: dict[str, Any]) -> tuple[int, int]:
    """(k, n) for "step k of n". A question skipped for a retiree still counts as a step
    (the counter moves on by two), so the total never shrinks mid-journey; it grows once,
    by the car's age, right after "used" is chosen (the welcome says "about 15")."""
    used = answers.get(VEHICLE_CONDITION) == "used"
    keys = [q.key for q in QUESTIONS if used or not q.used_only]
    return (keys.index(key) + 1 if key in keys else len(keys), len(keys))


def previous_key(key: str, answers: dict[str, Any]) -> str | None:
    keys = [q.key for q in applicable(answers)]
    index = keys.index(key) if key in keys else 0
    return keys[index - 1] if index > 0 else None


def car_terms(answers: dict[str, Any], policy: Policy) -> list[int]:
    return allowed_terms(
        answers.get(VEHICLE_CONDITION, "new"), int(answers.get(VEHICLE_AGE, 0) or 0), policy
    )


def down_bounds(answers: dict[str, Any], policy: Policy) -> tuple[Decimal, Decimal]:
    """(minimum, maximum) down payment for the car: the LTV cap and the minimum loan."""
    price = Decimal(answers[PRICE])
    low = minimum_down_payment(
        price, answers[VEHICLE_CONDITION], answers[POWERTRAIN], answers[USE], policy
    )
    high = price - policy.eligibility.min_loan_amount
    return low, high


def still_valid(key: str, answers: dict[str, Any], policy: Policy) -> bool:
    """Whether a stored answer still fits the car (after an edit of the car)."""
    if key not in answers:
        return False
    if key == DOWN_PAYMENT:
        low, high = down_bounds(answers, policy)
        return low <= Decimal(answers[DOWN_PAYMENT]) <= high
    if key == TERM:
        return int(answers[TERM]) in car_terms(answers, policy)
    return True


def next_open(answers: dict[str, Any], policy: Policy) -> str | None:
    """The first question without a (still valid) answer; None when all are answered."""
    for question in applicable(answers):
        if not still_valid(question.key, answers, policy):
            return question.key
    return None

"""`policy check` and the loader refuse a policy that contradicts itself or goes beyond
regulation: one line each, naming the setting (lending/policy_checks.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.cli.main import main
from lending.policy import PolicyError, load_policy, parse_policy
from lending.policy_checks import policy_problems


def problems(toml: str) -> list[str]:
    return policy_problems(parse_policy(tomllib.loads(toml)))


def test_the_default_policy_has_none() -> None:
    assert policy_problems(load_policy()) == []


# (policy text, the one line expected), worked out by hand from the regulation and the
# defaults (max_age_at_end 65, PTI 40, DTI 55, terms 60/36, balloon 30/40, rates A<B<C).
CASES = [
    ("[ltv]\nused = 71", "ltv.used: 71% is above the regulatory cap of 70%"),
    ("[ltv]\nnew_business_fuel = 71", "ltv.new_business_fuel: 71% is above the regulatory cap of 70%"),
    ("[ltv]\nnew_business_nev = 76", "ltv.new_business_nev: 76% is above the regulatory cap of 75%"),
    ("[terms]\nmax_months_new = 72", "terms.max_months_new: 72 months is above the regulatory maximum of 60"),
    ("[terms]\nmax_months_used = 48", "terms.max_months_used: 48 months is above the regulatory maximum of 36 for a used car"),
    ("[terms]\noffered_months = [12, 72]", "terms.offered_months: 72 months offered; the regulatory maximum is 60"),
    ("[eligibility]\nmin_age = 17", "eligibility.min_age: 17; only an adult (18 or older) can sign a loan contract"),
    ("[eligibility]\nmin_age = 65", "eligibility.max_age_at_end: 65 is not above eligibility.min_age 65: nobody could qualify"),
    ("[affordability]\nmax_payment_to_income = 56", "affordability.max_payment_to_income: 56% is above affordability.max_debt_to_income 55%, which already includes the new payment"),
    ("[terms]\nmax_months_new = 24\nmax_months_used = 24\noffered_months = [12, 36]", "terms.offered_months: 36 months offered but terms.max_months_new is 24"),
    ("[terms]\nmax_months_new = 24\noffered_months = [12, 24]", "terms.max_months_used: 36 is above terms.max_months_new 24"),
    ("[balloon]\ndefault_percent = 41", "balloon.default_percent: 41 is above balloon.max_percent 40"),
    ("[rates.fixed]\nA = 5\nB = 4.8\nC = 6.5", "rates.fixed: a better tier must not pay more (A 5, B 4.8, C 6.5)"),
    ("[rates.spread]\nA = 0.8\nB = 3.6\nC = 3.5", "rates.spread: a better tier must not pay more (A 0.8, B 3.6, C 3.5)"),
    ("[eligibility]\nmin_loan_amount = 10000001", "eligibility.min_loan_amount: 10000001 is above 10,000,000 yuan: nobody could qualify"),
]  # fmt: skip


@pytest.mark.parametrize(("toml", "line"), CASES)
def test_each_problem_is_one_line_naming_the_setting(toml: str, line: str) -> None:
    assert problems(toml) == [line]


@pytest.mark.parametrize(
    "toml",
    [
        "[ltv]\nused = 70\nnew_business_fuel = 70\nnew_business_nev = 75\nnew_personal_fuel = 100",
        "[terms]\nmax_months_new = 60\nmax_months_used = 36\noffered_months = [60]",
        "[eligibility]\nmin_age = 18\nmax_age_at_end = 19",
        "[affordability]\nmax_payment_to_income = 55",
        "[rates.fixed]\nA = 4.8\nB = 4.8\nC = 4.8",
        "[balloon]\ndefault_percent = 40",
    ],
)
def test_values_at_the_limits_pass(toml: str) -> None:
    assert problems(toml) == []


def test_the_issue_s_policy_gets_every_line(tmp_path: Path, capsys) -> None:
    file = tmp_path / "self-contradicting.toml"
    file.write_text(
        "[eligibility]\nmin_age = 70\nmax_age_at_end = 65\n"
        "[affordability]\nmax_payment_to_income = 60\nmax_debt_to_income = 55\n"
        "[terms]\noffered_months = [12, 24, 36, 48, 60, 72]\n"
    )
    assert main(["policy", "check", str(file)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "self-contradicting.toml: terms.offered_months: 72 months offered; the regulatory maximum is 60",
        "self-contradicting.toml: eligibility.max_age_at_end: 65 is not above eligibility.min_age 70: nobody could qualify",
        "self-contradicting.toml: affordability.max_payment_to_income: 60% is above affordability.max_debt_to_income 55%, which already includes the new payment",
    ]  # fmt: skip
    # The bot itself refuses it too (POLICY_PATH is read through the same loader).
    with pytest.raises(PolicyError, match="^self-contradicting.toml: terms.offered_months"):
        load_policy(file)

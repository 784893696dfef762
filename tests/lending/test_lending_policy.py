"""The policy file: defaults, overrides, and one clear line for every mistake."""

from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest

from lending.policy import DEFAULT_POLICY_PATH, Policy, PolicyError, load_policy
from lending.policy_summary import describe_policy


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_file_ships_with_the_package_and_equals_the_model_defaults():
    assert DEFAULT_POLICY_PATH.is_file()
    policy = load_policy()
    assert policy == Policy()
    assert policy.ltv.cap("new", "nev", "personal") == 85
    assert policy.ltv.cap("used", "nev", "business") == 70
    assert policy.stress_rate == policy.rates.worst_rate == Decimal("6.5")
    assert policy.scorecard.max_score == 100
    assert policy.reminders.window_start == time(9, 0)
    assert policy.leads.escalate_after_minutes == 15
    assert not policy.subsidy.lender_participates  # on only once the lender is admitted
    assert policy.subsidy.periods[-1].end == date(2026, 12, 31)
    assert policy.documents.required[0] == "id_card"


def test_a_partial_file_overrides_only_what_it_names(tmp_path):
    policy = load_policy(write(tmp_path, "[ltv]\nused = 60\n[rates]\nbasis = 'floating'\n"))
    assert policy.ltv.used == 60
    assert policy.ltv.new_personal_fuel == 80
    assert policy.rates.rate_for("A") == Decimal("3.8")  # LPR 3.0 + spread 0.8
    assert "float with the 1-year LPR, repriced every 1 January" in "\n".join(
        describe_policy(policy)
    )


def test_subsidy_is_capped_at_half_the_contract_rate():
    subsidy = Policy().subsidy
    assert subsidy.subsidy_rate(Decimal("4.8")) == 1
    assert subsidy.subsidy_rate(Decimal("1.2")) == Decimal("0.6")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[ltv]\nnew_personal_fuel = 120\n",
            "policy.toml: ltv.new_personal_fuel: must be between 0 and 100, got 120",
        ),
        (
            "[ltv]\nnew_personal_petrol = 80\n",
            "policy.toml: ltv.new_personal_petrol: is not a known setting",
        ),
        ("colour = 'red'\n", "policy.toml: colour: is not a known setting"),
        (
            "[tiers]\nA = 40\n",
            "policy.toml: tiers: cut-offs must satisfy A >= B >= C >= review_min",
        ),
        (
            "[terms]\noffered_months = [36, 12]\n",
            "policy.toml: terms: offered_months: must be increasing",
        ),
        (
            "[terms]\nmax_months_used = 0\n",
            "policy.toml: terms.max_months_used: must be greater than 0, got 0",
        ),
        (
            "[eligibility]\nmin_monthly_income = 'lots'\n",
            "policy.toml: eligibility.min_monthly_income: expected a number, got 'lots'",
        ),
        (
            "[rates]\nbasis = 'sliding'\n",
            "policy.toml: rates.basis: must be one of 'fixed' or 'floating', got 'sliding'",
        ),
        ("[rates]\nfixed = { A = 3.8, B = 4.8 }\n", "policy.toml: rates.fixed.C: is required"),
        (
            "[reminders]\nwindow_start = '25:00'\n",
            'policy.toml: reminders.window_start: expected a time like "09:00"',
        ),
        (
            "[leads]\nworking_hours_start = '22:00'\n",
            "policy.toml: leads: working_hours: start 22:00 must be before end 21:00",
        ),
        (
            "[subsidy]\nperiods = [{ start = 2027-01-01, end = 2026-12-31 }]\n",
            "policy.toml: subsidy.periods[0]: start 2027-01-01 is after end 2026-12-31",
        ),
        (
            "[scorecard]\ndown_payment_share = [{ at_least = 10, points = 1 }, { at_least = 20, points = 5 }]\n",
            "policy.toml: scorecard.down_payment_share: bands must be listed with at_least decreasing",
        ),
        (
            "[leads]\nround_robin = 'maybe'\n",
            "policy.toml: leads.round_robin: expected true or false",
        ),
        ("ltv = 5\n", "policy.toml: ltv: expected a table, got 5"),
        ("[ltv\n", "policy.toml: not valid TOML"),
    ],
)
def test_each_bad_value_is_one_line_naming_file_and_field(tmp_path, text, message):
    with pytest.raises(PolicyError) as caught:
        load_policy(write(tmp_path, text))
    line = str(caught.value)
    assert line.startswith(message)
    assert "\n" not in line


def test_missing_file_is_a_policy_error(tmp_path):
    with pytest.raises(PolicyError, match="file not found"):
        load_policy(tmp_path / "nope.toml")


def test_the_summary_names_documents_in_words_and_a_shared_drop_once():
    text = "\n".join(describe_policy(Policy()))
    assert (
        "Documents to prepare: ID card, Driving licence, Proof of income, "
        "Bank statements for the last six months." in text
    )
    assert "id_card" not in text and "5% or 5%" not in text
    assert "5% for a used one" in text
    apart = Policy.model_validate({"depreciation": {"used_purchase_drop": {"fuel": 5, "nev": 9}}})
    assert "5% (fuel) or 9% (new-energy) for a used one" in "\n".join(describe_policy(apart))

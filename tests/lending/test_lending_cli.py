"""`quote`, `assess` and `policy check` from the command line: shapes and exit codes."""

import argparse
import json
from pathlib import Path

import pytest

from bot.cli import assess as assess_cli
from bot.cli import policy as policy_cli
from bot.cli import quote as quote_cli

ANSWERS = {
    "vehicle_condition": "new",
    "powertrain": "fuel",
    "use": "personal",
    "price": 300000,
    "vehicle_age_years": 0,
    "down_payment": 60000,
    "term_months": 24,
    "method": "annuity",
    "employment": "salaried",
    "employment_months": 36,
    "monthly_income": 15000,
    "monthly_debt": 0,
    "credit_history": "clean",
    "age": 35,
}


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bot")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in (quote_cli, assess_cli, policy_cli):
        module.register(commands)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return args.func(args)


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err.strip()


def test_quote_json_has_the_documented_shape(capsys):
    argv = ["quote", "--price", "200000", "--down", "60000", "--term", "36", "--rate", "4.5"]
    assert cli([*argv, "--start", "2025-01-31", "--json"]) == 0
    quote = json.loads(capsys.readouterr().out)
    assert {"principal", "annual_rate", "apr", "method", "term_months", "monthly_payment",
            "total_interest", "total_paid", "installments"} <= set(quote)  # fmt: skip
    assert quote["principal"] == "140000.00"
    assert quote["monthly_payment"] == "4164.57"
    assert quote["apr"] == "4.50"
    first = quote["installments"][0]
    assert set(first) == {"n", "due_date", "payment", "principal", "interest", "balance"}
    assert first["due_date"] == "2025-02-28"
    assert quote["installments"][-1]["balance"] == "0.00"


def test_quote_with_a_fee_and_a_balloon(capsys):
    argv = ["quote", "--price", "200,000", "--down", "60000", "--term", "36", "--rate", "4.5",
            "--method", "balloon", "--balloon", "30", "--fee", "1400", "--json"]  # fmt: skip
    assert cli(argv) == 0
    quote = json.loads(capsys.readouterr().out)
    assert quote["balloon_amount"] == "60000.00"
    assert float(quote["apr"]) > 4.5


def test_quote_prints_a_table_by_default(capsys):
    assert cli(["quote", "--price", "50000", "--down", "0", "--term", "12", "--rate", "0"]) == 0
    out = capsys.readouterr().out
    assert "APR 0.00%" in out and "4166.67" in out


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (["--price", "-1"], "--price"),
        (["--price", "abc"], "--price"),
        (["--down", "250000"], "--down"),
        (["--term", "0"], "--term"),
        (["--rate", "-2"], "--rate"),
        (["--fee", "999999"], "--fee"),
        (["--balloon", "30"], "--balloon"),
        (["--start", "2025-02-30"], "--start"),
        (["--method", "bullet"], "--method"),
    ],
)
def test_bad_quote_input_exits_2_with_one_line_naming_the_option(capsys, extra, field):
    base = {"--price": "200000", "--down": "60000", "--term": "36", "--rate": "4.5"}
    argv = ["quote"]
    for key, value in base.items():
        if key not in extra:
            argv += [key, value]
    assert cli(argv + extra) == 2
    assert field in one_error_line(capsys)


def test_quote_without_required_options_is_one_line(capsys):
    assert cli(["quote", "--price", "1"]) == 2
    assert "--down" in one_error_line(capsys)


def write_answers(tmp_path: Path, data: object) -> str:
    path = tmp_path / "answers.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def test_assess_json_has_the_documented_shape(tmp_path, capsys):
    assert cli(["assess", write_answers(tmp_path, ANSWERS), "--json", "--today", "2025-10-01"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"decision", "tier", "score", "loan_amount", "ltv", "pti", "dti", "annual_rate", "apr",
            "monthly_payment", "reasons", "offers"} <= set(result)  # fmt: skip
    assert result["decision"] == "declined"
    assert result["loan_amount"] == "240000.00"
    assert all(set(r) >= {"code", "text"} for r in result["reasons"])
    assert [o["kind"] for o in result["offers"]] == ["more_down", "longer_term", "cheaper_car"]
    for offer in result["offers"]:
        assert set(offer) == {"kind", "answers", "monthly_payment"}
        assert set(offer["answers"]) == set(ANSWERS)


def test_assess_text_in_chinese(tmp_path, capsys):
    assert cli(["assess", write_answers(tmp_path, ANSWERS), "--locale", "zh"]) == 0
    assert "月供" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({k: v for k, v in ANSWERS.items() if k != "age"}, "age: is required"),
        ({**ANSWERS, "price": -1}, "price: must be greater than 0"),
        ({**ANSWERS, "term_months": 72}, "term_months: 72 months is not offered"),
        ({**ANSWERS, "vehicle_condition": "used", "term_months": 48}, "term_months: 48 months"),
        ('{"price": 1,', "not valid JSON"),
        ("[1, 2]", "answers: expected a JSON object"),
    ],
)
def test_bad_answers_exit_2_with_one_line_naming_the_field(tmp_path, capsys, data, field):
    assert cli(["assess", write_answers(tmp_path, data)]) == 2
    assert field in one_error_line(capsys)


def test_assess_missing_file(tmp_path, capsys):
    assert cli(["assess", str(tmp_path / "none.json")]) == 2
    assert "file not found" in one_error_line(capsys)


def test_policy_check_explains_a_good_file_and_rejects_a_bad_one(tmp_path, capsys):
    good = tmp_path / "good.toml"
    good.write_text("[ltv]\nused = 60\n", encoding="utf-8")
    assert cli(["policy", "check", str(good)]) == 0
    out = capsys.readouterr().out
    assert "used car: 60%" in out and "Tiers: A from 75" in out
    bad = tmp_path / "bad.toml"
    bad.write_text("[ltv]\nused = 160\n", encoding="utf-8")
    assert cli(["policy", "check", str(bad)]) == 2
    assert one_error_line(capsys) == "bad.toml: ltv.used: must be between 0 and 100, got 160"


def test_a_retiree_needs_no_employment_months(tmp_path, capsys):
    retiree = {k: v for k, v in ANSWERS.items() if k != "employment_months"}
    retiree["employment"] = "retired"
    assert cli(["assess", write_answers(tmp_path, retiree), "--json"]) == 0
    capsys.readouterr()
    # Anyone else still must say how long they have held their job.
    working = {**retiree, "employment": "salaried"}
    assert cli(["assess", write_answers(tmp_path, working)]) == 2
    assert "employment_months: is required" in one_error_line(capsys)


@pytest.mark.parametrize(
    ("income", "payment", "ratio", "reason"),
    [
        # 140,000 over 24 months at tier B's 4.8%: 6,129.46 a month (r = 0.004,
        # 140,000 r / (1 - 1.004^-24)); on 15,200 that is 40.3254%, over the 40% cap, so it
        # is shown rounded up: 40.33%.
        (15200, "6129.46", "40.33", "The monthly payment of ¥6,129.46 would be 40.33%"),
        # On 4,000 the score falls to no tier: the worst rate, 6.5%, gives 6,236.48 a month,
        # 155.912%, over the cap: 155.92%.
        (4000, "6236.48", "155.92", "The monthly payment of ¥6,236.48 would be 155.92%"),
    ],
)
def test_assess_shows_one_payment_and_one_ratio_per_plan(
    tmp_path, capsys, income, payment, ratio, reason
):
    answers = {**ANSWERS, "price": 200000, "monthly_income": income}
    assert cli(["assess", write_answers(tmp_path, answers), "--today", "2025-10-01"]) == 0
    out = capsys.readouterr().out
    assert f"PTI {ratio}%" in out and f"monthly payment {payment}," in out
    assert reason in out
    assert cli(["assess", write_answers(tmp_path, answers), "--json", "--today", "2025-10-01"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["monthly_payment"], result["pti"]) == (payment, ratio)

"""`python -m bot assess ANSWERS.json`: the pre-qualification decision for one answer set.

The file holds the answer keys of `lending.answers.Answers`; the policy is `--policy`,
else `POLICY_PATH`, else the default. Prints the decision, reasons and counter-offers as
text, or with `--json` the stable shape scripts rely on. Bad input (missing key,
negative price, term not offered, malformed JSON) exits 2 with one line naming the field.
"""

import argparse
import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.cli.quote import one_line_errors
from bot.config import load_settings
from lending.answers import Answers, AnswersError, parse_answers
from lending.apr import APR_CONVENTION
from lending.assessment import Assessment, assess, offered_terms
from lending.bounds import MAX_AMOUNT, amount_problem
from lending.offers import Offer, counter_offers
from lending.policy import Policy, PolicyError, load_policy
from lending.reasons import Locale


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `assess`."""
    parser = subparsers.add_parser("assess", help="assess an answers file")
    one_line_errors(parser)
    parser.add_argument("file", metavar="ANSWERS.json", help="answers file, or - for stdin")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--policy", default=None, help="policy file (default: POLICY_PATH)")
    parser.add_argument("--locale", default="en", choices=["en", "zh"])
    parser.add_argument("--today", default=None, help="assessment date YYYY-MM-DD")
    parser.set_defaults(func=run)


def read_answers(file: str, policy: Policy) -> Answers:
    """Load and check the answers, raising `AnswersError` with one line."""
    name = "stdin" if file == "-" else Path(file).name
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AnswersError(f"{file}: file not found") from None
    except IsADirectoryError:
        raise AnswersError(f"{file}: is a directory, not an answers file") from None
    except UnicodeDecodeError:
        raise AnswersError(f"{file}: not UTF-8 text, so not an answers file") from None
    except OSError as exc:
        raise AnswersError(f"{file}: cannot read answers ({exc.strerror})") from None
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise AnswersError(
            f"{name}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    answers = parse_answers(_sane(data))
    terms = offered_terms(answers.vehicle_condition, policy)
    if answers.term_months not in terms:
        raise AnswersError(
            f"term_months: {answers.term_months} months is not offered for a "
            f"{answers.vehicle_condition} car; choose one of {', '.join(map(str, terms))}"
        )
    pct = answers.balloon_percent
    if pct is not None and pct > policy.balloon.max_percent:
        raise AnswersError(
            f"balloon_percent: must be at most {policy.balloon.max_percent}, got {pct}"
        )
    return answers


AMOUNT_KEYS = ("price", "down_payment", "monthly_income", "monthly_debt")


def _sane(data: Any) -> Any:
    """What the answers' model would let through but no person means: `true` for a number
    (JSON's true is not 1 years of age) and amounts beyond lending.bounds."""
    if not isinstance(data, dict):
        return data
    for key, value in data.items():
        if isinstance(value, bool):
            raise AnswersError(f"{key}: expected a number or a word, got {json.dumps(value)}")
        if key in AMOUNT_KEYS and isinstance(value, int | Decimal | str):
            try:
                too_much = Decimal(str(value)) > MAX_AMOUNT
            except ArithmeticError:
                continue  # not a number: the model says so in its own words
            if too_much:  # zero, negative: the model's own words
                raise AnswersError(f"{key}: {amount_problem(Decimal(str(value)))}")
    return data


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def assessment_json(
    assessment: Assessment, offers: list[Offer], locale: Locale = "en"
) -> dict[str, Any]:
    """The stable JSON shape of `assess --json` (money and percents as decimal strings)."""
    return {
        "decision": assessment.decision.value,
        "tier": assessment.tier,
        "score": assessment.score,
        "loan_amount": str(assessment.loan_amount),
        "ltv": str(assessment.ltv),
        "pti": str(assessment.pti),
        "dti": str(assessment.dti),
        # The stress test's figures (the caps are tested on them), and whether a reason
        # rests on them rather than on the payment shown.
        "stress_rate": str(assessment.policy.stress_rate),
        "stress_payment": str(assessment.verdict.stress_payment),
        "stress_pti": str(assessment.verdict.pti),
        "stress_dti": str(assessment.verdict.dti),
        "stress_decided": assessment.stress_decided,
        "annual_rate": str(assessment.annual_rate),
        "apr": _s(assessment.apr),
        "monthly_payment": str(assessment.monthly_payment),
        "total_interest": str(assessment.total_interest),
        "upfront_fee": str(assessment.upfront_fee),
        "subsidy_saving": _s(assessment.subsidy_saving),
        "subsidy_until": str(assessment.subsidy.until) if assessment.subsidy else None,
        **_final_payment(assessment),
        "reasons": [
            {"code": r.code, "points_lost": r.points_lost, "text": r.text(locale)}
            for r in assessment.reasons
        ],
        "notes": [{"code": n.code, "text": n.text(locale)} for n in assessment.notes],
        "offers": [
            {
                "kind": o.kind,
                "answers": o.answers.model_dump(mode="json", exclude_none=True),
                "monthly_payment": str(o.monthly_payment),
            }
            for o in offers
        ],
    }


def _final_payment(assessment: Assessment) -> dict[str, str | None]:
    """A balloon loan's last installment (the lump sum with it) and its date."""
    if assessment.verdict.balloon_amount <= 0 or assessment.loan_amount <= 0:
        return {"final_payment": None, "final_due_date": None}
    schedule = assessment.schedule
    return {
        "final_payment": str(schedule.final_payment),
        "final_due_date": schedule.final_due_date.isoformat(),
    }


def render_text(result: dict[str, Any]) -> str:
    """A short human summary."""
    head = result["decision"] + (f" (tier {result['tier']})" if result["tier"] else "")
    ratios = (
        f"PTI {result['pti']}%, DTI {result['dti']}%"
        + (
            f" (at the stress rate {result['stress_rate']}%: payment {result['stress_payment']},"
            f" PTI {result['stress_pti']}%, DTI {result['stress_dti']}%)"
            if result["stress_decided"]
            else ""
        )
        if not any(r["code"] == "income_none" for r in result["reasons"])
        else "no income to compare payments with"
    )
    lines = [
        f"Decision: {head}, score {result['score']}",
        f"Loan {result['loan_amount']}, LTV {result['ltv']}%, {ratios}",
        f"Rate {result['annual_rate']}% a year, APR {result['apr']}%, "
        f"monthly payment {result['monthly_payment']}, total interest {result['total_interest']}",
    ]
    if result["final_payment"]:
        lines.append(f"Final payment {result['final_payment']} on {result['final_due_date']}")
    lines.append(APR_CONVENTION)
    if result["reasons"]:
        lines.append("Reasons:")
        lines += [f"  - {r['text']}" for r in result["reasons"]]
    lines += [f"Note: {n['text']}" for n in result["notes"]]
    if result["offers"]:
        lines.append("Plans that would pre-qualify:")
        for o in result["offers"]:
            a = o["answers"]
            lines.append(
                f"  - {o['kind']}: price {a['price']}, down {a['down_payment']}, "
                f"{a['term_months']} months"
                + (f", balloon {a['balloon_percent']}%" if "balloon_percent" in a else "")
                + f", monthly {o['monthly_payment']}"
            )
    return "\n".join(lines)


def _today(text: str | None) -> date:
    if not text:
        return date.today()
    try:
        today = date.fromisoformat(text)
    except ValueError:
        raise AnswersError(f"--today: expected a date like 2026-01-31, got {text!r}") from None
    if not date(2000, 1, 1) <= today <= date(2099, 12, 31):
        raise AnswersError(f"--today: expected a date from 2000 to 2099, got {text}")
    return today


def run(args: argparse.Namespace) -> int:
    """Assess the file; exit 2 with one line on bad input or a bad policy."""
    try:
        policy = load_policy(args.policy or load_settings().policy_path)
        today = _today(args.today)
        answers = read_answers(args.file, policy)
    except (PolicyError, AnswersError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    assessment = assess(answers, policy, today)
    offers = counter_offers(answers, policy, today)
    result = assessment_json(assessment, offers, args.locale)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(render_text(result))
    return 0

"""A policy in plain words, for `python -m bot policy check` and for credit staff.

Reading the summary is how someone checks that the file says what they meant
("used cars: at most 70% of the price") before it goes live.
"""

from decimal import Decimal

from lending.policy import TIERS, Policy


def _n(value: Decimal | int) -> str:
    """3.0 -> "3", 4.50 -> "4.5", 3000 -> "3,000"."""
    d = Decimal(value)
    if d == d.to_integral_value():
        return f"{d:,.0f}"
    return f"{d.normalize():f}"


def describe_policy(policy: Policy) -> list[str]:
    """One line per rule, in the order a loan manager would explain them."""
    ltv, terms, elig = policy.ltv, policy.terms, policy.eligibility
    afford, tiers, rates, fees = policy.affordability, policy.tiers, policy.rates, policy.fees
    card = policy.scorecard
    lines = [
        f'Policy "{policy.name}"',
        "Maximum loan as a share of the price (LTV):",
        f"  new car, personal use: fuel {_n(ltv.new_personal_fuel)}%, "
        f"new-energy {_n(ltv.new_personal_nev)}%",
        f"  new car, business use: fuel {_n(ltv.new_business_fuel)}%, "
        f"new-energy {_n(ltv.new_business_nev)}%",
        f"  used car: {_n(ltv.used)}%",
        f"Terms offered: {', '.join(map(str, terms.offered_months))} months; "
        f"new cars up to {terms.max_months_new}, used cars up to {terms.max_months_used}; "
        f"a used car may be at most {terms.used_max_age_at_end_years} years old when the loan ends.",
        f"Applicants: at least {elig.min_age} years old and at most {elig.max_age_at_end} "
        f"when the loan ends; monthly income at least ¥{_n(elig.min_monthly_income)}; "
        f"loans from ¥{_n(elig.min_loan_amount)}.",
        f"Affordability at {_n(policy.stress_rate)}% a year"
        + (" (the worst tier's rate)" if afford.stress_rate is None else "")
        + f": the payment at most {_n(afford.max_payment_to_income)}% of income, "
        f"all debt payments at most {_n(afford.max_debt_to_income)}%.",
        "A current default, the age limits and the income floor decline whatever the score.",
        f"Scorecard out of {card.max_score} points; age never earns or loses points.",
        f"Tiers: A from {tiers.A}, B from {tiers.B}, C from {tiers.C} points; "
        f"{tiers.review_min} to {tiers.C - 1} goes to a manager for review; below is declined.",
    ]
    if rates.basis == "floating":
        spreads = ", ".join(
            f"{t} LPR {_n(rates.lpr)}% + {_n(getattr(rates.spread, t))} = {_n(rates.rate_for(t))}%"
            for t in TIERS
        )
        lines.append(f"Rates float with the LPR (payments may change at repricing): {spreads}.")
    else:
        fixed = ", ".join(f"{t} {_n(rates.rate_for(t))}%" for t in TIERS)
        lines.append(f"Fixed rates a year: {fixed} (LPR now {_n(rates.lpr)}%).")
    lines.append(
        f"Upfront fee: {_n(fees.upfront_percent)}% of the loan"
        + (f" plus ¥{_n(fees.upfront_fixed)}" if fees.upfront_fixed else "")
        + "; the annualized rate (APR) includes it."
    )
    lines.append(
        f"Balloon loans: final payment {_n(policy.balloon.default_percent)}% of the price "
        f"by default, at most {_n(policy.balloon.max_percent)}%."
    )
    sub = policy.subsidy
    if sub.enabled:
        lines.append(
            f"Interest subsidy: {_n(sub.rate_points)} percentage point(s), at most "
            f"{_n(sub.max_share_of_rate)}% of the rate and ¥{_n(sub.max_amount)} per borrower, "
            f"for loans from {sub.valid_from} to {sub.valid_until}."
        )
    else:
        lines.append("Interest subsidy: off.")
    rem, leads = policy.reminders, policy.leads
    lines += [
        f"Reminders: {', '.join(map(str, rem.before_due_days))} days before the due date and "
        f"{', '.join(map(str, rem.overdue_days))} days after it, between "
        f"{rem.window_start:%H:%M} and {rem.window_end:%H:%M}; the manager is alerted at "
        f"{', '.join(map(str, rem.manager_alert_days))} days overdue, admins at "
        f"{rem.admin_alert_days}.",
        f"Leads: escalated if unclaimed after {leads.escalate_after_minutes} minutes; "
        f"contact reminder after {leads.contact_reminder_minutes} minutes; working hours "
        f"{leads.working_hours_start:%H:%M}-{leads.working_hours_end:%H:%M}; "
        f"round robin {'on' if leads.round_robin else 'off'}.",
        f"Unfinished applications are nudged after {policy.nudge.after_hours} hours; "
        f"prospects' data is purged after {policy.retention.purge_after_days} days.",
        f"Documents to prepare: {', '.join(policy.documents.required)}.",
    ]
    return lines

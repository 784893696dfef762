"""A policy in plain words, for `python -m bot policy check` and for credit staff.

Reading the summary is how someone checks that the file says what they meant
("used cars: at most 70% of the price") before it goes live.
"""

from decimal import Decimal

from lending.documents import document_text
from lending.policy import TIERS, Policy


def _n(value: Decimal | int) -> str:
    """3.0 -> "3", 4.50 -> "4.5", 3000 -> "3,000"."""
    d = Decimal(value)
    if d == d.to_integral_value():
        return f"{d:,.0f}"
    return f"{d.normalize():f}"


def _used_drop(fuel: Decimal, nev: Decimal) -> str:
    """One figure when both powertrains drop alike ("5%"), else both, each named."""
    if fuel == nev:
        return f"{_n(fuel)}%"
    return f"{_n(fuel)}% (fuel) or {_n(nev)}% (new-energy)"


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
        f"when the loan ends (a stated age counts as up to 11 months more); monthly income "
        f"at least ¥{_n(elig.min_monthly_income)}; loans from ¥{_n(elig.min_loan_amount)}.",
        f"Affordability at {_n(policy.stress_rate)}% a year"
        + (" (the worst tier's rate)" if afford.stress_rate is None else "")
        + (f", plus {_n(rates.lpr_shock)} for an LPR shock" if rates.basis == "floating" else "")
        + f": the payment at most {_n(afford.max_payment_to_income)}% of income, "
        f"all debt payments at most {_n(afford.max_debt_to_income)}% (exact ratios).",
        "Each of these declines whatever the score: the age limits, a current default, "
        "income below the floor, a loan below the minimum, the LTV cap, the payment-to-income "
        "and debt-to-income caps, a term not offered or too long for the car's age, a "
        "balloon above its maximum or above the car's forecast value less the margin"
        + (
            ", and a balance above the car's forecast value for too long."
            if policy.depreciation.negative_equity_action == "decline"
            else "."
        ),
        f"Scorecard out of {card.max_score} points; age never earns or loses points; "
        "retirees are not scored on job tenure (their pension stands in for it).",
        f"Tiers: A from {tiers.A}, B from {tiers.B}, C from {tiers.C} points; "
        f"{tiers.review_min} to {tiers.C - 1} goes to a manager for review; below is declined.",
    ]
    if rates.basis == "floating":
        spreads = ", ".join(
            f"{t} LPR {_n(rates.lpr)}% + {_n(getattr(rates.spread, t))} = {_n(rates.rate_for(t))}%"
            for t in TIERS
        )
        when = "every 1 January" if rates.repricing == "january_1" else "on each loan anniversary"
        lines.append(f"Rates float with the 1-year LPR, repriced {when}: {spreads}.")
    else:
        fixed = ", ".join(f"{t} {_n(rates.rate_for(t))}%" for t in TIERS)
        lines.append(f"Fixed rates a year: {fixed} (LPR now {_n(rates.lpr)}%).")
    lines.append(
        f"Upfront fee: {_n(fees.upfront_percent)}% of the loan"
        + (f" plus ¥{_n(fees.upfront_fixed)}" if fees.upfront_fixed else "")
        + "; the annualized rate (APR: IRR method, fees included, monthly rate × 12, "
        "PBOC Announcement [2021] No. 3) includes it."
    )
    dep = policy.depreciation
    lines.append(
        f"Balloon loans: final payment {_n(policy.balloon.default_percent)}% of the price "
        f"by default, at most {_n(policy.balloon.max_percent)}%, and at most the car's "
        f"forecast value at maturity less {_n(policy.balloon.residual_margin)}% of the price."
    )
    action = "declined" if dep.negative_equity_action == "decline" else "sent to a manager"
    lines.append(
        f"Forecast value: drops {_n(dep.purchase_drop.fuel)}% (fuel) or "
        f"{_n(dep.purchase_drop.nev)}% (new-energy) at purchase of a new car, "
        f"{_used_drop(dep.used_purchase_drop.fuel, dep.used_purchase_drop.nev)} for a used "
        f"one, then follows the curve from the car's age; a balance above it for more than "
        f"{dep.negative_equity_max_months} months is {action} (negative_equity_long)."
    )
    sub = policy.subsidy
    periods = ", ".join(
        f"{p.start} to {p.end}" + (f" (on at most ¥{_n(p.base_cap)})" if p.base_cap else "")
        for p in sub.periods
    )
    lines.append(
        f"Interest subsidy: {_n(sub.rate_points)} percentage point(s), at most "
        f"{_n(sub.max_share_of_rate)}% of the rate and ¥{_n(sub.yearly_cap)} per borrower a "
        f"year, on interest accrued {periods or 'never'}; "
        + (
            "shown to pre-qualified buyers."
            if sub.lender_participates
            else "this lender does not take part (lender_participates = false), so it is not shown."
        )
    )
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
        f"Documents to prepare: {', '.join(map(document_text, policy.documents.required))}.",
    ]
    return lines

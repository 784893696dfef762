"""Assessment: answers in, decision out, with the reasons a loan manager would give.

Two layers. `evaluate` is the fast decision (rules, score, tier) that counter-offers
call dozens of times per applicant: a few `Decimal` operations and no schedule. `assess`
wraps it with the offer itself (rate, fee, payment) and builds the schedule, the
annualized rate and the subsidy estimate lazily, only when someone reads them.

Hard rules (age, a current default, the income floor, the LTV, PTI and DTI caps, the term
rules) decline whatever the points. Otherwise the score picks a tier, the "needs review"
band or a decline. Payment-to-income and debt-to-income are tested at the stress rate so
that the decision does not depend on the rate it selects (no circularity) and an applicant
who qualifies could afford the worst price list.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cached_property

from lending.answers import Answers, CreditHistory, Employment, VehicleCondition
from lending.apr import annualized_rate
from lending.money import CENT, HUNDRED, ZERO, money, round_down_to
from lending.policy import Policy, Tier
from lending.reasons import Locale, reason_text
from lending.residual import forecast_value
from lending.rules import Rules, rules_for
from lending.schedule import (
    RepaymentMethod,
    Schedule,
    build_schedule,
    first_payment,
    iter_balances,
)
from lending.subsidy import SubsidyEstimate, estimate_subsidy

_RATIO_CEILING = Decimal("999.99")  # a ratio over no income: shown as 999.99%, never divides by 0


class Decision(StrEnum):
    PREQUALIFIED = "prequalified"
    REVIEW = "review"
    DECLINED = "declined"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why the answer is not better: a code, its cost in points (None for a hard rule)."""

    code: str
    points_lost: int | None = None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def hard(self) -> bool:
        """A hard rule declines on its own; it outranks any points lost."""
        return self.points_lost is None

    def text(self, locale: Locale = "en") -> str:
        return reason_text(self.code, locale, **self.params)


def fmt_amount(amount: Decimal) -> str:
    """Money for reason texts: 60,000 or 60,000.50."""
    value = money(amount)
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def offered_terms(condition: str, policy: Policy) -> list[int]:
    """Terms on the price list for a new or used car (the cap by condition only)."""
    terms = policy.terms
    cap = terms.max_months_used if condition == "used" else terms.max_months_new
    return [t for t in terms.offered_months if t <= cap]


def allowed_terms(condition: str, vehicle_age_years: int, policy: Policy) -> list[int]:
    """Terms a prospect can pick: offered for the condition, and for a used car short
    enough that the car is at most `used_max_age_at_end_years` old when the loan ends."""
    terms = offered_terms(condition, policy)
    if condition != "used":
        return terms
    limit = policy.terms.used_max_age_at_end_years * 12 - vehicle_age_years * 12
    return [t for t in terms if t <= limit]


def max_loan_to_value(condition: str, powertrain: str, use: str, policy: Policy) -> Decimal:
    return policy.ltv.cap(condition, powertrain, use)


def minimum_down_payment(
    price: Decimal, condition: str, powertrain: str, use: str, policy: Policy
) -> Decimal:
    """The smallest down payment the LTV cap allows for this car, to the fen."""
    cap = max_loan_to_value(condition, powertrain, use, policy)
    return price - round_down_to(price * cap / HUNDRED, CENT)


def balloon_amount(answers: Answers, policy: Policy) -> Decimal:
    """The final lump sum of a balloon loan (percent of price, never above the loan)."""
    if answers.method is not RepaymentMethod.BALLOON:
        return ZERO
    pct = answers.balloon_percent
    if pct is None:
        pct = policy.balloon.default_percent
    return min(money(answers.price * pct / HUNDRED), answers.loan_amount)


def _ratio(part: Decimal, income: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    """A ratio for display, to 0.01% (999.99 over no income); caps never read it."""
    if income <= 0:
        return _RATIO_CEILING
    return min((part * HUNDRED / income).quantize(CENT, rounding=rounding), _RATIO_CEILING)


def shown_ratio(part: Decimal, income: Decimal, cap: Decimal) -> Decimal:
    """The one way a ratio is shown, wherever it is shown: half-up to 0.01%, except that a
    ratio over its cap rounds up, so that 40.004% never reads as "40.00%, at most 40%"."""
    over = part * HUNDRED > cap * income
    return _ratio(part, income, ROUND_CEILING if over else ROUND_HALF_UP)


def _up_to_points(part: Decimal, whole: Decimal, bands: tuple[tuple[Decimal, int], ...]) -> int:
    """Points of the first band whose `up_to` the exact ratio part / whole stays within."""
    scaled = part * HUNDRED
    for limit, points in bands:
        if scaled <= limit * whole:
            return points
    return 0


def _at_least_points(part: Decimal, whole: Decimal, bands: tuple[tuple[Decimal, int], ...]) -> int:
    scaled = part * HUNDRED
    for floor, points in bands:
        if scaled >= floor * whole:
            return points
    return 0


def _months_points(months: int, rules: Rules) -> int:
    for floor, points in rules.months_bands:
        if months >= floor:
            return points
    return 0


def _reason_order(reason: Reason) -> tuple[int, int]:
    if reason.code == "negative_equity_long":  # alone it refers a plan otherwise approved
        return (0, 1)
    return (0, 0) if reason.points_lost is None else (1, -reason.points_lost)


_TIE = 2.0  # yuan: beyond this the float walk's sign is certain (its drift is below 1 yuan)


def _months_above_value(
    loan: Decimal,
    rate: Decimal,
    term: int,
    method: RepaymentMethod,
    balloon: Decimal,
    price: Decimal,
    rules: Rules,
    key: tuple[str, str, int],
) -> int:
    """Months with the balance above the car's forecast value, counted up to allowed + 1.

    A float walk settles almost every plan: a month whose balance and value differ by
    more than `_TIE` cannot change sign under the fen roundings. Only when the months too
    close to call could tip the count over the allowance is the exact walk (the schedule's
    own Decimal arithmetic) run. The balance of an amortizing loan falls ever faster
    (concave) and a convex value curve falls ever slower, so their gap is concave: once it
    is below zero and falling it stays below, and the walk stops there.
    """
    allowed = rules.negative_equity_max_months
    fractions, convex = rules.value_fractions(*key)
    r = float(rate) / 1200
    balance = float(loan)
    worth = float(price)
    # The level payment in floats (the schedule's is rounded to the fen: under 0.005 a
    # month, well inside `_TIE` over a loan's life).
    if method is RepaymentMethod.EQUAL_PRINCIPAL:
        growth, level = 1.0, balance / term
    elif r:
        discount = (1 + r) ** -term
        growth, level = 1 + r, (balance - float(balloon) * discount) * r / (1 - discount)
    else:
        growth, level = 1.0, (balance - float(balloon)) / term
    sure = close = 0
    previous = float("-inf")
    for m in range(term):
        gap = balance - worth * fractions[m]
        if gap > _TIE:
            sure += 1
            if sure > allowed:
                return sure
        elif gap >= -_TIE:
            close += 1
        elif convex and gap < previous:
            break  # past the peak of a concave gap, and below zero: it stays below
        previous = gap
        balance = balance * growth - level
    if sure + close <= allowed:
        return sure
    values = rules.value_percents(*key)
    count = 0
    for balance_m, percent in zip(
        iter_balances(loan, rate, term, method, balloon), values, strict=False
    ):
        if balance_m > forecast_value(price, percent):
            count += 1
            if count > allowed:
                break
    return count


def _fixed_flags(
    a: Answers,
    rules: Rules,
    price: Decimal,
    loan: Decimal,
    term: int,
    cap: Decimal,
    terms: tuple[int, ...],
) -> tuple[bool, bool, bool, bool, bool, bool, bool, bool]:
    """The hard rules that neither the balloon nor the payment moves: too young, too old
    at the end, a current default, income under the floor, a term not offered, a used car
    too old at the end, a loan under the minimum, a loan over the LTV cap."""
    too_young = a.age < rules.min_age
    # Someone who says 64 may be 64 and 11 months: the loan ends 11 months later than
    # their stated age suggests.
    too_old = not too_young and a.age * 12 + 11 + term > rules.max_age_at_end_months
    term_off = term not in terms
    car_too_old = (
        not term_off
        and a.vehicle_condition is VehicleCondition.USED
        and a.vehicle_age_years * 12 + term > rules.used_max_age_months
    )
    return (
        too_young,
        too_old,
        a.credit_history is CreditHistory.DEFAULT,
        a.monthly_income < rules.min_income,
        term_off,
        car_too_old,
        loan < rules.min_loan,
        loan * HUNDRED > cap * price,
    )


def _stress(
    a: Answers, rules: Rules, price: Decimal, loan: Decimal, term: int, pct: Decimal | None
) -> tuple[Decimal, Decimal]:
    """The balloon (`pct` percent of the price, never above the loan) and the first
    installment at the stress rate."""
    balloon = ZERO
    if a.method is RepaymentMethod.BALLOON:
        pct = rules.balloon_default if pct is None else pct
        balloon = min(money(price * pct / HUNDRED), loan)
    return balloon, rules.stress_payment(loan, term, a.method, balloon)


def _over_caps(a: Answers, rules: Rules, stress: Decimal) -> tuple[bool, bool]:
    """Whether a stress payment is over the payment-to-income and the debt-to-income cap."""
    income = a.monthly_income
    return (
        stress * HUNDRED > rules.max_pti * income,
        (stress + a.monthly_debt) * HUNDRED > rules.max_dti * income,
    )


def over_income_caps(answers: Answers, policy: Policy, stress: Decimal) -> bool:
    """True when a stress payment alone declines the plan (over either income cap)."""
    return any(_over_caps(answers, rules_for(policy), stress))


def fixed_rules_decline(answers: Answers, policy: Policy, term: int | None = None) -> bool:
    """True when a hard rule that no balloon and no payment can move declines the plan
    (the answers' price and down payment, `term` or the asked one): a search over the
    balloon need not start."""
    a, rules = answers, rules_for(policy)
    condition = a.vehicle_condition
    cap = rules.ltv_caps[(condition, a.powertrain, a.use)]
    term = a.term_months if term is None else term
    loan = a.price - a.down_payment
    return any(_fixed_flags(a, rules, a.price, loan, term, cap, rules.offered_terms[condition]))


def within_caps(
    answers: Answers,
    policy: Policy,
    *,
    price: Decimal | None = None,
    down_payment: Decimal | None = None,
    term_months: int | None = None,
) -> bool:
    """A cheap condition every pre-qualified plan meets: the loan within the LTV cap and
    the stress payment within both income caps. Overrides as in `evaluate`; more down
    payment or a cheaper car only helps it, so a money search narrows its range with it
    before running the full decision."""
    a, rules = answers, rules_for(policy)
    price = a.price if price is None else price
    down = a.down_payment if down_payment is None else down_payment
    term = a.term_months if term_months is None else term_months
    loan = price - down
    if loan * HUNDRED > rules.ltv_caps[(a.vehicle_condition, a.powertrain, a.use)] * price:
        return False
    _, stress = _stress(a, rules, price, loan, term, a.balloon_percent)
    return not any(_over_caps(a, rules, stress))


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision and the figures it rests on, without the offer's money details.

    `reasons` is empty when evaluated with `explain=False` (the counter-offer search).
    `pti` and `dti` are the stress-rate ratios rounded for display; the caps compared the
    exact ones. `scored_tier` is the tier the score alone earns, whatever the decision:
    its rate is the one a buyer is shown (a declined or referred plan included). `incurable` is True when no change of down payment, term or car can help
    (age under the minimum, a current default, income under the floor, a balloon percent
    over the maximum).
    """

    decision: Decision
    tier: Tier | None
    score: int
    loan_amount: Decimal
    ltv: Decimal
    pti: Decimal
    dti: Decimal
    stress_payment: Decimal
    balloon_amount: Decimal
    reasons: tuple[Reason, ...]
    incurable: bool = False
    scored_tier: Tier | None = None

    @property
    def prequalified(self) -> bool:
        return self.decision is Decision.PREQUALIFIED


def evaluate(
    answers: Answers,
    policy: Policy,
    explain: bool = True,
    *,
    price: Decimal | None = None,
    down_payment: Decimal | None = None,
    term_months: int | None = None,
    balloon_percent: Decimal | None = None,
) -> Verdict:
    """The fast decision: hard rules, scorecard, tier, the car's value against the loan.

    With `explain=False` no reason objects are made, a plan a hard rule declines comes
    back at once (score and displayed ratios left at 0; the stress payment and balloon
    too when a rule they cannot move declines it), and `price`, `down_payment` and
    `term_months` (and `balloon_percent`) override the answers without copying them: a
    counter-offer search only needs the decision, many times over.
    """
    a = answers
    rules = rules_for(policy)
    price = a.price if price is None else price
    down = a.down_payment if down_payment is None else down_payment
    term = a.term_months if term_months is None else term_months
    loan = price - down
    condition = a.vehicle_condition
    method = a.method
    cap = rules.ltv_caps[(condition, a.powertrain, a.use)]
    terms = rules.offered_terms[condition]
    retired = a.employment is Employment.RETIRED

    # Hard rules: each is a flag; reasons are only spelled out when asked for. Every cap
    # compares the exact figures: 40.004% is over a 40% cap.
    too_young, too_old, in_default, low_income, term_off, car_too_old, small_loan, over_ltv = (
        _fixed_flags(a, rules, price, loan, term, cap, terms)
    )
    income = a.monthly_income
    asked_balloon = a.balloon_percent if balloon_percent is None else balloon_percent
    big_balloon = (
        method is RepaymentMethod.BALLOON
        and asked_balloon is not None
        and asked_balloon > rules.balloon_max
    )
    incurable = too_young or in_default or low_income or big_balloon
    blocked = (
        too_young or too_old or in_default or low_income or term_off or car_too_old
        or small_loan or over_ltv or big_balloon
    )  # fmt: skip
    if blocked and not explain:  # the search only needs "no": skip the payment and the rest
        return Verdict(
            Decision.DECLINED, None, 0, loan, ZERO, ZERO, ZERO, ZERO, ZERO, (), incurable
        )
    balloon, stress = _stress(a, rules, price, loan, term, asked_balloon)
    debts = stress + a.monthly_debt
    over_pti, over_dti = _over_caps(a, rules, stress)
    key = (condition, a.powertrain, a.vehicle_age_years)
    balloon_cover = ZERO
    if balloon > 0 and term < len(values := rules.value_percents(*key)):
        balloon_cover = forecast_value(price, values[term]) - price * rules.balloon_margin / HUNDRED
    uncovered_balloon = balloon > 0 and balloon > balloon_cover
    hard = blocked or over_pti or over_dti or uncovered_balloon
    if hard and not explain:  # the search only needs "no": skip the score and the figures
        return Verdict(
            Decision.DECLINED, None, 0, loan, ZERO, ZERO, ZERO, stress, balloon, (), incurable
        )
    pti = shown_ratio(stress, income, rules.max_pti)
    dti = shown_ratio(debts, income, rules.max_dti)
    ltv = (loan * HUNDRED / price).quantize(CENT, rounding=ROUND_HALF_UP)

    # Scorecard.
    pti_pts = _up_to_points(stress, income, rules.pti_bands)
    dti_pts = _up_to_points(debts, income, rules.dti_bands)
    down_pts = _at_least_points(down, price, rules.down_bands)
    # A pension stands in for job tenure: a retiree scores the best band.
    months_pts = rules.months_best if retired else _months_points(a.employment_months, rules)
    emp_pts = rules.employment[a.employment]
    credit_pts = rules.credit[a.credit_history]
    cond_pts = rules.condition[condition]
    score = pti_pts + dti_pts + down_pts + months_pts + emp_pts + credit_pts + cond_pts
    scored_tier: Tier | None = (
        "A" if score >= rules.tier_a else "B" if score >= rules.tier_b
        else "C" if score >= rules.tier_c else None
    )  # fmt: skip

    # The car's value against the balance, at the rate the plan would be offered at: only
    # for a plan that would otherwise go through (the walk costs more than the rest).
    underwater = 0
    if not hard and score >= rules.review_min and loan > 0:
        rate = rules.tier_rates[scored_tier] if scored_tier else rules.worst_rate
        underwater = _months_above_value(loan, rate, term, method, balloon, price, rules, key)
    long_negative = underwater > rules.negative_equity_max_months

    if hard or (long_negative and rules.negative_equity_declines):
        tier, decision = None, Decision.DECLINED
    elif scored_tier is not None and not long_negative:
        tier, decision = scored_tier, Decision.PREQUALIFIED
    elif score >= rules.review_min:
        tier, decision = None, Decision.REVIEW
    else:
        tier, decision = None, Decision.DECLINED

    reasons: tuple[Reason, ...] = ()
    if explain:
        out: list[Reason] = []
        if too_young:
            out.append(Reason("age_below_minimum", None, {"min_age": str(rules.min_age)}))
        if too_old:
            max_age = str(rules.max_age_at_end_months // 12)
            out.append(Reason("age_above_maximum_at_end", None, {"max_age": max_age}))
        if in_default:
            out.append(Reason("credit_default"))
        if income <= 0:
            out.append(Reason("income_none", None, {"min_income": fmt_amount(rules.min_income)}))
        elif low_income:
            params = {"min_income": fmt_amount(rules.min_income)}
            out.append(Reason("income_below_minimum", None, params))
        if term_off:
            params = {"term": str(term), "terms": ", ".join(map(str, terms))}
            out.append(Reason("term_not_offered", None, params))
        if car_too_old:
            params = {"max_age": str(rules.used_max_age_months // 12)}
            out.append(Reason("vehicle_too_old_at_end", None, params))
        if small_loan:
            out.append(Reason("loan_below_minimum", None, {"min_loan": fmt_amount(rules.min_loan)}))
        if over_ltv:
            min_down = price - round_down_to(price * cap / HUNDRED, CENT)
            shown = (loan * HUNDRED / price).quantize(CENT, rounding=ROUND_CEILING)
            params = {"ltv": str(shown), "cap": str(cap), "min_down": fmt_amount(min_down)}
            out.append(Reason("ltv_above_cap", None, params))
        ratio_lines = over_pti or over_dti or pti_pts < rules.pti_best or dti_pts < rules.dti_best
        if income > 0 and ratio_lines:
            seen_rate = rules.tier_rates[scored_tier] if scored_tier else rules.worst_rate
            seen = first_payment(loan, seen_rate, term, method, balloon)
            facts = _Facts(a, rules, income, loan, seen, seen_rate, stress, balloon)
            out += facts.ratio_reasons(over_pti, over_dti, pti_pts, dti_pts)
        if big_balloon:
            out.append(Reason("balloon_above_max", None, {"max": str(rules.balloon_max)}))
        if uncovered_balloon:
            params = {
                "balloon": fmt_amount(balloon),
                "value": fmt_amount(forecast_value(price, rules.value_percents(*key)[term])),
                "cover": fmt_amount(max(balloon_cover, ZERO)),
                "term": str(term),
            }
            out.append(Reason("balloon_above_forecast", None, params))
        if long_negative:
            params = {"max": str(rules.negative_equity_max_months)}
            lost = None if rules.negative_equity_declines else 0
            out.append(Reason("negative_equity_long", lost, params))
        share = (down * HUNDRED / price).quantize(CENT, rounding=ROUND_HALF_UP)
        for code, points, best, params in (
            ("down_payment_low", down_pts, rules.down_best, {"share": str(share)}),
            (
                "employment_short",
                months_pts,
                rules.months_best,
                {"months": str(a.employment_months), "best": str(rules.months_bands[0][0])},
            ),
            ("employment_type", emp_pts, rules.employment_best, {}),
            (f"credit_history_{a.credit_history}", credit_pts, rules.credit_best, {}),
            ("vehicle_used", cond_pts, rules.condition_best, {}),
        ):
            if points < best and not (code == "down_payment_low" and over_ltv):
                out.append(Reason(code, best - points, params))
        out.sort(key=_reason_order)
        reasons = tuple(out)
    return Verdict(
        decision, tier, score, loan, ltv, pti, dti, stress, balloon, reasons, incurable, scored_tier
    )


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the ratio reasons say: the payment the buyer would see, and the stress test's.

    A buyer reads their ratios at the payment they are shown. Only where the stress rate
    decides (the shown payment alone would pass) does a reason speak of the stress test,
    and it says so. Other debts of zero make debt-to-income the same fact as
    payment-to-income: it is said once.
    """

    answers: Answers
    rules: Rules
    income: Decimal
    loan: Decimal
    seen: Decimal
    seen_rate: Decimal
    stress: Decimal
    balloon: Decimal

    def _params(self, payment: Decimal, extra: Decimal, cap: Decimal) -> dict[str, str]:
        return {
            "payment": fmt_amount(payment),
            "ratio": str(shown_ratio(payment + extra, self.income, cap)),
            "debt": fmt_amount(extra),
            "stress_rate": _plain(self.rules.stress_rate),
            "points": _plain(self.rules.stress_rate - self.seen_rate),
        }

    def ratio_reasons(
        self, over_pti: bool, over_dti: bool, pti_pts: int, dti_pts: int
    ) -> list[Reason]:
        rules, debt = self.rules, self.answers.monthly_debt
        out: list[Reason] = []
        checks = [("pti", ZERO, over_pti, rules.max_pti, pti_pts, rules.pti_bands, rules.pti_best)]
        if debt > 0:
            checks.append(
                ("dti", debt, over_dti, rules.max_dti, dti_pts, rules.dti_bands, rules.dti_best)
            )
        for kind, extra, over, cap, points, bands, best in checks:
            seen_over = (self.seen + extra) * HUNDRED > cap * self.income
            if over:
                payment = self.seen if seen_over else self.stress
                params = {**self._params(payment, extra, cap), "cap": str(cap)}
                code = f"{kind}_above_cap" + ("" if seen_over else "_stress")
                out.append(Reason(code, None, params))
            elif points < best:
                seen_points = _up_to_points(self.seen + extra, self.income, bands)
                stressed = seen_points > points
                payment = self.stress if stressed else self.seen
                params = {**self._params(payment, extra, cap), "best": str(bands[0][0])}
                code = ("payment" if kind == "pti" else "debt") + "_to_income_high"
                out.append(Reason(code + ("_stress" if stressed else ""), best - points, params))
        return out


def _plain(value: Decimal) -> str:
    """6.50 -> "6.5", 2.70 -> "2.7", 3 -> "3"."""
    text = f"{value.normalize():f}"
    return text


@dataclass(frozen=True)
class Assessment:
    """A decision with the offer a borrower would see.

    The schedule, the annualized rate, the total interest and the subsidy estimate are
    computed on first access: a counter-offer search never needs them.
    """

    answers: Answers
    verdict: Verdict
    annual_rate: Decimal
    rate_basis: str
    upfront_fee: Decimal
    monthly_payment: Decimal
    start: date
    policy: Policy = field(repr=False, compare=False)

    # The verdict's fields, under the names the rest of the code reads.
    @property
    def decision(self) -> Decision:
        return self.verdict.decision

    @property
    def tier(self) -> Tier | None:
        return self.verdict.tier

    @property
    def score(self) -> int:
        return self.verdict.score

    @property
    def loan_amount(self) -> Decimal:
        return self.verdict.loan_amount

    @property
    def ltv(self) -> Decimal:
        return self.verdict.ltv

    @property
    def pti(self) -> Decimal:
        """Payment-to-income of the payment shown (`monthly_payment`), percent for display."""
        return shown_ratio(self.monthly_payment, self.answers.monthly_income, self._caps[0])

    @property
    def dti(self) -> Decimal:
        """Debt-to-income with the payment shown and the other debts, percent for display."""
        debts = self.monthly_payment + self.answers.monthly_debt
        return shown_ratio(debts, self.answers.monthly_income, self._caps[1])

    @property
    def _caps(self) -> tuple[Decimal, Decimal]:
        caps = self.policy.affordability
        return caps.max_payment_to_income, caps.max_debt_to_income

    @property
    def stress_decided(self) -> bool:
        """True when a reason rests on the stress-rate payment, not on the one shown."""
        return any(r.code.endswith("_stress") for r in self.verdict.reasons)

    @property
    def reasons(self) -> list[Reason]:
        return list(self.verdict.reasons)

    @property
    def prequalified(self) -> bool:
        return self.verdict.prequalified

    @cached_property
    def schedule(self) -> Schedule:
        """The repayment schedule at the offered rate, paid out on `start`."""
        return build_schedule(
            self.loan_amount,
            self.annual_rate,
            self.answers.term_months,
            self.start,
            self.answers.method,
            self.verdict.balloon_amount,
        )

    @property
    def total_interest(self) -> Decimal:
        return self.schedule.total_interest

    @property
    def total_paid(self) -> Decimal:
        return self.schedule.total_paid

    @cached_property
    def apr(self) -> Decimal | None:
        """Annualized rate with the upfront fee, by IRR (None when nothing is lent)."""
        received = self.loan_amount - self.upfront_fee
        if received <= 0:
            return None
        return annualized_rate(received, self.schedule.payments)

    @cached_property
    def subsidy(self) -> SubsidyEstimate | None:
        """The car-loan interest subsidy this plan would earn, month by month as the
        programme pays it; only for a pre-qualified plan of a participating lender."""
        subsidy = self.policy.subsidy
        if not subsidy.lender_participates or not self.prequalified or self.loan_amount <= 0:
            return None
        balances = [self.schedule.principal, *(i.balance for i in self.schedule.installments)]
        return estimate_subsidy(balances, self.annual_rate, self.start, subsidy)

    @property
    def subsidy_saving(self) -> Decimal | None:
        """The subsidy estimate in yuan (None when none is shown)."""
        return self.subsidy.amount if self.subsidy else None

    @property
    def notes(self) -> list[Reason]:
        """Things to tell the borrower that are not reasons against them."""
        out: list[Reason] = []
        if self.rate_basis == "floating":
            rates = self.policy.rates
            params = {"lpr": _plain(rates.lpr), "spread": _plain(self.annual_rate - rates.lpr)}
            out.append(Reason(f"rate_floating_{rates.repricing}", 0, params))
        if self.subsidy is not None:
            params = {
                "saving": fmt_amount(self.subsidy.amount),
                "until": str(self.subsidy.until),
                "ends": str(self.subsidy.ends),
            }
            out.append(Reason("subsidy_estimate", 0, params))
        return out

    def reason_texts(self, locale: Locale = "en") -> list[str]:
        return [r.text(locale) for r in self.verdict.reasons]


def price_offer(answers: Answers, verdict: Verdict, policy: Policy, start: date) -> Assessment:
    """Attach the rate, fee and first payment to a verdict (cheap: no schedule yet)."""
    # The rate the score earns, also for a plan referred or declined on another ground: the
    # payment a buyer reads is the one their tier would pay, the one their reasons quote.
    tier = verdict.tier or verdict.scored_tier
    rate = policy.rates.rate_for(tier) if tier else policy.rates.worst_rate
    loan = verdict.loan_amount
    payment = first_payment(loan, rate, answers.term_months, answers.method, verdict.balloon_amount)
    fee = policy.fees.upfront_fee(loan) if loan > 0 else ZERO
    return Assessment(answers, verdict, rate, policy.rates.basis, fee, payment, start, policy)


def assess(answers: Answers, policy: Policy, today: date | None = None) -> Assessment:
    """Assess an answer set under a policy; `today` is the payout date for the schedule."""
    start = today or date.today()
    return price_offer(answers, evaluate(answers, policy), policy, start)

"""The three repayment methods side by side, for one buyer's own numbers.

Part of a loan manager's advice is the trade-off between the methods: the same loan paid
back as an annuity (等额本息), in equal principal parts (等额本金) or with a balloon
(弹性尾款) costs different amounts and feels different month to month. Every figure here
is read off `build_schedule`'s schedules, never re-derived, so the comparison and the
contract can never disagree. The "who it suits" lines are data in both locales, like
`lending.reasons`.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lending.answers import Answers
from lending.assessment import Decision, assess, balloon_amount, evaluate
from lending.money import ZERO, money
from lending.policy import Policy
from lending.reasons import Locale
from lending.schedule import RepaymentMethod, Schedule, build_schedule

METHODS: tuple[RepaymentMethod, ...] = (
    RepaymentMethod.ANNUITY,
    RepaymentMethod.EQUAL_PRINCIPAL,
    RepaymentMethod.BALLOON,
)

SUITS: dict[RepaymentMethod, dict[str, str]] = {
    RepaymentMethod.ANNUITY: {
        "en": "The same payment every month: the easiest to budget, and the usual choice.",
        "zh": "每月还款额相同，最便于规划，也是最常见的选择。",
    },
    RepaymentMethod.EQUAL_PRINCIPAL: {
        "en": "The least interest in total, but higher payments at first that fall every "
        "month: suits a strong, steady income.",
        "zh": "总利息最少，但前期月供较高、逐月递减，适合收入较高且稳定的人。",
    },
    RepaymentMethod.BALLOON: {
        "en": "Low monthly payments and a large final one: suits someone expecting a lump "
        "sum or planning to sell or trade in the car at the end.",
        "zh": "月供较低，但到期需一次付清大额尾款，适合预期有大笔收入或计划到期换车的人。",
    },
}

METHOD_NAMES: dict[RepaymentMethod, dict[str, str]] = {
    RepaymentMethod.ANNUITY: {"en": "Equal payments", "zh": "等额本息"},
    RepaymentMethod.EQUAL_PRINCIPAL: {"en": "Equal principal", "zh": "等额本金"},
    RepaymentMethod.BALLOON: {"en": "Balloon", "zh": "弹性尾款"},
}


def method_name(method: RepaymentMethod | str, locale: Locale = "en") -> str:
    names = METHOD_NAMES[RepaymentMethod(method)]
    return names.get(locale) or names["en"]


def suits_text(method: RepaymentMethod | str, locale: Locale = "en") -> str:
    """One line on who a repayment method suits, in the reader's language."""
    texts = SUITS[RepaymentMethod(method)]
    return texts.get(locale) or texts["en"]


@dataclass(frozen=True)
class MethodFigures:
    """One method's column of the comparison, read off its schedule.

    `last_payment` is the last *regular* monthly payment; for a balloon loan the final
    installment is that plus `remaining_at_end` (the balloon), which is `final_payment`.
    `decision` is what the assessment would say with this method (None without answers).
    """

    schedule: Schedule
    decision: Decision | None = None

    @property
    def method(self) -> RepaymentMethod:
        return self.schedule.method

    @property
    def first_payment(self) -> Decimal:
        return self.schedule.installments[0].payment

    @property
    def remaining_at_end(self) -> Decimal:
        return money(self.schedule.balloon_amount)

    @property
    def final_payment(self) -> Decimal:
        return self.schedule.final_payment

    @property
    def final_due_date(self) -> date:
        return self.schedule.final_due_date

    @property
    def last_payment(self) -> Decimal:
        return self.schedule.final_payment - self.schedule.balloon_amount

    @property
    def total_interest(self) -> Decimal:
        return self.schedule.total_interest

    @property
    def total_paid(self) -> Decimal:
        return self.schedule.total_paid

    def name(self, locale: Locale = "en") -> str:
        return method_name(self.method, locale)

    def suits(self, locale: Locale = "en") -> str:
        return suits_text(self.method, locale)


@dataclass(frozen=True)
class Comparison:
    """The same loan under each method, in `METHODS` order."""

    principal: Decimal
    annual_rate: Decimal
    term_months: int
    rows: tuple[MethodFigures, ...]

    def row(self, method: RepaymentMethod | str) -> MethodFigures:
        wanted = RepaymentMethod(method)
        return next(r for r in self.rows if r.method is wanted)

    @property
    def least_interest(self) -> RepaymentMethod:
        return min(self.rows, key=lambda r: (r.total_interest, METHODS.index(r.method))).method

    @property
    def lowest_first_payment(self) -> RepaymentMethod:
        return min(self.rows, key=lambda r: (r.first_payment, METHODS.index(r.method))).method


def compare_methods(
    principal: Decimal,
    annual_rate: Decimal,
    term_months: int,
    start: date,
    balloon: Decimal,
) -> Comparison:
    """Build the three schedules for one loan; `balloon` is the balloon method's lump sum."""
    principal = money(principal)
    rows = tuple(
        MethodFigures(
            build_schedule(
                principal,
                annual_rate,
                term_months,
                start,
                method,
                balloon if method is RepaymentMethod.BALLOON else ZERO,
            )
        )
        for method in METHODS
    )
    return Comparison(principal, Decimal(annual_rate), term_months, rows)


def compare_for_answers(answers: Answers, policy: Policy, today: date) -> Comparison:
    """The comparison for a buyer's answers, at the rate their own assessment offers.

    The rate is the one the buyer's chosen method earns (their tier's rate, or the worst
    rate when not pre-qualified), so the columns differ only in the method. Each column
    also carries the decision that method would get: equal principal's higher first
    payment can fail an affordability cap that an annuity passes.
    """
    assessment = assess(answers, policy, today)
    balloon_answers = answers.with_changes(method=RepaymentMethod.BALLOON)
    lump = balloon_amount(balloon_answers, policy)
    plain = compare_methods(
        answers.loan_amount, assessment.annual_rate, answers.term_months, today, lump
    )
    rows = tuple(
        MethodFigures(
            row.schedule,
            evaluate(answers.with_changes(method=row.method), policy, explain=False).decision,
        )
        for row in plain.rows
    )
    return Comparison(plain.principal, plain.annual_rate, plain.term_months, rows)

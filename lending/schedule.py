"""Repayment schedules: annuity (等额本息), equal principal (等额本金) and balloon (弹性尾款).

Each installment's interest is the balance times the monthly rate, rounded half-up to the
fen; the last installment takes whatever balance is left, so principal parts add up exactly
to the loan and the schedule ends at zero. A 0% rate (a common dealer promotion) follows
the same path with zero interest.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cached_property, lru_cache

from lending.dates import due_dates
from lending.money import ZERO, money, month_interest, monthly_rate


class RepaymentMethod(StrEnum):
    """How the loan is paid back; values are what users, JSON and the CLI spell."""

    ANNUITY = "annuity"
    EQUAL_PRINCIPAL = "equal-principal"
    BALLOON = "balloon"


@dataclass(frozen=True, slots=True)
class Installment:
    """One monthly payment: what is due, and how it splits into principal and interest."""

    n: int
    due_date: date
    payment: Decimal
    principal: Decimal
    interest: Decimal
    balance: Decimal


def level_payment(
    principal: Decimal, annual_rate: Decimal, term_months: int, balloon_amount: Decimal = ZERO
) -> Decimal:
    """The equal monthly payment that leaves `balloon_amount` owing after `term_months`.

    With no balloon this is the annuity payment, P·r / (1 − (1+r)^−n); with one, the
    balloon's present value is taken off first. Rounded half-up to the fen.
    """
    r = monthly_rate(annual_rate)
    if not r:
        return money((principal - balloon_amount) / term_months)
    discount = _discount(annual_rate, term_months)
    return money((principal - balloon_amount * discount) * r / (1 - discount))


@lru_cache(maxsize=1024)
def _discount(annual_rate: Decimal, term_months: int) -> Decimal:
    """(1 + r)^-n: a Decimal power, the costliest step of a payment; a price list has few
    rates and terms, so assessments and counter-offers keep meeting the same ones."""
    return (1 + monthly_rate(annual_rate)) ** -term_months  # type: ignore[no-any-return]


def first_payment(
    principal: Decimal,
    annual_rate: Decimal,
    term_months: int,
    method: RepaymentMethod,
    balloon_amount: Decimal = ZERO,
) -> Decimal:
    """The first regular installment without building the schedule (the affordability figure).

    Equals `build_schedule(...).monthly_payment` to the fen; used on the fast decision path.
    """
    if method is RepaymentMethod.EQUAL_PRINCIPAL:
        return money(principal / term_months) + month_interest(principal, annual_rate)
    balloon = balloon_amount if method is RepaymentMethod.BALLOON else ZERO
    if term_months == 1:
        return principal + month_interest(principal, annual_rate)
    return level_payment(principal, annual_rate, term_months, balloon)


@dataclass(frozen=True)
class Schedule:
    """A complete repayment plan, with the totals a borrower asks about."""

    installments: tuple[Installment, ...]
    principal: Decimal
    annual_rate: Decimal
    method: RepaymentMethod
    term_months: int
    balloon_amount: Decimal = ZERO

    @property
    def monthly_payment(self) -> Decimal:
        """The first regular installment (for equal principal, the largest one)."""
        return self.installments[0].payment

    @property
    def final_payment(self) -> Decimal:
        """The last installment: for a balloon loan, the balloon plus its month's installment."""
        return self.installments[-1].payment

    @property
    def final_due_date(self) -> date:
        """When the last installment (a balloon loan's lump sum) falls due."""
        return self.installments[-1].due_date

    @cached_property
    def total_interest(self) -> Decimal:
        """Interest over the life of the loan."""
        return sum((i.interest for i in self.installments), ZERO)

    @cached_property
    def total_paid(self) -> Decimal:
        """Everything the borrower pays: principal plus interest."""
        return sum((i.payment for i in self.installments), ZERO)

    @property
    def payments(self) -> list[Decimal]:
        """The installment amounts, in order (the cash flows for the annualized rate)."""
        return [i.payment for i in self.installments]


def iter_balances(
    principal: Decimal,
    annual_rate: Decimal,
    term_months: int,
    method: RepaymentMethod,
    balloon_amount: Decimal = ZERO,
) -> Iterator[Decimal]:
    """The balance at payout and after each installment, as `build_schedule` computes it.

    The decision's collateral check walks these dozens of times per applicant and often
    stops early, so this yields them one by one and skips dates and installment objects;
    a test holds it to `build_schedule`.
    """
    balance = principal
    yield balance
    if method is RepaymentMethod.EQUAL_PRINCIPAL:
        level = money(principal / term_months)
        for _ in range(term_months - 1):
            balance -= min(level, balance)
            yield balance
    else:
        balloon = balloon_amount if method is RepaymentMethod.BALLOON else ZERO
        level = level_payment(principal, annual_rate, term_months, balloon)
        for _ in range(term_months - 1):
            interest = month_interest(balance, annual_rate)
            balance -= min(level - interest, balance)
            yield balance
    yield ZERO


def build_schedule(
    principal: Decimal,
    annual_rate: Decimal,
    term_months: int,
    start: date,
    method: RepaymentMethod | str = RepaymentMethod.ANNUITY,
    balloon_amount: Decimal = ZERO,
    first_due: date | None = None,
) -> Schedule:
    """The repayment schedule for a loan paid out on `start`.

    `balloon_amount` is the final lump sum of a balloon loan (ignored otherwise); it must not
    exceed the principal. Due dates fall monthly on `start`'s day (or `first_due`'s), clamped
    to the month's end.
    """
    method = RepaymentMethod(method)
    principal = money(principal)
    annual_rate = Decimal(annual_rate)
    if principal < 0:
        raise ValueError(f"principal: must not be negative, got {principal}")
    if term_months < 1:
        raise ValueError(f"term_months: must be at least 1, got {term_months}")
    if annual_rate < 0:
        raise ValueError(f"annual_rate: must not be negative, got {annual_rate}")
    balloon = money(balloon_amount) if method is RepaymentMethod.BALLOON else ZERO
    if not ZERO <= balloon <= principal:
        raise ValueError(f"balloon_amount: must be between 0 and the principal, got {balloon}")

    equal_principal = method is RepaymentMethod.EQUAL_PRINCIPAL
    level = (
        money(principal / term_months)
        if equal_principal
        else level_payment(principal, annual_rate, term_months, balloon)
    )
    dates = due_dates(start, term_months, first_due)
    installments: list[Installment] = []
    balance = principal
    last = term_months
    for n, due in enumerate(dates, start=1):
        interest = month_interest(balance, annual_rate)
        if n == last:
            part = balance
        elif equal_principal:
            part = min(level, balance)
        else:
            part = min(level - interest, balance)
        balance -= part
        installments.append(Installment(n, due, part + interest, part, interest, balance))
    return Schedule(tuple(installments), principal, annual_rate, method, term_months, balloon)

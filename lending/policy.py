"""The lending policy: every rule, point and rate the engine uses, as validated data.

Policy is data so that credit staff can change a cap or a cut-off without a release: the
default file (`default_policy.toml`, shipped beside this module) encodes the Chinese
auto-loan rules, `POLICY_PATH` points at another file, and any section or key left out
keeps its default. A bad file is one clear `PolicyError` line at start-up, never a
traceback. The model defaults below equal the default file (a test holds them together).
"""

import tomllib
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from lending.errors import first_error_line
from lending.money import HUNDRED, ZERO, money

DEFAULT_POLICY_PATH = Path(__file__).with_name("default_policy.toml")

Tier = Literal["A", "B", "C"]
TIERS: tuple[Tier, ...] = ("A", "B", "C")


class PolicyError(ValueError):
    """A policy file that cannot be used; the message is one line naming file and field."""


def _percent(value: Decimal) -> Decimal:
    if not ZERO <= value <= HUNDRED:
        raise ValueError(f"must be between 0 and 100, got {value}")
    return value


Percent = Annotated[Decimal, AfterValidator(_percent)]
Amount = Annotated[Decimal, Field(ge=0)]
Rate = Annotated[Decimal, Field(ge=0, le=36)]  # % a year; 36% is the legal ceiling anyway
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]


class Section(BaseModel):
    """Every policy table rejects unknown keys: a typo must not silently keep a default."""

    model_config = ConfigDict(extra="forbid")


class LtvCaps(Section):
    """Maximum loan-to-value in percent of the price (regulatory caps; NEV since 2024 set by lenders)."""

    new_personal_fuel: Percent = Decimal(80)
    new_personal_nev: Percent = Decimal(85)
    new_business_fuel: Percent = Decimal(70)
    new_business_nev: Percent = Decimal(75)
    used: Percent = Decimal(70)

    def cap(self, condition: str, powertrain: str, use: str) -> Decimal:
        """The cap for one vehicle: used cars share one cap whatever their powertrain or use."""
        if condition == "used":
            return self.used
        return getattr(self, f"new_{use}_{powertrain}")


class Terms(Section):
    """Which terms are offered and the caps by condition and vehicle age."""

    offered_months: list[PositiveInt] = Field(default_factory=lambda: [12, 24, 36, 48, 60])
    max_months_new: PositiveInt = 60
    max_months_used: PositiveInt = 36
    used_max_age_at_end_years: PositiveInt = 8

    @model_validator(mode="after")
    def _sorted(self) -> "Terms":
        if not self.offered_months:
            raise ValueError("offered_months: must list at least one term")
        if self.offered_months != sorted(set(self.offered_months)):
            raise ValueError(
                f"offered_months: must be increasing without repeats, got {self.offered_months}"
            )
        return self


class Eligibility(Section):
    """Hard rules: failing one declines whatever the score. Age is only ever a rule here."""

    min_age: Annotated[int, Field(ge=16, le=100)] = 18
    max_age_at_end: Annotated[int, Field(ge=18, le=120)] = 65
    min_monthly_income: Amount = Decimal(3000)
    min_loan_amount: Amount = Decimal(10000)


class Affordability(Section):
    """Payment-to-income and debt-to-income caps, tested at a stress rate.

    `stress_rate` left out means the worst tier's rate, so an applicant who qualifies
    would still afford the loan on the least favourable price list. Caps compare the exact
    ratio: 40.004% fails a 40% cap even though it would be shown as 40.00%.
    """

    max_payment_to_income: Percent = Decimal(40)
    max_debt_to_income: Percent = Decimal(55)
    stress_rate: Rate | None = None


class UpToBand(Section):
    """Points for a ratio at or below `up_to` percent (lower is better)."""

    up_to: Percent
    points: NonNegativeInt


class AtLeastBand(Section):
    """Points for a value at or above `at_least` (higher is better)."""

    at_least: Amount
    points: NonNegativeInt


def _up_to(bands: list[UpToBand]) -> list[UpToBand]:
    if [b.up_to for b in bands] != sorted({b.up_to for b in bands}):
        raise ValueError("bands must be listed with up_to increasing")
    return bands


def _at_least(bands: list[AtLeastBand]) -> list[AtLeastBand]:
    if [b.at_least for b in bands] != sorted({b.at_least for b in bands}, reverse=True):
        raise ValueError("bands must be listed with at_least decreasing")
    return bands


UpToBands = Annotated[list[UpToBand], AfterValidator(_up_to)]
AtLeastBands = Annotated[list[AtLeastBand], AfterValidator(_at_least)]


def _bands(*pairs: tuple[int, int], key: str) -> list:
    model = UpToBand if key == "up_to" else AtLeastBand
    return [model.model_validate({key: t, "points": p}) for t, p in pairs]


class EmploymentPoints(Section):
    salaried: NonNegativeInt = 12
    business_owner: NonNegativeInt = 9
    self_employed: NonNegativeInt = 7
    retired: NonNegativeInt = 8
    other: NonNegativeInt = 2


class CreditHistoryPoints(Section):
    clean: NonNegativeInt = 13
    late: NonNegativeInt = 4
    default: NonNegativeInt = 0


class VehicleConditionPoints(Section):
    new: NonNegativeInt = 5
    used: NonNegativeInt = 2


class Scorecard(Section):
    """Points by factor; a factor's shortfall from its best band is its reason-code cost.

    Ratios are percents (payment-to-income and debt-to-income at the stress rate, down
    payment as a share of the price); months in the current job are whole months.
    No factor looks at age or any protected trait. A retiree has no job to have been in:
    their pension is the steady income that tenure stands in for, so a retiree scores the
    best `employment_months` band and is never told about job tenure.
    """

    payment_to_income: UpToBands = Field(
        default_factory=lambda: _bands((20, 25), (30, 18), (40, 8), key="up_to")
    )
    debt_to_income: UpToBands = Field(
        default_factory=lambda: _bands((30, 20), (45, 12), (55, 5), key="up_to")
    )
    down_payment_share: AtLeastBands = Field(
        default_factory=lambda: _bands((40, 15), (30, 10), (20, 5), key="at_least")
    )
    employment_months: AtLeastBands = Field(
        default_factory=lambda: _bands((36, 10), (12, 6), (6, 3), key="at_least")
    )
    employment: EmploymentPoints = Field(default_factory=EmploymentPoints)
    credit_history: CreditHistoryPoints = Field(default_factory=CreditHistoryPoints)
    vehicle_condition: VehicleConditionPoints = Field(default_factory=VehicleConditionPoints)

    @property
    def max_score(self) -> int:
        """The best possible score (100 with the default card)."""
        return (
            max((b.points for b in self.payment_to_income), default=0)
            + max((b.points for b in self.debt_to_income), default=0)
            + max((b.points for b in self.down_payment_share), default=0)
            + max((b.points for b in self.employment_months), default=0)
            + max(self.employment.model_dump().values())
            + max(self.credit_history.model_dump().values())
            + max(self.vehicle_condition.model_dump().values())
        )


class Tiers(Section):
    """Score cut-offs: A ≥ B ≥ C are pre-qualified; [review_min, C) needs a manager."""

    A: NonNegativeInt = 75
    B: NonNegativeInt = 60
    C: NonNegativeInt = 50
    review_min: NonNegativeInt = 40

    @model_validator(mode="after")
    def _ordered(self) -> "Tiers":
        if not self.A >= self.B >= self.C >= self.review_min:
            raise ValueError(
                "cut-offs must satisfy A >= B >= C >= review_min, got "
                f"A={self.A} B={self.B} C={self.C} review_min={self.review_min}"
            )
        return self

    def tier_for(self, score: int) -> Tier | None:
        """The tier a score earns, or None below C."""
        if score >= self.A:
            return "A"
        if score >= self.B:
            return "B"
        if score >= self.C:
            return "C"
        return None


class TierRates(Section):
    A: Rate
    B: Rate
    C: Rate


class Rates(Section):
    """Rate by tier: fixed, or floating = LPR + spread (payments change at repricing).

    A floating rate is reset to the then 1-year LPR plus the tier's spread on each
    `repricing` date: every 1 January, or each anniversary of the payout. Affordability
    of a floating loan is tested `lpr_shock` points above the stress rate, for an LPR that
    rises before the borrower has paid it off.
    """

    basis: Literal["fixed", "floating"] = "fixed"
    lpr: Rate = Decimal("3.0")
    repricing: Literal["january_1", "anniversary"] = "january_1"
    lpr_shock: Annotated[Decimal, Field(ge=0, le=10)] = Decimal("1.0")
    fixed: TierRates = Field(
        default_factory=lambda: TierRates(A=Decimal("3.8"), B=Decimal("4.8"), C=Decimal("6.5"))
    )
    spread: TierRates = Field(
        default_factory=lambda: TierRates(A=Decimal("0.8"), B=Decimal("1.8"), C=Decimal("3.5"))
    )

    def rate_for(self, tier: Tier) -> Decimal:
        """The contract rate, % a year, for a tier."""
        if self.basis == "floating":
            return self.lpr + getattr(self.spread, tier)
        return getattr(self.fixed, tier)

    @property
    def worst_rate(self) -> Decimal:
        """The highest tier rate: the default stress rate and the rate shown for review."""
        return max(self.rate_for(t) for t in TIERS)


class Fees(Section):
    """The upfront fee, taken from the amount paid out; it is why APR exceeds the rate."""

    upfront_percent: Percent = Decimal("1.0")
    upfront_fixed: Amount = Decimal(0)

    def upfront_fee(self, loan_amount: Decimal) -> Decimal:
        return money(loan_amount * self.upfront_percent / HUNDRED + self.upfront_fixed)


class Balloon(Section):
    """Balloon (弹性尾款) loans: the final lump sum as a percent of the car price.

    A balloon is offered only up to the car's forecast value at maturity less
    `residual_margin` percent of the price: the car sold at the end must clear it.
    """

    default_percent: Percent = Decimal(30)
    max_percent: Percent = Decimal(40)
    residual_margin: Percent = Decimal(5)


class SubsidyPeriod(Section):
    """One stretch of the programme: interest accrued from `start` to `end` (inclusive).

    `base_cap`, when set, is the most of the balance the subsidy is computed on while the
    period runs, for a notice that caps the amount of a loan it subsidises.
    """

    start: date
    end: date
    base_cap: Amount | None = None

    @model_validator(mode="after")
    def _dates(self) -> "SubsidyPeriod":
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self


def _default_periods() -> list[SubsidyPeriod]:
    return [
        SubsidyPeriod(start=date(2025, 9, 1), end=date(2026, 8, 31)),
        SubsidyPeriod(start=date(2026, 9, 1), end=date(2026, 12, 31)),
    ]


class Subsidy(Section):
    """The consumer-loan interest subsidy for car purchases (财政贴息), as the state pays it.

    The state pays `rate_points` percentage points a year (at most `max_share_of_rate`
    percent of the contract rate) on the balance outstanding, for the interest accrued
    inside the `periods`, at most `yearly_cap` yuan per borrower per lender in a calendar
    year. It is paid only through lenders admitted to the programme:
    `lender_participates = true` once this company is (auto-finance companies take part
    only where their province admits them), false by default.
    """

    lender_participates: bool = False
    rate_points: Annotated[Decimal, Field(ge=0, le=10)] = Decimal(1)
    max_share_of_rate: Percent = Decimal(50)
    yearly_cap: Amount = Decimal(3000)
    periods: list[SubsidyPeriod] = Field(default_factory=_default_periods)

    @model_validator(mode="after")
    def _ordered(self) -> "Subsidy":
        for earlier, later in zip(self.periods, self.periods[1:], strict=False):
            if later.start <= earlier.end:
                raise ValueError(
                    f"periods: must be in date order without overlap, got {later.start} "
                    f"on or before {earlier.end}"
                )
        return self

    def subsidy_rate(self, contract_rate: Decimal) -> Decimal:
        """Percentage points the subsidy takes off a contract rate."""
        return min(self.rate_points, contract_rate * self.max_share_of_rate / HUNDRED)


def _window(start: time, end: time, what: str) -> None:
    if start >= end:
        raise ValueError(f"{what}: start {start:%H:%M} must be before end {end:%H:%M}")


class Reminders(Section):
    """When repayment reminders go out (days before/after due, local daytime window)."""

    before_due_days: list[NonNegativeInt] = Field(default_factory=lambda: [3, 1, 0])
    overdue_days: list[PositiveInt] = Field(default_factory=lambda: [1, 3, 7, 15, 30])
    window_start: time = time(9, 0)
    window_end: time = time(21, 0)
    manager_alert_days: list[PositiveInt] = Field(default_factory=lambda: [3, 15])
    admin_alert_days: PositiveInt = 30

    @model_validator(mode="after")
    def _window_ok(self) -> "Reminders":
        _window(self.window_start, self.window_end, "window")
        return self


class Leads(Section):
    """The manager lead queue: escalation, contact reminders, working hours."""

    escalate_after_minutes: PositiveInt = 15
    contact_reminder_minutes: PositiveInt = 60
    working_hours_start: time = time(9, 0)
    working_hours_end: time = time(21, 0)
    round_robin: bool = False
    # At most this many applications per person in `per_person_hours` (each can open a
    # lead and a card in the managers' group); beyond it the buyer sees their /status.
    max_per_person: PositiveInt = 3
    per_person_hours: PositiveInt = 24

    @model_validator(mode="after")
    def _window_ok(self) -> "Leads":
        _window(self.working_hours_start, self.working_hours_end, "working_hours")
        return self


class Nudge(Section):
    """A gentle reminder to a prospect who stopped half-way through the questions."""

    after_hours: PositiveInt = 24


class Retention(Section):
    """How long personal data of prospects who never became borrowers is kept."""

    purge_after_days: PositiveInt = 90


class Documents(Section):
    """Documents a pre-qualified applicant should prepare (codes; `lending.documents` words them)."""

    required: list[str] = Field(
        default_factory=lambda: ["id_card", "driving_licence", "income_proof", "bank_statements_6m"]
    )


def _residual_curve(curve: list[Decimal]) -> list[Decimal]:
    if not curve:
        raise ValueError("must list at least one year's residual value")
    if any(not ZERO < v <= HUNDRED for v in curve):
        raise ValueError(f"residual values must be above 0 and at most 100, got {curve}")
    if any(later > earlier for earlier, later in zip(curve, curve[1:], strict=False)):
        raise ValueError(f"residual values must not rise from one year to the next, got {curve}")
    return curve


ResidualCurve = Annotated[list[Decimal], AfterValidator(_residual_curve)]


class ByPowertrain(Section):
    fuel: Percent
    nev: Percent


class Depreciation(Section):
    """What the car will be worth while the loan is paid down: the forecast value.

    `new_fuel` and `new_nev` give a car's value at the end of each year of its life
    (age 1, 2, ...), percent of its price new; between year ends the value falls
    linearly, after the last one it keeps falling by the last year's ratio. The value
    drops at purchase by `purchase_drop` percent of the price paid (a new car), or
    `used_purchase_drop` (a used car, the dealer's margin), then follows the curve from
    the car's age: a used car bought at 3 years old loses what a car loses from its 3rd
    year on. A plan whose balance stays above the forecast value for more than
    `negative_equity_max_months` months is sent to a manager (`negative_equity_action =
    "review"`) or declined (`"decline"`), with the reason code `negative_equity_long`.
    """

    new_fuel: ResidualCurve = Field(
        default_factory=lambda: [Decimal(v) for v in (82, 72, 64, 57, 51, 46, 42, 38)]
    )
    new_nev: ResidualCurve = Field(
        default_factory=lambda: [Decimal(v) for v in (72, 58, 49, 42, 36, 31, 27, 24)]
    )
    purchase_drop: ByPowertrain = Field(
        default_factory=lambda: ByPowertrain(fuel=Decimal(8), nev=Decimal(12))
    )
    used_purchase_drop: ByPowertrain = Field(
        default_factory=lambda: ByPowertrain(fuel=Decimal(5), nev=Decimal(5))
    )
    negative_equity_max_months: NonNegativeInt = 6
    negative_equity_action: Literal["review", "decline"] = "review"

    def curve(self, powertrain: str) -> list[Decimal]:
        return getattr(self, f"new_{powertrain}")

    def drop(self, condition: str, powertrain: str) -> Decimal:
        table = self.used_purchase_drop if condition == "used" else self.purchase_drop
        return getattr(table, str(powertrain))


class DisbursementChecklist(Section):
    """Steps between approval and payout; an open step older than this reminds its owner."""

    remind_after_hours: PositiveInt = 48


class Policy(Section):
    """The whole policy file."""

    model_config = ConfigDict(extra="forbid")

    name: str = "default"
    # The engine's flattened view of this policy (`lending.rules`), built on first use.
    _rules: Any = PrivateAttr(default=None)
    ltv: LtvCaps = Field(default_factory=LtvCaps)
    terms: Terms = Field(default_factory=Terms)
    eligibility: Eligibility = Field(default_factory=Eligibility)
    affordability: Affordability = Field(default_factory=Affordability)
    scorecard: Scorecard = Field(default_factory=Scorecard)
    tiers: Tiers = Field(default_factory=Tiers)
    rates: Rates = Field(default_factory=Rates)
    fees: Fees = Field(default_factory=Fees)
    balloon: Balloon = Field(default_factory=Balloon)
    subsidy: Subsidy = Field(default_factory=Subsidy)
    reminders: Reminders = Field(default_factory=Reminders)
    leads: Leads = Field(default_factory=Leads)
    nudge: Nudge = Field(default_factory=Nudge)
    retention: Retention = Field(default_factory=Retention)
    documents: Documents = Field(default_factory=Documents)
    depreciation: Depreciation = Field(default_factory=Depreciation)
    checklist: DisbursementChecklist = Field(default_factory=DisbursementChecklist)

    @property
    def stress_rate(self) -> Decimal:
        """The rate affordability is tested at (plus the LPR shock for a floating rate)."""
        stress = self.affordability.stress_rate
        base = self.rates.worst_rate if stress is None else stress  # 0 is a rate, not "unset"
        return base + self.rates.lpr_shock if self.rates.basis == "floating" else base


def parse_policy(data: dict, source: str = "policy") -> Policy:
    """Validate already-parsed TOML data; `source` names the file in error messages."""
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(first_error_line(exc, source)) from None


def load_policy(path: str | Path | None = None, *, checked: bool = True) -> Policy:
    """Read and validate a policy file (None: the default shipped with the package);
    `checked` also refuses contradictions and values beyond regulation (policy_checks)."""
    file = Path(path) if path is not None else DEFAULT_POLICY_PATH
    try:
        with file.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise PolicyError(f"{file}: file not found") from None
    except IsADirectoryError:
        raise PolicyError(f"{file}: is a directory, not a policy file") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{file.name}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise PolicyError(f"{file.name}: not UTF-8 text, so not a policy file") from None
    policy = parse_policy(data, file.name)
    if checked:
        from lending.policy_checks import policy_problems  # it imports this module

        problems = policy_problems(policy)
        if problems:
            raise PolicyError(f"{file.name}: {problems[0]}")
    return policy

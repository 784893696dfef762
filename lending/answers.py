"""What the prospect told us: the answer set the assessment reads.

The keys are exactly those of `python -m bot assess ANSWERS.json`, so a saved
conversation, a test fixture and a CLI file are the same thing. Validation here is
about shape (a price is a positive amount) and about answers agreeing with each other (a
new car has no age, a balloon percent needs the balloon method); whether a term is
*offered* is policy and is checked by the assessment.
"""

from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from lending.errors import first_error_line
from lending.money import money
from lending.schedule import RepaymentMethod


class VehicleCondition(StrEnum):
    NEW = "new"
    USED = "used"


class Powertrain(StrEnum):
    FUEL = "fuel"
    NEV = "nev"


class VehicleUse(StrEnum):
    PERSONAL = "personal"
    BUSINESS = "business"


class Employment(StrEnum):
    SALARIED = "salaried"
    SELF_EMPLOYED = "self_employed"
    BUSINESS_OWNER = "business_owner"
    RETIRED = "retired"
    OTHER = "other"


class CreditHistory(StrEnum):
    CLEAN = "clean"
    LATE = "late"
    DEFAULT = "default"


# Amounts are kept to the fen, so "300000" and 300000.0 both read back as "300000.00".
Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2), AfterValidator(money)]


class AnswersError(ValueError):
    """Answers that cannot be assessed; the message is one line naming the field."""


class Answers(BaseModel):
    """One applicant's answers. Money is yuan, ages and vehicle ages are whole years."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vehicle_condition: VehicleCondition
    powertrain: Powertrain
    use: VehicleUse
    price: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2), AfterValidator(money)]
    vehicle_age_years: Annotated[int, Field(ge=0, le=50)] = 0
    down_payment: Amount
    term_months: Annotated[int, Field(gt=0, le=120)]
    method: RepaymentMethod = RepaymentMethod.ANNUITY
    employment: Employment
    employment_months: Annotated[int, Field(ge=0, le=1200)]
    monthly_income: Amount
    monthly_debt: Amount
    credit_history: CreditHistory
    age: Annotated[int, Field(ge=0, le=120)]
    balloon_percent: Annotated[Decimal, Field(ge=0, le=100)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _retiree_has_no_job_tenure(cls, data: Any) -> Any:
        """A retiree is not asked how long they have held a job (the chat skips it): 0."""
        if isinstance(data, dict) and data.get("employment") == Employment.RETIRED:
            return {"employment_months": 0, **data}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> "Answers":
        if self.down_payment > self.price:
            raise ValueError(
                f"down_payment: must not exceed the price {self.price}, got {self.down_payment}"
            )
        if self.vehicle_condition is VehicleCondition.NEW and self.vehicle_age_years:
            raise ValueError(
                f"vehicle_age_years: a new car has no age, got {self.vehicle_age_years}; "
                "leave it out or set vehicle_condition to used"
            )
        if self.balloon_percent is not None and self.method is not RepaymentMethod.BALLOON:
            raise ValueError(
                f"balloon_percent: applies only to method balloon, got method {self.method}; "
                "leave it out or set method to balloon"
            )
        if self.balloon_percent is not None and (
            self.price * self.balloon_percent > self.loan_amount * 100
        ):
            most = (self.loan_amount * 100 / self.price).quantize(Decimal("0.01"), ROUND_FLOOR)
            raise ValueError(
                f"balloon_percent: a balloon of {self.balloon_percent}% of the price is more "
                f"than the loan {self.loan_amount}; at most {most}%"
            )
        return self

    @property
    def loan_amount(self) -> Decimal:
        return self.price - self.down_payment

    def with_changes(self, **changes: Any) -> "Answers":
        """A copy with some answers changed (no re-validation: callers pass sound values)."""
        return self.model_copy(update=changes)


def parse_answers(data: Any) -> Answers:
    """Validate a JSON-like mapping, raising `AnswersError` with one human line."""
    if not isinstance(data, dict):
        raise AnswersError("answers: expected a JSON object with the answer keys")
    try:
        return Answers.model_validate(data)
    except ValidationError as exc:
        raise AnswersError(first_error_line(exc)) from None

"""The schedule picture, and the draft/nudge bookkeeping in the database."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from PIL import Image

from lending.schedule import RepaymentMethod, build_schedule
from services.charts import schedule_chart


@pytest.mark.parametrize(
    ("rate", "method", "balloon"),
    [
        ("4.8", RepaymentMethod.ANNUITY, "0"),
        ("0", RepaymentMethod.ANNUITY, "0"),  # a dealer's 0% promotion
        ("6.5", RepaymentMethod.EQUAL_PRINCIPAL, "0"),
        ("4.8", RepaymentMethod.BALLOON, "60000"),
    ],
)
def test_schedule_chart_is_a_small_png(rate: str, method: RepaymentMethod, balloon: str) -> None:
    schedule = build_schedule(
        Decimal(140000), Decimal(rate), 36, date(2026, 3, 3), method, Decimal(balloon)
    )
    png = schedule_chart(schedule.installments, schedule.principal, "zh")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (960, 540)
    assert len(png) < 100_000  # well under Telegram's photo limit
    # Principal (blue) and the balance line (red) are both drawn.
    pixels = image.convert("RGB").getcolors(maxcolors=100_000) or []
    colours = {colour for _, colour in pixels}
    assert (52, 120, 200) in colours and (200, 40, 60) in colours


def test_a_chart_needs_installments() -> None:
    with pytest.raises(ValueError, match="at least one"):
        schedule_chart([], Decimal(1))


def test_a_single_installment_and_a_long_term_draw() -> None:
    for term in (1, 120):
        schedule = build_schedule(Decimal(50000), Decimal("3.8"), term, date(2026, 3, 3))
        assert schedule_chart(schedule.installments, schedule.principal).startswith(b"\x89PNG")


def test_a_chart_does_not_carry_the_previous_charts_bars() -> None:
    """The grid, axes, legend and labels are drawn once and pasted: a chart drawn after a
    longer, bigger one is the same picture as when it is drawn first."""
    small = build_schedule(Decimal(30000), Decimal("4.8"), 12, date(2026, 3, 3))
    big = build_schedule(Decimal(900000), Decimal("6.5"), 84, date(2026, 3, 3))
    alone = schedule_chart(small.installments, small.principal)
    schedule_chart(big.installments, big.principal)
    assert schedule_chart(small.installments, small.principal) == alone

"""How the bot writes an amount, as a test expects it (the rule, written out by hand):
grouped thousands, cents only when there are some."""

from __future__ import annotations

from decimal import Decimal


def grouped(amount: Decimal | str) -> str:
    """`150000` -> "150,000"; `4120.9` -> "4,120.90"."""
    value = Decimal(str(amount))
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"

"""Due dates: the same day every month, clamped to the month's last day.

A loan taken on 31 January falls due on 28 (or 29) February and then on 31 March again:
the anchor day is kept, only each month's date is clamped.
"""

import calendar as _calendar
from datetime import date
from functools import lru_cache


def add_months(anchor: date, months: int) -> date:
    """`anchor` moved by `months` calendar months, keeping its day where the month allows."""
    index = anchor.year * 12 + anchor.month - 1 + months
    year, month0 = divmod(index, 12)
    day = anchor.day
    if day > 28:
        day = min(day, _month_days(year, month0 + 1))
    return date(year, month0 + 1, day)


def _month_days(year: int, month: int) -> int:
    if month == 2:
        return 29 if _calendar.isleap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def due_dates(start: date, count: int, first_due: date | None = None) -> list[date]:
    """`count` monthly due dates: one month after `start`, or from `first_due` when given."""
    return list(_due_dates(start, count, first_due))


# Every schedule and subsidy estimate made on one day asks for the same few date runs.
@lru_cache(maxsize=512)
def _due_dates(start: date, count: int, first_due: date | None) -> tuple[date, ...]:
    if first_due is None:
        return tuple(add_months(start, k) for k in range(1, count + 1))
    return tuple(add_months(first_due, k) for k in range(count))

"""Calendar functions of the rule language: the reference definitions every backend follows.

All are total on calendar dates; a backend that encodes dates as (year, month, day) triples can
translate each one with integer arithmetic and division by constants only. The calendar is the
years 1901..2099, where every fourth year is leap and a solver's day number is exact: a function
whose result would leave it raises OffCalendar (the backends make that value unknown).
"""

from __future__ import annotations

import calendar
import datetime as dt
from functools import lru_cache

# The calendar tables every backend's date arithmetic is built from (clingo and z3 read them).
COMMON_MONTH_LENGTHS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # month m's days, common year
CUMULATIVE_DAYS = tuple(sum(COMMON_MONTH_LENGTHS[:m]) for m in range(12))  # before month m (common year)
FIRST_YEAR, LAST_YEAR = 1901, 2099
FIRST, LAST = dt.date(FIRST_YEAR, 1, 1), dt.date(LAST_YEAR, 12, 31)


class OffCalendar(ValueError):
    """A date function's result lies outside FIRST..LAST (in `year`)."""

    def __init__(self, message: str, year: int) -> None:
        super().__init__(message)
        self.year = year


def _off(call: str, y: int) -> OffCalendar:
    return OffCalendar(f"{call} falls in year {y}, outside the calendar {FIRST}..{LAST}", y)


def is_leap(y: int) -> bool:
    return calendar.isleap(y)


_LENGTHS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def month_length(y: int, m: int) -> int:
    return 29 if m == 2 and calendar.isleap(y) else _LENGTHS[m - 1]


# The date makers are pure and called with few distinct arguments (rule constants, a person's
# dates): cached, they were the largest cost left in eval's generated code.
_cached = lru_cache(maxsize=1 << 16)


@_cached
def make_date(y: int, m: int, d: int) -> dt.date:
    """date(y, m, d): month clamped to 1..12, day clamped to 1..month length."""
    if not FIRST_YEAR <= y <= LAST_YEAR:
        raise _off(f"date({y}, {m}, {d})", y)
    m = min(max(m, 1), 12)
    return dt.date(y, m, min(max(d, 1), month_length(y, m)))


def age_at(birth: dt.date, on: dt.date) -> int:
    """Completed years on `on`; the birthday itself counts (29 Feb birthdays count on 1 Mar)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def year_end_age(birth: dt.date, year: int) -> int:
    """Age on 31 December of `year`."""
    return year - birth.year


def month_index(d: dt.date) -> int:
    return 12 * d.year + d.month - 1


@_cached
def first_of_next_month(d: dt.date) -> dt.date:
    y = d.year + d.month // 12
    if y > LAST_YEAR:
        raise _off(f"first_of_next_month({d})", y)
    return dt.date(y, d.month % 12 + 1, 1)


@_cached
def add_months(d: dt.date, n: int, rule: str) -> dt.date:
    """d moved by n months. When the day does not exist in the target month:
    'clamp' gives the month's last day (31 Jan + 1 = 28/29 Feb),
    'roll' gives the first day of the month after (31 Jan + 1 = 1 Mar)."""
    total = 12 * d.year + d.month - 1 + n
    y, m = total // 12, total % 12 + 1
    if not FIRST_YEAR <= y <= LAST_YEAR:
        raise _off(f"add_months({d}, {n}, '{rule}')", y)
    last = month_length(y, m)
    if d.day <= last:
        return dt.date(y, m, d.day)
    if rule == "clamp":
        return dt.date(y, m, last)
    return dt.date(y, m + 1, 1)  # December has 31 days: a day runs past only before it


def days_between(a: dt.date, b: dt.date) -> int:
    """b - a in days (same day = 0)."""
    return (b - a).days


def day_number(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 by arithmetic alone (valid 1901..2099), as a solver computes it."""
    leap_days = (y - 1969) // 4  # leap years strictly before y, counted from 1970
    leap_this = 1 if (y % 4 == 0 and m > 2) else 0
    return 365 * (y - 1970) + leap_days + CUMULATIVE_DAYS[m - 1] + leap_this + d - 1

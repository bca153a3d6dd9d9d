"""The clingo backend's date arithmetic (ASP terms written from solver/dates.py's tables) against
solver/dates.py and datetime, over the calendar's edges: its first and last years, leap and
common years, the turn of every month, and floor division of negative numbers."""

from __future__ import annotations

import calendar
import datetime as dt

import clingo

from solver import dates
from solver.backends.clingo_asp import _BASE, _day_number, _floor_div, _floor_mod, _month_length

EDGE_YEARS = (1901, 1903, 1904, 1905, 1969, 1970, 1971, 1999, 2000, 2024, 2025, 2096, 2098, 2099)


def _solve(rules: list[str], facts: list[str]) -> list[clingo.Symbol]:
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], "\n".join([_BASE, *facts, *rules]))
    ctl.ground([("base", [])], context=_NoPerson())
    out: list[clingo.Symbol] = []
    ctl.solve(on_model=lambda m: out.extend(m.symbols(atoms=True)))
    return out


class _NoPerson:
    """The context _BASE reads persons from: none here."""

    def person(self) -> list[clingo.Symbol]:
        return []


def test_tables_are_the_calendars() -> None:
    assert tuple(calendar.monthrange(2023, m)[1] for m in range(1, 13)) == dates.COMMON_MONTH_LENGTHS
    assert tuple((dt.date(2023, m, 1) - dt.date(2023, 1, 1)).days for m in range(1, 13)) == dates.CUMULATIVE_DAYS


def test_day_numbers_and_month_lengths_agree_with_dates_at_the_edges() -> None:
    days = [
        dt.date(y, m, d)
        for y in EDGE_YEARS
        for m in range(1, 13)
        for d in sorted({1, 2, 28, calendar.monthrange(y, m)[1] - 1, calendar.monthrange(y, m)[1]})
    ]
    lits, num = _day_number("Y", "M", "D", "0")
    rules = [
        f"dnum(Y,M,D,{num}) :- q(Y,M,D), {', '.join(lits)}.",
        f"len(Y,M,L) :- q(Y,M,_), {', '.join(_month_length('Y', 'M', 'L', '0'))}.",
    ]
    got = _solve(rules, [f"q({d.year},{d.month},{d.day})." for d in days])
    numbers = {tuple(a.number for a in s.arguments[:3]): s.arguments[3].number for s in got if s.name == "dnum"}
    lengths = {(s.arguments[0].number, s.arguments[1].number): s.arguments[2].number for s in got if s.name == "len"}
    epoch = dt.date(1970, 1, 1)
    for d in days:
        assert numbers[(d.year, d.month, d.day)] == dates.day_number(d.year, d.month, d.day) == (d - epoch).days, d
        assert lengths[(d.year, d.month)] == dates.month_length(d.year, d.month), d
    assert len(numbers) == len(days)


def test_floor_division_agrees_with_python() -> None:
    pairs = [(x, c) for x in (-25, -24, -13, -12, -11, -1, 0, 1, 11, 12, 13, 24, 25) for c in (4, 12)]
    rules = [f"r(X,C,{_floor_div('X', 'C')},{_floor_mod('X', 'C')}) :- q(X,C)."]
    got = _solve(rules, [f"q({x},{c})." for x, c in pairs])
    result = {
        (s.arguments[0].number, s.arguments[1].number): (s.arguments[2].number, s.arguments[3].number)
        for s in got
        if s.name == "r"
    }
    assert result == {(x, c): (x // c, x % c) for x, c in pairs}

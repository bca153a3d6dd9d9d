"""The clingo backend's ASP text: values as terms, the calendar's arithmetic and the base program."""

from __future__ import annotations

import datetime as dt
import re

from solver import dates, ir

# The calendar's arithmetic written in ASP from solver/dates.py's tables (tests/test_dates.py
# checks the terms against dates.day_number and datetime over the calendar's edges).


def _leap(y: str) -> str:
    """1 in a leap year, else 0 (years 1901..2099: y % 4 == 0); y\\4 is 0..3 for y >= 0."""
    return f"(1-({y}\\4+3)/4)"


def _day_number(y: str, m: str, d: str, tag: str) -> tuple[list[str], str]:
    """Body literals and term for solver.dates.day_number(y, m, d). (y-1969)//4 is written
    (y-1)/4-492 so that clingo's truncating division never sees a negative operand (y >= 1)."""
    c, a = f"C{tag}", f"A{tag}"
    return [f"month({m},_,{c},_,{a})"], _day_number_term(y, c, a, d)


def _day_number_term(y: str, before: str, after_february: str, d: str) -> str:
    return f"365*({y}-1970)+({y}-1)/4-492+{before}+{after_february}*{_leap(y)}+{d}-1"


def _month_length(y: str, m: str, out: str, tag: str) -> list[str]:
    """Body literals binding `out` to the number of days of month m of year y."""
    return [f"month({m},L{tag},_,F{tag},_)", f"{out}=L{tag}+F{tag}*{_leap(y)}"]


def _floor_mod(x: str, c: str) -> str:
    """Python's x % c from clingo's remainder, which takes the sign of x."""
    return f"(({x}\\{c})+{c})\\{c}"


def _floor_div(x: str, c: str) -> str:
    """Python's x // c: x minus its floor remainder is a multiple of c, so truncation is exact."""
    return f"(({x})-{_floor_mod(x, c)})/{c}"


def _q(s: str) -> str:
    """An ASP string literal."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _const_date(d: dt.date) -> str:
    """A date constant for facts and heads: d(Y,M,D,N) with N the same ASP arithmetic, the
    month table's entries filled in."""
    n = _day_number_term(str(d.year), str(dates.CUMULATIVE_DAYS[d.month - 1]), str(int(d.month > 2)), str(d.day))
    return f"d({d.year},{d.month},{d.day},{n})"


def _const(value: ir.Value) -> str:
    """A constant as an ASP term: true/false, a number, a string or a date term."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _q(value)
    return _const_date(value)


def _dpat(y: str = "_", m: str = "_", d: str = "_", n: str = "_") -> str:
    return f"d({y},{m},{d},{n})"


_BASE = "\n".join(
    [
        "% month(M, CommonLength, DaysBefore, IsFebruary, AfterFebruary)",
        *(
            f"month({m},{n},{b},{int(m == 2)},{int(m > 2)})."
            for m, n, b in zip(range(1, 13), dates.COMMON_MONTH_LENGTHS, dates.CUMULATIVE_DAYS, strict=True)
        ),
        "pkey(P,K) :- prow(P,K,_).",
        "% constant dates used in rules, with their day numbers",
        "dn(Y,M,D,N) :- cdate(Y,M,D), month(M,_,C,_,A), N={}.".format(_day_number_term("Y", "C", "A", "D")),
        "% the persons: typed facts from the context function @person()",
        "person(K) :- person(K) = @person().",
        *(f"{p}(K,N,V) :- {p}(K,N,V) = @person()." for p in ("in_bool", "in_int", "in_enum")),
        "in_date(K,N,Y,M,D) :- in_date(K,N,Y,M,D) = @person().",
        *(f"given(K,N) :- {p}(K,N,_)." for p in ("in_bool", "in_int", "in_enum")),
        "given(K,N) :- in_date(K,N,_,_,_).",
        "#defined prow/3. #defined inset/2. #defined person/1. #defined cdate/3.",
        "#defined in_bool/3. #defined in_int/3. #defined in_enum/3. #defined in_date/5.",
        "#defined ostat/3. #defined oval/3. #defined orule/3. #defined ocause/3.",
        "#show ostat/3. #show oval/3. #show orule/3. #show ocause/3.",
    ]
)

# A body literal that binds the person K (rules without one get person(K)).
_BINDS_K = re.compile(r"[a-z]\w*\(K[,)]")

"""Symbolic values: z3 terms for one value of the IR, with the three-valued semantics of
backends/base.py (Kleene logic, unknown values) made part of the formula.

Every expression becomes a `Sym`: a value term and a `known` term. Enums are integers (their index
in the type), dates are (year, month, day) triples with the day number derived by arithmetic
(solver/dates.py), so every term is linear integer arithmetic with division by constants only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

import z3

from solver import dates


@dataclass(frozen=True)
class DateSym:
    y: z3.ArithRef
    m: z3.ArithRef
    d: z3.ArithRef

    def dn(self) -> z3.ArithRef:
        """Days since 1970-01-01, as dates.day_number computes it (valid 1901..2099)."""
        cum = z3.IntVal(dates.CUMULATIVE_DAYS[11])
        for m in range(11, 0, -1):
            cum = z3.If(self.m == m, z3.IntVal(dates.CUMULATIVE_DAYS[m - 1]), cum)
        leap_this = z3.If(z3.And(self.y % 4 == 0, self.m > 2), 1, 0)
        return cast(z3.ArithRef, 365 * (self.y - 1970) + (self.y - 1969) / 4 + cum + leap_this + self.d - 1)


Term = Any  # z3.BoolRef | z3.ArithRef | DateSym


@dataclass(frozen=True)
class Sym:
    value: Term
    known: z3.BoolRef


TRUE, FALSE = z3.BoolVal(True), z3.BoolVal(False)


def k_and(x: Sym, y: Sym) -> Sym:
    """Kleene and: known when both are known or either is known false."""
    known = z3.Or(z3.And(x.known, y.known), z3.And(x.known, z3.Not(x.value)), z3.And(y.known, z3.Not(y.value)))
    return Sym(z3.And(x.value, y.value), known)


def k_or(x: Sym, y: Sym) -> Sym:
    """Kleene or: known when both are known or either is known true."""
    known = z3.Or(z3.And(x.known, y.known), z3.And(x.known, x.value), z3.And(y.known, y.value))
    return Sym(z3.Or(x.value, y.value), known)


def month_length(y: z3.ArithRef, m: z3.ArithRef) -> z3.ArithRef:
    short = [i + 1 for i, n in enumerate(dates.COMMON_MONTH_LENGTHS) if n == 30]  # from dates' table
    feb = z3.If(y % 4 == 0, 29, 28)
    return cast(z3.ArithRef, z3.If(m == 2, feb, z3.If(z3.Or([m == i for i in short]), 30, 31)))


def date_const(d: dt.date) -> DateSym:
    return DateSym(z3.IntVal(d.year), z3.IntVal(d.month), z3.IntVal(d.day))


def ite(c: z3.BoolRef, a: Term, b: Term) -> Term:
    if isinstance(a, DateSym):
        return DateSym(z3.If(c, a.y, b.y), z3.If(c, a.m, b.m), z3.If(c, a.d, b.d))
    return z3.If(c, a, b)


def equal(a: Term, b: Term) -> z3.BoolRef:
    if isinstance(a, DateSym):
        return z3.And(a.y == b.y, a.m == b.m, a.d == b.d)
    return cast(z3.BoolRef, a == b)


def first_of_next_month(d: DateSym) -> DateSym:
    dec = d.m == 12
    return DateSym(z3.If(dec, d.y + 1, d.y), z3.If(dec, 1, d.m + 1), z3.IntVal(1))


def add_months(d: DateSym, n: z3.ArithRef, clamp: z3.BoolRef) -> DateSym:
    total = 12 * d.y + d.m - 1 + n
    y, m = total / 12, total % 12 + 1  # total > 0 on the date domain: z3's div is floor here
    last = month_length(y, m)
    rolled = first_of_next_month(DateSym(y, m, z3.IntVal(1)))
    over = ite(clamp, DateSym(y, m, last), rolled)
    return cast(DateSym, ite(d.d <= last, DateSym(y, m, d.d), over))


def make_date(y: z3.ArithRef, m: z3.ArithRef, d: z3.ArithRef) -> DateSym:
    mc = z3.If(m < 1, 1, z3.If(m > 12, 12, m))
    last = month_length(y, mc)
    return DateSym(y, mc, z3.If(d < 1, 1, z3.If(d > last, last, d)))


def age_at(birth: DateSym, on: DateSym) -> z3.ArithRef:
    before = z3.Or(on.m < birth.m, z3.And(on.m == birth.m, on.d < birth.d))
    return cast(z3.ArithRef, on.y - birth.y - z3.If(before, 1, 0))


def less(a: Term, b: Term, *, strict: bool) -> z3.BoolRef:
    """a < b (or a <= b). Dates compare lexicographically: no division, which keeps z3 fast."""
    if not isinstance(a, DateSym):
        return cast(z3.BoolRef, a < b if strict else a <= b)
    last = a.d < b.d if strict else a.d <= b.d
    return z3.Or(a.y < b.y, z3.And(a.y == b.y, z3.Or(a.m < b.m, z3.And(a.m == b.m, last))))


def evaluate(model: z3.ModelRef, t: Term) -> Any:
    """t's value in a model (a DateSym of evaluated parts for a date)."""
    if isinstance(t, DateSym):
        return DateSym(*(model.eval(c, model_completion=True) for c in (t.y, t.m, t.d)))
    return model.eval(t, model_completion=True)


def constants(sexpr: str) -> list[Any]:
    """The arguments of an evaluated tuple, '(mk true 3 (- 2) ...)', as Python bools and ints.
    Reading the printed constant is several times faster than walking it through the z3 API."""
    tokens = sexpr.replace("(", " ( ").replace(")", " ) ").split()[2:-1]
    out: list[Any] = []
    negate = False
    for tok in tokens:
        if tok == "true" or tok == "false":
            out.append(tok == "true")
        elif tok == "-":
            negate = True
        elif tok not in ("(", ")"):
            out.append(-int(tok) if negate else int(tok))
            negate = False
    return out

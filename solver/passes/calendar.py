"""Which date builtins can leave the calendar (solver/dates.py: years 1901..2099).

`date(y, m, d)`, `first_of_next_month(d)` and `add_months(d, n, rule)` type-check on any int,
but `date(insurance_year - 2025, 1, 1)` has no calendar date. Such a value is unknown with a
reason in every backend; this pass bounds each call from the declared ranges of the inputs, the
parameter rows and the rules' values, so that only the calls whose bounds reach outside the
calendar pay for the check (most never can), and a call that can never give a date is refused
by the loader. Bounds are sound over-approximations: months as month indexes 12*year + month - 1,
ints as [lo, hi].
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from solver import dates, ir

Bounds = tuple[int, int]
CALENDAR: Bounds = (12 * dates.FIRST_YEAR, 12 * dates.LAST_YEAR + 11)  # month indexes
DATE_MAKERS = frozenset({"date", "first_of_next_month", "add_months"})
_UNBOUNDED: Bounds = (-(10**30), 10**30)


def _mi(d: dt.date) -> int:
    return 12 * d.year + d.month - 1


def _hull(*bs: Bounds) -> Bounds:
    return min(b[0] for b in bs), max(b[1] for b in bs)


class CalendarBounds:
    """Bounds of the int and date expressions of one rule set (dates as month indexes)."""

    def __init__(self, rs: ir.RuleSet) -> None:
        self.rs = rs
        self.memo: dict[tuple[str, str], Bounds] = {}

    def may_leave(self, call: ir.Call) -> bool:
        """Whether some person can make this call's result leave the calendar."""
        if call.fn not in DATE_MAKERS:
            return False
        lo, hi = self.raw(call)
        return lo < CALENDAR[0] or hi > CALENDAR[1]

    def never_on(self, call: ir.Call) -> Bounds | None:
        """The month-index bounds of a date-making call that no person can bring on the calendar."""
        if call.fn not in DATE_MAKERS:
            return None
        lo, hi = self.raw(call)
        return (lo, hi) if hi < CALENDAR[0] or lo > CALENDAR[1] else None

    def raw(self, call: ir.Call) -> Bounds:
        """The result's month indexes before the calendar check."""
        a = call.args
        if call.fn == "date":
            ylo, yhi = self.of(a[0])
            return 12 * ylo, 12 * yhi + 11
        if call.fn == "first_of_next_month":
            lo, hi = self.of(a[0])
            return lo + 1, hi + 1
        (lo, hi), (nlo, nhi) = self.of(a[0]), self.of(a[1])
        return lo + nlo, hi + nhi  # 'roll' may pass to the next month, never to the next year

    def of(self, e: ir.Expr) -> Bounds:
        """Bounds of an int expression, or month-index bounds of a date expression."""
        match e:
            case ir.Const(value=v):
                if isinstance(v, dt.date):
                    return _mi(v), _mi(v)
                return (v, v) if isinstance(v, int) and not isinstance(v, bool) else _UNBOUNDED
            case ir.Ref(kind="input", name=n):
                return self._type(self.rs.inputs[n].type)
            case ir.Ref(kind="definition", name=n):
                return self._named("definition", n, lambda: [self.rs.definitions[n].expr])
            case ir.Ref(kind="output", name=n):
                return self._named("output", n, lambda: list(self._output_values(n)))
            case ir.Lookup(param=p):
                values = [r.value for r in self.rs.params[p].rows]
                return _hull(*(self.of(ir.Const(v, e.type)) for v in values)) if values else _UNBOUNDED
            case ir.Ite(then=a, other=b):
                return _hull(self.of(a), self.of(b))
            case ir.Unary(op="neg", arg=a):
                lo, hi = self.of(a)
                return -hi, -lo
            case ir.Binary(op=op, left=a, right=b) if op in ("+", "-", "*", "//", "%"):
                return _arith(op, self.of(a), self.of(b))
            case ir.Call():
                return self._call(e)
        return _UNBOUNDED

    def _call(self, e: ir.Call) -> Bounds:
        a = e.args
        match e.fn:
            case "date" | "first_of_next_month" | "add_months":
                lo, hi = self.raw(e)  # an off-calendar result is unknown, not a value
                return max(lo, CALENDAR[0]), min(hi + (e.fn == "add_months"), CALENDAR[1])
            case "year":
                lo, hi = self.of(a[0])
                return lo // 12, hi // 12
            case "month":
                return 1, 12
            case "day":
                return 1, 31
            case "month_index":
                return self.of(a[0])
            case "age_at" | "year_end_age":
                (blo, bhi), (olo, ohi) = self.of(a[0]), self.of(a[1])
                if e.fn == "age_at":
                    olo, ohi = olo // 12, ohi // 12
                return olo - bhi // 12 - 1, ohi - blo // 12
            case "days_between":
                (alo, ahi), (blo, bhi) = self.of(a[0]), self.of(a[1])
                low, high = blo - ahi - 1, bhi - alo + 1  # whole months between, at least / at most
                return min(28 * low, 31 * low), max(28 * high, 31 * high)
            case "min" | "max":
                (alo, ahi), (blo, bhi) = self.of(a[0]), self.of(a[1])
                return (min(alo, blo), min(ahi, bhi)) if e.fn == "min" else (max(alo, blo), max(ahi, bhi))

    def _type(self, t: ir.Type) -> Bounds:
        if isinstance(t, ir.IntT):
            return t.lo, t.hi
        if isinstance(t, ir.DateT):
            return _mi(t.lo), _mi(t.hi)
        return _UNBOUNDED

    def _named(self, kind: str, name: str, exprs: Callable[[], list[ir.Expr]]) -> Bounds:
        key = (kind, name)
        if key not in self.memo:
            self.memo[key] = _UNBOUNDED  # a cycle (the loader refuses them) stays unbounded
            parts = [self.of(x) for x in exprs()]
            self.memo[key] = _hull(*parts) if parts else _UNBOUNDED
        return self.memo[key]

    def _output_values(self, name: str) -> Iterator[ir.Expr]:
        for r in self.rs.rules_for(name):
            yield from (v for o, v in r.then if o == name)
        default = self.rs.outputs[name].default
        if default is not None:
            yield default


def _arith(op: str, a: Bounds, b: Bounds) -> Bounds:
    if op == "+":
        return a[0] + b[0], a[1] + b[1]
    if op == "-":
        return a[0] - b[1], a[1] - b[0]
    if op == "*":
        corners = [x * y for x in a for y in b]
        return min(corners), max(corners)
    if b[0] <= 0:  # the typer allows // and % only by a positive constant
        return _UNBOUNDED
    if op == "//":
        return min(a[0] // b[0], a[0] // b[1]), max(a[1] // b[0], a[1] // b[1])
    return 0, b[1] - 1


def calls(rs: ir.RuleSet) -> Iterator[ir.Call]:
    """Every date-making call of the rule set."""
    exprs: list[ir.Expr] = [d.expr for d in rs.definitions.values()]
    exprs += [o.default for o in rs.outputs.values() if o.default is not None]
    exprs += [c.expr for c in rs.constraints]
    for r in rs.rules:
        exprs += [r.when, *(v for _, v in r.then)]
    for e in exprs:
        for n in ir.walk(e):
            if isinstance(n, ir.Call) and n.fn in DATE_MAKERS:
                yield n

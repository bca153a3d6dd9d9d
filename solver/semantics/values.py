"""The concrete value semantics every backend follows: unknown values, Kleene three-valued
logic, the builtins on known values, parameter lookups and how an output's applying rules become
its result. The eval backend calls these from generated code; explanations call them directly."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from solver import dates
from solver.backends.base import sort_values
from solver.semantics.reasons import Reason, no_parameter, off_calendar

# ---------------------------------------------------------------- unknown values


@dataclass(frozen=True)
class Unknown:
    """An unknown value: which inputs were missing and what else was wrong."""

    missing: frozenset[str] = frozenset()
    reasons: tuple[Reason, ...] = ()

    def __or__(self, other: Unknown) -> Unknown:
        reasons = self.reasons + tuple(r for r in other.reasons if r not in self.reasons)
        return Unknown(self.missing | other.missing, reasons)


def merge_unknown(*vals: Any) -> Unknown:
    out = Unknown()
    for v in vals:
        if isinstance(v, Unknown):
            out = out | v
    return out


def k_and(a: Any, b: Any) -> Any:
    if a is False or b is False:
        return False
    if a is True and b is True:
        return True
    return merge_unknown(a, b)


def k_or(a: Any, b: Any) -> Any:
    if a is True or b is True:
        return True
    if a is False and b is False:
        return False
    return merge_unknown(a, b)


def k_not(a: Any) -> Any:
    return a if isinstance(a, Unknown) else not a


def k_ite(c: Any, a: Any, b: Any) -> Any:
    return c if isinstance(c, Unknown) else (a if c else b)


def k_in(item: Any, *choices: Any) -> Any:
    if isinstance(item, Unknown):
        return item
    unknown = [c for c in choices if isinstance(c, Unknown)]
    if any(c == item for c in choices if not isinstance(c, Unknown)):
        return True
    return merge_unknown(*unknown) if unknown else False


def lift(fn: Callable[..., Any]) -> Callable[..., Any]:
    """fn applied when every argument is known; otherwise the merged unknown."""

    def lifted(*args: Any) -> Any:
        for a in args:
            if isinstance(a, Unknown):
                return merge_unknown(*args)
        return fn(*args)

    return lifted


def lookup(table: Mapping[tuple[Any, ...], Any], name: str, *key: Any) -> Any:
    for k in key:
        if isinstance(k, Unknown):
            return merge_unknown(*key)
    try:
        return table[key]
    except KeyError:
        return Unknown(reasons=(no_parameter(name, key),))


def on_calendar(fn: Callable[..., Any], call: str = "") -> Callable[..., Any]:
    """A date function whose result off the calendar is unknown with a reason (never an error);
    `call` names the call and where it is written."""

    def checked(*args: Any) -> Any:
        try:
            return fn(*args)
        except dates.OffCalendar as e:
            return Unknown(reasons=(off_calendar(call, e.year),))

    return checked


# The builtins, on known values (lift() makes them three-valued).
BUILTINS: dict[str, Callable[..., Any]] = {
    "year": lambda d: d.year,
    "month": lambda d: d.month,
    "day": lambda d: d.day,
    "date": on_calendar(dates.make_date),
    "age_at": dates.age_at,
    "year_end_age": dates.year_end_age,
    "month_index": dates.month_index,
    "first_of_next_month": on_calendar(dates.first_of_next_month),
    "add_months": on_calendar(dates.add_months),
    "days_between": dates.days_between,
    "min": min,
    "max": max,
}
BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "//": operator.floordiv,
    "%": operator.mod,
}


def finish(
    card: str, applying: list[str], values: list[Any], unknown: list[Any], default: Any, name: str
) -> tuple[Any, tuple[Any, ...]]:
    """An output's (value for references, raw result) from its applying rules."""
    bad = [v for v in values if isinstance(v, Unknown)] + unknown
    if bad:
        u = merge_unknown(*bad)
        return u, ("unknown", (), (), u)
    rules = tuple(sorted(applying))
    if not values:
        if default is not NO_DEFAULT:
            if isinstance(default, Unknown):
                return default, ("unknown", (), (), default)
            return default, ("ok", (default,), (), None)
        if card == "set":
            return frozenset(), ("ok", (), (), None)
        status = "gap" if card == "exactly_one" else "none"
        return Unknown(reasons=(Reason("no_value", name),)), (status, (), (), None)
    vals = sort_values(values)
    if card == "set":
        return frozenset(vals), ("ok", vals, rules, None)
    if len(vals) > 1:
        return Unknown(reasons=(Reason("conflict", name),)), ("conflict", vals, rules, None)
    return vals[0], ("ok", vals, rules, None)


NO_DEFAULT = object()

"""The timeline pass: split each time-like input's domain at every point where a rule's validity
or a parameter table changes, so checks run per interval and a rule that ends and one that
starts never look like a conflict."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from solver import ir

Point = int | dt.date


@dataclass(frozen=True, order=True)
class Interval:
    """input `on` lies in [lo, hi] (closed)."""

    on: str
    lo: Point
    hi: Point

    def __str__(self) -> str:
        return f"{self.on} {self.lo}" if self.lo == self.hi else f"{self.on} {self.lo}..{self.hi}"

    def contains(self, v: Point) -> bool:
        return self.lo <= v <= self.hi  # type: ignore[operator]


def _next(p: Point) -> Point:
    return p + dt.timedelta(days=1) if isinstance(p, dt.date) else p + 1


def change_points(rs: ir.RuleSet, on: str) -> set[Point]:
    """Points where something starts (a value v means: v is the first point of a new interval)."""
    points: set[Point] = set()
    for r in rs.rules:
        if r.valid and r.valid.on == on:
            if r.valid.lo is not None:
                points.add(r.valid.lo)
            if r.valid.hi is not None:
                points.add(_next(r.valid.hi))
    if on == rs.time:
        # Parameter tables keyed by the time input change with every row year.
        for p in rs.params.values():
            for i, t in enumerate(p.key_types):
                if isinstance(t, ir.IntT) and p.key_names[i] in ("year", on):
                    for row in p.rows:
                        k = row.key[i]
                        if isinstance(k, int):
                            points.update({k, k + 1})
    return points


def intervals(rs: ir.RuleSet, on: str) -> list[Interval]:
    t = rs.inputs[on].type
    if not isinstance(t, ir.IntT | ir.DateT):
        raise ValueError(f"input {on} is not ordered; it cannot carry a timeline")
    lo, hi = t.lo, t.hi
    cuts = sorted(p for p in change_points(rs, on) if lo < p <= hi)  # type: ignore[operator]
    out: list[Interval] = []
    start: Point = lo
    for c in cuts:
        end = c - dt.timedelta(days=1) if isinstance(c, dt.date) else c - 1
        out.append(Interval(on, start, end))
        start = c
    out.append(Interval(on, start, hi))
    return out


def time_inputs(rs: ir.RuleSet) -> list[str]:
    """The inputs that carry validity: the rule set's time input (first) and every `valid.on`."""
    names = {r.valid.on for r in rs.rules if r.valid} - {rs.time}
    return ([rs.time] if rs.time else []) + sorted(names)


@dataclass(frozen=True, order=True)
class Span:
    """A box of the timeline: each of its time inputs within one interval (no parts: all of it)."""

    parts: tuple[Interval, ...] = ()

    def __str__(self) -> str:
        return ", ".join(map(str, self.parts)) or "always"

    def __bool__(self) -> bool:
        return bool(self.parts)

    @property
    def on(self) -> tuple[str, ...]:
        return tuple(p.on for p in self.parts)


def spans(rs: ir.RuleSet, on: Sequence[str]) -> list[Span]:
    """Every box of the intervals of the inputs ON (their product): nothing changes inside one."""
    return [Span(tuple(box)) for box in itertools.product(*(intervals(rs, n) for n in on))]


def compact(rs: ir.RuleSet, held: Sequence[Span]) -> list[Span]:
    """The boxes HELD, shorter to read: boxes that hold for every interval of their last time input
    are written without it (`insurance_year 2024` for all three as_of parts of 2024)."""
    groups: dict[tuple[Interval, ...], set[Interval]] = {}
    out: list[Span] = []
    for b in sorted(set(held)):
        if b.parts:
            groups.setdefault(b.parts[:-1], set()).add(b.parts[-1])
        else:
            out.append(b)
    for prefix, lasts in groups.items():
        if lasts == set(intervals(rs, next(iter(lasts)).on)):
            out.append(Span(prefix))
        else:
            out += [Span((*prefix, last)) for last in sorted(lasts)]
    return out

"""Hypothesis strategies drawn from a rule set's vocabulary.

`persons(rs)` draws complete persons inside every input's domain that satisfy the input
constraints; values near the constants the rules compare against (and calendar edges for dates)
are drawn often, so boundaries get exercised, not just the middle of each range."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from solver import ir

_CALENDAR_EDGES = ((1, 1), (1, 31), (2, 28), (2, 29), (3, 1), (6, 30), (7, 1), (12, 31))


def boundary_constants(rs: ir.RuleSet) -> tuple[set[int], set[dt.date]]:
    """Every int and date constant in the rules, parameters and validity intervals, with neighbours."""
    ints: set[int] = set()
    days: set[dt.date] = set()
    exprs: list[ir.Expr] = [d.expr for d in rs.definitions.values()] + [c.expr for c in rs.constraints]
    for r in rs.rules:
        exprs += [r.when, *(v for _, v in r.then)]
        if r.valid:
            for b in (r.valid.lo, r.valid.hi):
                if isinstance(b, dt.date):
                    days.add(b)
                elif isinstance(b, int):
                    ints.add(b)
    for p in rs.params.values():
        for row in p.rows:
            ints.update(k for k in row.key if isinstance(k, int) and not isinstance(k, bool))
    for e in exprs:
        for n in ir.walk(e):
            if isinstance(n, ir.Const) and isinstance(n.value, dt.date):
                days.add(n.value)
            elif isinstance(n, ir.Const) and isinstance(n.value, int) and not isinstance(n.value, bool):
                ints.add(n.value)
    ints = {i + d for i in ints for d in (-1, 0, 1)}
    days = {x + dt.timedelta(days=d) for x in days for d in (-1, 0, 1)}
    return ints, days


def value_strategy(t: ir.Type, ints: set[int], days: set[dt.date]) -> st.SearchStrategy[Any]:
    if isinstance(t, ir.BoolT):
        return st.booleans()
    if isinstance(t, ir.EnumT):
        return st.sampled_from(t.values)
    if isinstance(t, ir.IntT):
        near = sorted(i for i in ints if t.lo <= i <= t.hi) or [t.lo]
        return st.one_of(st.integers(t.lo, t.hi), st.sampled_from(near), st.sampled_from([t.lo, t.hi]))
    edges = [
        dt.date(y, m, d)
        for y in range(t.lo.year, t.hi.year + 1)
        for m, d in _CALENDAR_EDGES
        if not (m == 2 and d == 29 and y % 4)
    ]
    near_d = sorted({x for x in days | set(edges) if t.lo <= x <= t.hi}) or [t.lo]
    return st.one_of(st.dates(t.lo, t.hi), st.sampled_from(near_d))


def persons(rs: ir.RuleSet, *, partial: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """Persons of the rule set; with partial=True some fields are left out (unknown)."""
    from solver.backends.eval_backend import EvalBackend

    ints, days = boundary_constants(rs)
    fields = {name: value_strategy(i.type, ints, days) for name, i in rs.inputs.items()}
    checker = EvalBackend(rs)
    full = st.fixed_dictionaries(fields).filter(checker.satisfies_constraints)
    if not partial:
        return full
    return st.tuples(full, st.sets(st.sampled_from(sorted(rs.inputs)))).map(
        lambda pair: {k: v for k, v in pair[0].items() if k not in pair[1]}
    )


def random_persons(rs: ir.RuleSet, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """n complete persons from a seeded generator (for benchmarks and batch data), with the same
    boundary bias as `persons` and the input constraints enforced."""
    import random

    from solver.backends.eval_backend import EvalBackend

    rnd = random.Random(seed)
    ints, days = boundary_constants(rs)
    checker = EvalBackend(rs)

    def draw(t: ir.Type) -> Any:
        if isinstance(t, ir.BoolT):
            return rnd.random() < 0.5
        if isinstance(t, ir.EnumT):
            return rnd.choice(t.values)
        if isinstance(t, ir.IntT):
            near = [i for i in ints if t.lo <= i <= t.hi]
            return rnd.choice(near) if near and rnd.random() < 0.5 else rnd.randint(t.lo, t.hi)
        near_d = [d for d in days if t.lo <= d <= t.hi]
        if near_d and rnd.random() < 0.5:
            return rnd.choice(near_d)
        return t.lo + dt.timedelta(days=rnd.randint(0, (t.hi - t.lo).days))

    out: list[dict[str, Any]] = []
    for _ in range(200 * n):
        if len(out) == n:
            break
        p = {name: draw(i.type) for name, i in rs.inputs.items()}
        if checker.satisfies_constraints(p):
            out.append(p)
    if len(out) < n:
        raise ValueError(f"could draw only {len(out)} persons meeting the input constraints")
    return out

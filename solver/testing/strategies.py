"""Hypothesis strategies drawn from a rule set's vocabulary.

`persons(rs)` draws complete persons inside every input's domain that satisfy the input
constraints; values near the constants the rules compare against (and calendar edges for dates)
are drawn often, so boundaries get exercised, not just the middle of each range."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from solver import ir
from solver.passes.deps import deps

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


class Repair:
    """Turns any person inside the domains into one that meets the input constraints, keeping
    as many of its values as it can: z3 is asked to keep every field (one assumption literal per
    field); while that is impossible, the fields of the unsat core are let go and z3 chooses
    their values. Deterministic, so hypothesis can still shrink through it.
    Random drawing alone rarely meets a rule set's constraints (on rules/shanghai about 1 in
    1,000 persons does), which would starve a filter."""

    def __init__(self, rs: ir.RuleSet) -> None:
        from solver.backends.eval_backend import EvalBackend
        from solver.query import Query
        from solver.semantics.symbolic import Encoding

        self.rs = rs
        self.enc = Encoding(rs, prefix="repair!")
        self.solver = Query(self.enc.valid)
        self.checker = EvalBackend(rs)
        # Only fields the constraints read (through definitions) can need repair.
        names = {n for read in deps(rs).constraints.values() for n in read}
        self.constrained = [n for n in rs.inputs if n in names]

    def __call__(self, person: dict[str, Any]) -> dict[str, Any]:
        if self.checker.satisfies_constraints(person):
            return person
        from solver.query import Sat, Unsat

        s = self.solver
        with s.scope():
            keep = {f"keep!{n}": s.part(f"keep!{n}", self.enc.input_is(n, person[n])) for n in self.constrained}
            got = s.check(*keep.values())
            while isinstance(got, Unsat):
                if not got.core:
                    raise ValueError("the input constraints of this rule set cannot all hold")
                for lit in got.core:  # letting the whole core go takes far fewer rounds than one at a time
                    del keep[lit]
                got = s.check(*keep.values())
            assert isinstance(got, Sat), got  # no timeout is set
            repaired = self.enc.person_from_model(got.model)
        let_go = set(self.constrained) - {lit.removeprefix("keep!") for lit in keep}
        return {name: repaired[name] if name in let_go else person[name] for name in self.rs.inputs}


def persons(rs: ir.RuleSet, *, partial: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """Persons of the rule set; with partial=True some fields are left out (unknown)."""
    ints, days = boundary_constants(rs)
    fields = {name: value_strategy(i.type, ints, days) for name, i in rs.inputs.items()}
    full = st.fixed_dictionaries(fields).map(Repair(rs))
    if not partial:
        return full
    return st.tuples(full, st.sets(st.sampled_from(sorted(rs.inputs)))).map(
        lambda pair: {k: v for k, v in pair[0].items() if k not in pair[1]}
    )


def random_persons(rs: ir.RuleSet, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """n complete persons from a seeded generator (for benchmarks and batch data), with the same
    boundary bias as `persons` and the input constraints enforced (by Repair)."""
    import random

    rnd = random.Random(seed)
    ints, days = boundary_constants(rs)

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

    repair = Repair(rs)
    return [repair({name: draw(i.type) for name, i in rs.inputs.items()}) for _ in range(n)]

"""Planted defects: copies of a resolved rule set with one defect each, and the finding that
`elig check` must report for it. The mutation suite (tests/test_mutations.py) runs them all and
prints the kill rate; a survivor is a defect the checker cannot see.

Each mutant names the kinds of finding that expose it and the rule (or output / property) the
finding must name, so "killed" means the right finding, not any finding."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

from solver import ir
from solver.checks.engine import conjuncts


@dataclass(frozen=True)
class Mutant:
    id: str
    operator: str  # unreachable, clash, dead_exception, delete_category, break_sum, duplicate, boundary, drop, flip
    rs: ir.RuleSet
    kinds: tuple[str, ...]  # finding kinds that expose it
    names: tuple[str, ...]  # a finding exposes it when it names one of these (rule, output=value, property)
    rule: str = ""  # the rule the mutant changed (its applicability must differ on a property witness)


def _and(parts: list[ir.Expr]) -> ir.Expr:
    out = parts[0]
    for p in parts[1:]:
        out = ir.Binary("and", out, p, ir.BOOL)
    return out


def _replace_rule(rs: ir.RuleSet, rule: ir.Rule) -> ir.RuleSet:
    return dataclasses.replace(rs, rules=tuple(rule if r.id == rule.id else r for r in rs.rules))


def _add_rule(rs: ir.RuleSet, rule: ir.Rule) -> ir.RuleSet:
    return dataclasses.replace(rs, rules=(*rs.rules, rule))


def _spread(items: list[ir.Rule], n: int) -> list[ir.Rule]:
    """n items spread over the list (deterministic)."""
    if len(items) <= n:
        return items
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def _enum_output_rules(rs: ir.RuleSet) -> list[ir.Rule]:
    """Rules giving a constant to a single-valued enum output, with a condition of two or more parts."""
    out = []
    for r in rs.rules:
        if len(r.then) != 1:
            continue
        name, value = r.then[0]
        o = rs.outputs[name]
        if o.cardinality != "set" and isinstance(o.type, ir.EnumT) and isinstance(value, ir.Const):
            out.append(r)
    return sorted(out, key=lambda r: r.id)


def mutants(rs: ir.RuleSet, *, per_operator: int = 4) -> Iterator[Mutant]:
    time = rs.inputs[rs.time].type if rs.time else None
    enum_rules = _enum_output_rules(rs)

    # 1. a contradiction added to a rule: it can never apply
    if isinstance(time, ir.IntT):
        t = ir.Ref(rs.time or "", "input", time)
        never = ir.Binary("<", t, ir.Const(time.lo, ir.ANY_INT), ir.BOOL)
        for r in _spread(sorted(rs.rules, key=lambda r: r.id), per_operator):
            m = dataclasses.replace(r, when=_and([r.when, never]))
            yield Mutant(f"unreachable:{r.id}", "unreachable", _replace_rule(rs, m), ("unreachable_rule",), (r.id,))

    # 2. a clashing rule: the same condition, another value, no exception between them
    for r in _spread(enum_rules, per_operator):
        name, value = r.then[0]
        o = rs.outputs[name]
        assert isinstance(o.type, ir.EnumT) and isinstance(value, ir.Const)
        other = next(v for v in o.type.values if v != value.value)
        clash = dataclasses.replace(r, id=f"mutant.clash.{r.id}", then=((name, ir.Const(other, o.type)),), unless=())
        yield Mutant(f"clash:{r.id}", "clash", _add_rule(rs, clash), ("conflict",), (clash.id,))

    # 3. a dead exception: it applies only where its base rule cannot
    for r in _spread([r for r in enum_rules if not r.unless], per_operator):
        exc = dataclasses.replace(r, id=f"mutant.exception.{r.id}", when=ir.Unary("not", r.when, ir.BOOL), unless=())
        base = dataclasses.replace(r, unless=(exc.id,))
        mutated = _add_rule(_replace_rule(rs, base), exc)
        yield Mutant(f"dead_exception:{r.id}", "dead_exception", mutated, ("dead_exception",), (exc.id,))

    # 4. the rule of a category deleted: that value can no longer be given
    for o in sorted(rs.outputs.values(), key=lambda o: o.name):
        if o.cardinality != "exactly_one" or not isinstance(o.type, ir.EnumT) or o.name != "resident_category":
            continue
        for v in o.type.values:
            givers = [r for r in rs.rules_for(o.name) if dict(r.then)[o.name] == ir.Const(v, o.type)]
            if not givers:
                continue
            kept = tuple(r for r in rs.rules if r not in givers)
            pruned = tuple(
                dataclasses.replace(r, unless=tuple(u for u in r.unless if u not in {g.id for g in givers}))
                for r in kept
            )
            yield Mutant(
                f"delete_category:{o.name}={v}",
                "delete_category",
                dataclasses.replace(rs, rules=pruned),
                ("unreachable_value", "gap", "property_violation"),
                (f"{o.name}={v}", o.name, *(g.id for g in givers)),
            )

    # 5. a parameter sum broken: one total off by one yuan
    total = rs.params.get("resident_total_funding")
    if total is not None:
        for row in total.rows[:: max(1, len(total.rows) // per_operator)][:per_operator]:
            bad = dataclasses.replace(row, value=cast(int, row.value) + 1)
            table = dataclasses.replace(total, rows=tuple(bad if r is row else r for r in total.rows))
            yield Mutant(
                f"break_sum:{row.key}",
                "break_sum",
                dataclasses.replace(rs, params={**rs.params, total.name: table}),
                ("parameter_invariant",),
                ("contribution_parts_add_up",),
            )

    # 6. a duplicate (its condition restated) with the same outcome: redundant
    for r in _spread([r for r in enum_rules if not r.unless and len(conjuncts(r.when)) >= 2], per_operator):
        dup = dataclasses.replace(r, id=f"mutant.duplicate.{r.id}", when=_and([*conjuncts(r.when)[:-1], r.when]))
        yield Mutant(f"duplicate:{r.id}", "duplicate", _add_rule(rs, dup), ("redundant_rule",), (dup.id,))

    # 7-9. a boundary moved by one, a condition dropped, a condition flipped (in the rules the
    # drafter's properties speak of: the resident categories and their grounds)
    watched = sorted(
        (r for r in rs.rules if r.id.startswith(("resident.pupil.", "resident.category."))), key=lambda r: r.id
    )
    boundary = [r for r in watched if any(_shiftable(c) for c in conjuncts(r.when))]
    for r in _spread(boundary, per_operator):
        parts = conjuncts(r.when)
        i = next(i for i, c in enumerate(parts) if _shiftable(c))
        c = parts[i]
        assert isinstance(c, ir.Binary) and isinstance(c.right, ir.Const)
        moved = dataclasses.replace(c, right=dataclasses.replace(c.right, value=cast(int, c.right.value) - 1))
        m = dataclasses.replace(r, when=_and([*parts[:i], moved, *parts[i + 1 :]]))
        yield Mutant(f"boundary:{r.id}", "boundary", _replace_rule(rs, m), _SEMANTIC, (r.id,), r.id)
    droppable = [r for r in watched if len(conjuncts(r.when)) >= 2]
    for r in _spread(droppable, per_operator):
        parts = conjuncts(r.when)
        m = dataclasses.replace(r, when=_and(parts[:-1]))
        yield Mutant(f"drop:{r.id}", "drop", _replace_rule(rs, m), _SEMANTIC, (r.id,), r.id)
    for r in _spread(droppable[1:], per_operator):
        parts = conjuncts(r.when)
        m = dataclasses.replace(r, when=_and([*parts[:-1], ir.Unary("not", parts[-1], ir.BOOL)]))
        yield Mutant(f"flip:{r.id}", "flip", _replace_rule(rs, m), _SEMANTIC, (r.id,), r.id)


_SEMANTIC = ("property_violation", "conflict", "gap", "unreachable_rule", "redundant_rule", "dead_exception")


def _shiftable(c: ir.Expr) -> bool:
    return (
        isinstance(c, ir.Binary)
        and c.op in ("<", "<=", ">", ">=")
        and isinstance(c.right, ir.Const)
        and isinstance(c.right.value, int)
        and not isinstance(c.right.value, bool)
    )

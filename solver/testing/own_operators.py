"""The checker's own mutation operators, each planting what one check looks for (unreachable, clash, ...)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import cast

from solver import ir
from solver.checks.engine import conjuncts
from solver.testing.planting import Mutant, add_rule, and_all, programme_of, replace_rule, spread, text

OWN_OPERATORS = (
    "unreachable",
    "clash",
    "dead_exception",
    "delete_category",
    "break_sum",
    "duplicate",
    "boundary",
    "drop",
    "flip",
)
# Classes whose defect is in the rules, not in the decisions (see `semantic`).
STRUCTURAL = frozenset(
    {"unreachable", "dead_exception", "duplicate", "switched_off", "new_enum_value", "citation_out_of_force"}
)


def _enum_output_rules(rs: ir.RuleSet) -> list[ir.Rule]:
    """Rules giving a constant to a single-valued enum output."""
    out = []
    for r in rs.rules:
        if len(r.then) != 1:
            continue
        name, value = r.then[0]
        o = rs.outputs[name]
        if o.cardinality != "set" and isinstance(o.type, ir.EnumT) and isinstance(value, ir.Const):
            out.append(r)
    return sorted(out, key=lambda r: r.id)


def own_mutants(rs: ir.RuleSet, *, per_operator: int = 4) -> Iterator[Mutant]:
    time = rs.inputs[rs.time].type if rs.time else None
    enum_rules = _enum_output_rules(rs)

    def m(op: str, key: str, mutated: ir.RuleSet, what: str, rule: ir.Rule | None = None) -> Mutant:
        prog = programme_of(rule.loc, rule.id) if rule else "resident"
        return Mutant(f"{op}:{key}", op, mutated, what, prog, semantic=op not in STRUCTURAL)

    # 1. a contradiction added to a rule: it can never apply
    if isinstance(time, ir.IntT):
        t = ir.Ref(rs.time or "", "input", time)
        never = ir.Binary("<", t, ir.Const(time.lo, ir.ANY_INT), ir.BOOL)
        for r in spread(sorted(rs.rules, key=lambda r: r.id), per_operator):
            mr = dataclasses.replace(r, when=and_all([r.when, never]))
            yield m("unreachable", r.id, replace_rule(rs, mr), f"{r.id}: and {text(never)}", r)

    # 2. a clashing rule: the same condition, another value, no exception between them
    for r in spread(enum_rules, per_operator):
        name, value = r.then[0]
        o = rs.outputs[name]
        assert isinstance(o.type, ir.EnumT) and isinstance(value, ir.Const)
        other = next(v for v in o.type.values if v != value.value)
        clash = dataclasses.replace(r, id=f"mutant.clash.{r.id}", then=((name, ir.Const(other, o.type)),), unless=())
        yield m("clash", r.id, add_rule(rs, clash), f"{clash.id} gives {name} = {other}", r)

    # 3. a dead exception: it applies only where its base rule cannot
    for r in spread([r for r in enum_rules if not r.unless], per_operator):
        exc = dataclasses.replace(r, id=f"mutant.exception.{r.id}", when=ir.Unary("not", r.when, ir.BOOL), unless=())
        base = dataclasses.replace(r, unless=(exc.id,))
        yield m("dead_exception", r.id, add_rule(replace_rule(rs, base), exc), f"{exc.id} excepts {r.id}", r)

    # 4. the rules of a category deleted: that value can no longer be given
    category = rs.outputs.get("resident_category")
    if category is not None and isinstance(category.type, ir.EnumT):
        name, ctype = category.name, category.type
        for v in ctype.values:
            givers = [r for r in rs.rules_for(name) if dict(r.then)[name] == ir.Const(v, ctype)]
            if not givers:
                continue
            gone = {g.id for g in givers}
            kept = tuple(
                dataclasses.replace(r, unless=tuple(u for u in r.unless if u not in gone))
                for r in rs.rules
                if r.id not in gone
            )
            yield m("delete_category", f"{name}={v}", dataclasses.replace(rs, rules=kept), f"rules giving {v} deleted")

    # 5. a parameter sum broken: one total off by one yuan
    total = rs.params.get("resident_total_funding")
    if total is not None:
        for row in total.rows[:: max(1, len(total.rows) // per_operator)][:per_operator]:
            bad = dataclasses.replace(row, value=cast(int, row.value) + 1)
            table = dataclasses.replace(total, rows=tuple(bad if r is row else r for r in total.rows))
            mutated = dataclasses.replace(rs, params={**rs.params, total.name: table})
            yield m("break_sum", str(row.key), mutated, f"{total.name}{list(row.key)} + 1")

    # 6. a duplicate (its condition restated) with the same outcome: redundant
    for r in spread([r for r in enum_rules if not r.unless and len(conjuncts(r.when)) >= 2], per_operator):
        dup = dataclasses.replace(r, id=f"mutant.duplicate.{r.id}", when=and_all([*conjuncts(r.when)[:-1], r.when]))
        yield m("duplicate", r.id, add_rule(rs, dup), f"{dup.id} restates {r.id}", r)

    # 7-9. a boundary moved by one, a condition dropped, a condition flipped (in the rules the
    # first drafter properties spoke of: the resident categories and their grounds)
    watched = sorted(
        (r for r in rs.rules if r.id.startswith(("resident.pupil.", "resident.category."))), key=lambda r: r.id
    )
    boundary = [r for r in watched if any(_shiftable(c) for c in conjuncts(r.when))]
    for r in spread(boundary, per_operator):
        parts = conjuncts(r.when)
        i = next(i for i, c in enumerate(parts) if _shiftable(c))
        c = parts[i]
        assert isinstance(c, ir.Binary) and isinstance(c.right, ir.Const)
        moved = dataclasses.replace(c, right=dataclasses.replace(c.right, value=cast(int, c.right.value) - 1))
        mr = dataclasses.replace(r, when=and_all([*parts[:i], moved, *parts[i + 1 :]]))
        yield m("boundary", r.id, replace_rule(rs, mr), f"{r.id}: {text(c)} -> {text(moved)}", r)
    droppable = [r for r in watched if len(conjuncts(r.when)) >= 2]
    for r in spread(droppable, per_operator):
        parts = conjuncts(r.when)
        mr = dataclasses.replace(r, when=and_all(parts[:-1]))
        yield m("drop", r.id, replace_rule(rs, mr), f"{r.id}: condition {text(parts[-1])} dropped", r)
    for r in spread(droppable[1:], per_operator):
        parts = conjuncts(r.when)
        mr = dataclasses.replace(r, when=and_all([*parts[:-1], ir.Unary("not", parts[-1], ir.BOOL)]))
        yield m("flip", r.id, replace_rule(rs, mr), f"{r.id}: condition {text(parts[-1])} negated", r)


def _shiftable(c: ir.Expr) -> bool:
    return (
        isinstance(c, ir.Binary)
        and c.op in ("<", "<=", ">", ">=")
        and isinstance(c.right, ir.Const)
        and isinstance(c.right.value, int)
        and not isinstance(c.right.value, bool)
    )

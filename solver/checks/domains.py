"""Values no rule can tell apart: an input's enum value nothing names, a parameter table's missing key combination."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from solver import ir
from solver.checks.basics import ANY
from solver.checks.findings import Finding
from solver.query import Query
from solver.semantics import goals
from solver.semantics.reasons import no_parameter

if TYPE_CHECKING:
    from solver.checks.engine import Checker

MAX_TABLE_KEYS = 400  # key combinations of one table checked for missing rows


def unhandled_values(ck: Checker, s: Query) -> list[Finding]:
    """An input's enum value that no expression and no table row names: no rule can tell its
    holders apart, so they fall to no value or the default. Reported with such a person and the
    outputs that read the input and give them nothing of their own."""
    out: list[Finding] = []
    named = named_values(ck.rs)
    for i in ck.rs.inputs.values():
        if not isinstance(i.type, ir.EnumT):
            continue
        readers = [o for o in ck.rs.outputs if i.name in ck.cones[o]]
        for v in i.type.values:
            if (i.type.name, v) in named or not readers:
                continue
            goal = goals.equals(ck.enc, ck.enc.inputs[i.name].value, v, i.type)
            _, person = ck.ask(s, goal, person=True, reads=[i.name])
            if person is None:
                continue  # no valid person holds it (an input constraint excludes it)
            decision = ck.ref.decide(person)
            fallen = [o for o in readers if decision[o].status == "none" or not decision[o].rules]
            why = f"no rule, definition or table names {i.name} = {v!r}; for such a person " + (
                f"{', '.join(fallen)} get no value of their own (none or the default)"
                if fallen
                else "every output it reads is decided by rules that do not look at the value"
            )
            f = ck.finding("unhandled_value", f"{i.name}={v}", [], why, ANY, person)
            out.append(dataclasses.replace(f, shown=(i.name, *f.shown)))
    return out


def tables_incomplete(ck: Checker, s: Query, maybe: set[tuple[str, str]]) -> list[Finding]:
    """One finding per key combination a table has no row for while a valid person makes a
    rule read exactly that row (the output is then unknown for a reason of its own)."""
    unknown = [n for c, n in maybe if c == "unknown"]
    if not unknown:
        return []
    reads = goals.any_of(goals.all_of([goals.status_is(ck.enc, n, "unknown"), *ck.sound_upstream(n)]) for n in unknown)
    out: list[Finding] = []
    for name, looks in sorted(ck.lookups().items()):
        table = ck.rs.params[name].table()
        domains = [_key_domain(k.type) for k in looks[0].keys]
        if any(d is None for d in domains) or _size(domains) > MAX_TABLE_KEYS:
            continue  # an unbounded or huge key: undetermined findings still show the hole
        for key in itertools.product(*cast(list[list[ir.Value]], domains)):
            if key in table:
                continue
            _, person = ck.ask(s, reads, ck.reads_row(name, key), person=True)
            if person is None:
                continue
            shown = ", ".join(str(v) for v in key)
            reason = no_parameter(name, key)
            decision = ck.ref.decide(person)
            hit = [n for n in unknown if reason in decision[n].reasons]
            if not hit:
                continue  # unknown for another reason here; that one is reported as undetermined
            why = f"{name} has no row for ({shown}), which {', '.join(hit)} read for this person"
            cites = [c for row in ck.rs.params[name].rows for c in row.cites][:4]
            out.append(ck.finding("table_incomplete", f"{name}({shown})", [], why, ANY, person, cites))
    return out


def _key_domain(t: ir.Type) -> list[ir.Value] | None:
    if isinstance(t, ir.EnumT):
        return list(t.values)
    if isinstance(t, ir.BoolT):
        return [False, True]
    if isinstance(t, ir.IntT) and t.hi - t.lo < MAX_TABLE_KEYS:
        return list(range(t.lo, t.hi + 1))
    return None


def _size(domains: Sequence[Sequence[ir.Value] | None]) -> int:
    n = 1
    for d in domains:
        n *= len(d or ())
    return n


def named_values(rs: ir.RuleSet) -> set[tuple[str, str]]:
    """(enum type, value) for every enum constant an expression names and every enum key of a
    parameter row."""
    exprs: list[ir.Expr] = [c.expr for c in rs.constraints] + [d.expr for d in rs.definitions.values()]
    exprs += [o.default for o in rs.outputs.values() if o.default is not None]
    exprs += [e for r in rs.rules for e in (r.when, *(v for _, v in r.then))]
    out = {
        (n.type.name, n.value)
        for e in exprs
        for n in ir.walk(e)
        if isinstance(n, ir.Const) and isinstance(n.type, ir.EnumT) and isinstance(n.value, str)
    }
    for p in rs.params.values():
        for pos, t in enumerate(p.key_types):
            if isinstance(t, ir.EnumT):
                out |= {(t.name, str(row.key[pos])) for row in p.rows}
    return out

"""Goals: the questions checks, diffs and explanations ask of an encoding, as named terms.

A goal is a boolean term over an encoding's inputs (or two encodings' inputs side by side);
solver/query.py decides it. The connectives (`negate`, `all_of`, `any_of`, `at_most`, `count`)
and the named goals below are the whole vocabulary: a module outside solver/semantics/ builds
its questions from these and never from z3 itself, so the translation of the IR stays here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias, cast

import z3

from solver import dates, ir
from solver.backends.base import STATUSES, OutputResult
from solver.semantics.symbolic import Encoding
from solver.semantics.terms import FALSE, TRUE, DateSym, Sym, Term, equal, less

Goal: TypeAlias = z3.BoolRef
Number: TypeAlias = z3.ArithRef  # an integer term: a count or a distance
Pins: TypeAlias = list[tuple[Any, Any]]  # (input variable, constant) pairs that fix inputs

__all__ = ["FALSE", "TRUE", "Goal", "Number", "Pins"]


# ---------------------------------------------------------------- connectives


def negate(g: Goal) -> Goal:
    return z3.Not(g)


def all_of(gs: Iterable[Goal]) -> Goal:
    """Every goal holds (TRUE for none)."""
    gs = list(gs)
    return z3.And(gs) if gs else TRUE


def any_of(gs: Iterable[Goal]) -> Goal:
    """Some goal holds (FALSE for none)."""
    gs = list(gs)
    return z3.Or(gs) if gs else FALSE


def at_most(gs: Sequence[Goal], k: int) -> Goal:
    """At most k of the goals hold."""
    return z3.AtMost(*gs, k)


def count(gs: Sequence[Goal]) -> Number:
    """How many of the goals hold."""
    return z3.Sum([z3.If(g, 1, 0) for g in gs]) if gs else z3.IntVal(0)


def total(ns: Sequence[Number]) -> Number:
    return z3.Sum(list(ns)) if ns else z3.IntVal(0)


def flag(name: str) -> Goal:
    """A free boolean named NAME (a propositional variable)."""
    return z3.Bool(name)


def conjuncts(g: Goal) -> list[Goal]:
    """The top-level conjuncts of g (g itself when it is no conjunction)."""
    return list(g.children()) if z3.is_and(g) else [g]


def truth(g: Goal, pins: Sequence[tuple[Any, Any]] = ()) -> bool | None:
    """What g simplifies to once the pinned inputs are substituted: True, False, or None when it
    still depends on a free input (z3's simplifier, no search)."""
    s = z3.simplify(z3.substitute(g, *pins) if pins else g)
    return True if z3.is_true(s) else False if z3.is_false(s) else None


def constant_value(s: Sym) -> tuple[bool, Any]:
    """A term over constants only, simplified: (known, value), the value a Python bool or a z3
    numeral (nothing is searched)."""
    known = z3.simplify(s.known)
    if not z3.is_true(known):
        return False, None
    v = z3.simplify(s.value)
    return True, (z3.is_true(v) if z3.is_bool(v) else v)


# ---------------------------------------------------------------- values


def holds(s: Sym) -> Goal:
    """The value is known and true."""
    return z3.And(s.known, s.value)


def fails(s: Sym) -> Goal:
    """The value is known and false."""
    return z3.And(s.known, z3.Not(s.value))


def equals(enc: Encoding, v: Term, value: ir.Value, t: ir.Type) -> Goal:
    """The term equals VALUE (of type t)."""
    return equal(v, enc.const_term(value, t))


def value_is(enc: Encoding, s: Sym, value: ir.Value, t: ir.Type) -> Goal:
    """The value is known and equals VALUE (of type t)."""
    return z3.And(s.known, equals(enc, s.value, value, t))


def input_within(enc: Encoding, name: str, lo: ir.Value | None = None, hi: ir.Value | None = None) -> Goal:
    """lo <= the input NAME <= hi (either bound may be left out; dates by (year, month, day))."""
    t, v = enc.rs.inputs[name].type, enc.inputs[name].value
    above = None if lo is None else less(enc.const_term(lo, t), v, strict=False)
    below = None if hi is None else less(v, enc.const_term(hi, t), strict=False)
    if above is not None and below is not None:
        return z3.And(above, below)
    bound = above if above is not None else below
    assert bound is not None, "input_within needs a bound"
    return bound


def reads_at(enc: Encoding, look: ir.Lookup, key: tuple[ir.Value, ...]) -> Goal:
    """The lookup LOOK reads the row KEY (its key is known and KEY)."""
    return all_of(value_is(enc, enc.expr(k), v, k.type) for k, v in zip(look.keys, key, strict=True))


def pins(enc: Encoding, values: Mapping[str, ir.Value]) -> Pins:
    """(variable, constant) pairs that fix the given inputs of the encoding (others are skipped)."""
    out: Pins = []
    for name, value in values.items():
        if name in enc.rs.inputs:
            out += zip(enc.input_vars[name], enc.constant(value, enc.rs.inputs[name].type), strict=True)
    return out


def pinned(p: Pins) -> list[Goal]:
    """The pins as goals, one equation each."""
    return [a == b for a, b in p]


def fields_differ(a: Encoding, b: Encoding, name: str) -> Goal:
    """Two encodings (two persons) give the input NAME different values."""
    pairs = zip(a.input_vars[name], b.input_vars[name], strict=True)
    return z3.Not(z3.And([x == y for x, y in pairs]))


def distance(enc: Encoding, name: str, old: ir.Value) -> Number:
    """How far the input NAME is from OLD: days for a date, the difference for an int, else 0/1."""
    t = enc.rs.inputs[name].type
    v = enc.inputs[name].value
    if isinstance(v, DateSym):
        assert isinstance(old, dt.date)
        return _abs(v.dn() - dates.day_number(old.year, old.month, old.day))
    if isinstance(t, ir.IntT):
        assert isinstance(old, int)
        return _abs(v - old)
    return cast(Number, z3.If(enc.input_is(name, old), 0, 1))


def _abs(x: Number) -> Number:
    return cast(Number, z3.If(x >= 0, x, -x))


# ---------------------------------------------------------------- outputs


def output_has(enc: Encoding, name: str, value: ir.Value) -> Goal:
    """The output is ok with this value (for a set output: ok and containing it)."""
    o, out = enc.outputs[name], enc.rs.outputs[name]
    if out.cardinality == "set":
        return z3.And(o.status["ok"], o.members[str(value)])
    return z3.And(o.status["ok"], equal(o.value.value, enc.const_term(value, out.type)))


def output_is(enc: Encoding, name: str, value: str) -> Goal:
    """An enum output is ok with this value, or (a set output) ok and containing it: compared by
    enum index, as the reachability check asks."""
    o, t = enc.outputs[name], enc.rs.outputs[name].type
    assert isinstance(t, ir.EnumT)
    if enc.rs.outputs[name].cardinality == "set":
        return z3.And(o.status["ok"], o.members[value])
    return z3.And(o.status["ok"], o.value.value == enc.enum_index[t.name][value])


def result_is(enc: Encoding, name: str, r: OutputResult) -> Goal:
    """The output has this result: the same status, and when ok the same value or members."""
    o, out = enc.outputs[name], enc.rs.outputs[name]
    parts = [o.status[r.status]]
    if r.status == "ok":
        if out.cardinality == "set":
            parts += [m if v in r.values else z3.Not(m) for v, m in o.members.items()]
        else:
            parts.append(equal(o.value.value, enc.const_term(r.values[0], out.type)))
    return z3.And(parts)


def same_result(a: Encoding, b: Encoding, name: str) -> Goal:
    """Two encodings of one rule set (two persons) give this output the same result."""
    x, y, out = a.outputs[name], b.outputs[name], a.rs.outputs[name]
    parts = [x.status[s] == y.status[s] for s in x.status]
    if out.cardinality == "set":
        parts += [x.members[v] == y.members[v] for v in x.members]
    else:
        parts.append(z3.Implies(x.status["ok"], equal(x.value.value, y.value.value)))
    return z3.And(parts)


def status_is(enc: Encoding, name: str, status: str) -> Goal:
    return enc.outputs[name].status[status]


def sound(enc: Encoding, name: str) -> Goal:
    """The output is neither unknown, nor a gap, nor a conflict."""
    st = enc.outputs[name].status
    return z3.Not(z3.Or(st["unknown"], st["gap"], st["conflict"]))


def all_apply(enc: Encoding, name: str, rules: Iterable[str]) -> Goal:
    """Every one of these rules for the output applies."""
    applying = enc.outputs[name].applying
    return z3.And([applying[r] for r in rules])


# ---------------------------------------------------------------- two versions over one person


def values_equal(a: Term, ta: ir.Type, b: Term, tb: ir.Type, ea: Encoding, eb: Encoding) -> Goal:
    """a == b across two encodings (two versions of a rule set); enums compare by value name."""
    if isinstance(ta, ir.EnumT) and isinstance(tb, ir.EnumT):
        ia, ib = ea.enum_index[ta.name], eb.enum_index[tb.name]
        common = [v for v in ta.values if v in ib]
        return z3.Or([z3.And(a == ia[v], b == ib[v]) for v in common]) if common else z3.BoolVal(False)
    if type(ta) is not type(tb):
        return z3.BoolVal(False)
    return equal(a, b)


def inputs_equal(ea: Encoding, eb: Encoding, name: str) -> Goal:
    """The input NAME has the same value in both versions."""
    ta, tb = ea.rs.inputs[name].type, eb.rs.inputs[name].type
    return values_equal(ea.inputs[name].value, ta, eb.inputs[name].value, tb, ea, eb)


def status_differs(ea: Encoding, eb: Encoding, name: str) -> Goal:
    o, n = ea.outputs[name], eb.outputs[name]
    return z3.Or([z3.And(o.status[s], z3.Not(n.status[s])) for s in STATUSES])


def member_differs(ea: Encoding, eb: Encoding, name: str, value: str) -> Goal:
    """Both ok, and the value is in one side's set and not the other's."""
    o, n = ea.outputs[name], eb.outputs[name]
    f = z3.BoolVal(False)
    both_ok = z3.And(o.status["ok"], n.status["ok"])
    return z3.And(both_ok, z3.Xor(o.members.get(value, f), n.members.get(value, f)))


def output_differs(ea: Encoding, eb: Encoding, name: str) -> Goal:
    """The two versions give the output different results (status, value or members)."""
    o, n = ea.outputs[name], eb.outputs[name]
    to, tn = ea.rs.outputs[name], eb.rs.outputs[name]
    parts = [z3.And(o.status[s], z3.Not(n.status[s])) for s in STATUSES]
    if to.cardinality == "set" or tn.cardinality == "set":
        values = set(o.members) | set(n.members)
        f = z3.BoolVal(False)
        members = [z3.Xor(o.members.get(v, f), n.members.get(v, f)) for v in sorted(values)]
        parts.append(z3.And(o.status["ok"], n.status["ok"], z3.Or(members) if members else f))
    else:
        same = values_equal(o.value.value, to.type, n.value.value, tn.type, ea, eb)
        parts.append(z3.And(o.status["ok"], n.status["ok"], z3.Not(same)))
    return z3.Or(parts)


def applying_rules(enc: Encoding, name: str, member: str | None = None) -> dict[str, Goal]:
    """Rule -> it applies to the output (for one member of a set output: it applies and gives
    that member)."""
    o = enc.outputs[name]
    if member is None:
        return dict(o.applying)
    t = enc.rs.outputs[name].type
    assert isinstance(t, ir.EnumT)
    idx = enc.enum_index[t.name]
    if member not in idx:
        return {}
    return {r: z3.And(a, o.rule_values[r] == idx[member]) for r, a in o.applying.items()}


def decided_by(enc: Encoding, name: str, status: str, rules: Sequence[str], member: str | None = None) -> Goal:
    """The output has this status and exactly these rules apply (to the member)."""
    applying = [a if r in rules else z3.Not(a) for r, a in applying_rules(enc, name, member).items()]
    return z3.And(enc.outputs[name].status[status], *applying)


def members_are(enc: Encoding, name: str, members: Sequence[str]) -> Goal:
    """A set output holds exactly these members."""
    o = enc.outputs[name]
    return z3.And([m if v in members else z3.Not(m) for v, m in o.members.items()])


def value_equals(enc: Encoding, name: str, value: ir.Value) -> Goal:
    """The output's value term equals VALUE (whatever its status)."""
    return equals(enc, enc.outputs[name].value.value, value, enc.rs.outputs[name].type)

"""The z3 side of explanations: one encoding of the rule set in which every rule's applicability
is a named variable tied to its definition by a separate equivalence. Asserting all equivalences
gives the ordinary encoding; passing them as assumption literals instead lets an unsat core name
the rules (hence the clauses) that forbid an answer, as IDP-Z3 explains from unsat cores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import z3

from solver import dates, ir
from solver.backends.base import OutputResult, Person
from solver.passes.deps import deps
from solver.query import Answer, Query, Sat, Unknown, Unsat, minimize
from solver.semantics.symbolic import Encoding
from solver.semantics.terms import DateSym, Sym, equal, evaluate, month_length

if TYPE_CHECKING:
    from explain.derivation import Lit, MinimalFailure, Skeleton


class GuardedEncoding(Encoding):
    """An Encoding whose rules apply through fresh variables `applies!ID` (value and known), with
    `guards[ID]` the equivalence to the rule's own condition. Overrides the one hook (`rule`) the
    base class builds every rule and exception through; nothing else changes."""

    def __init__(self, rs: ir.RuleSet, *, prefix: str = "") -> None:
        self.guards: dict[str, z3.BoolRef] = {}
        super().__init__(rs, partial=False, prefix=prefix)

    def rule(self, r: ir.Rule) -> Sym:
        if r.id in self.applies:
            return self.applies[r.id]
        orig = super().rule(r)
        v = z3.Bool(f"{self.prefix}applies!{r.id}")
        k = z3.Bool(f"{self.prefix}applies_known!{r.id}")
        self.guards[r.id] = z3.And(v == orig.value, k == orig.known)
        s = Sym(v, k)
        self.applies[r.id] = s
        return s


@dataclass(frozen=True)
class Slice:
    """The part of a rule set a question can depend on: the rules behind some outputs (with their
    exceptions and every output and definition they read), the inputs those read, and the input
    constraints that touch those inputs (closed: a constraint's other inputs join the slice).
    Inputs outside a slice cannot change the answer, and no constraint links them to it."""

    inputs: frozenset[str]
    rules: frozenset[str]
    constraints: tuple[str, ...]
    reads: frozenset[str]  # the inputs the rules and outputs read (before the constraint closure)


class Symbolic:
    """One guarded encoding of a resolved rule set and the formulas explanations ask about.
    Built once per rule set (building is the expensive part) and shared by queries; each query
    asserts only its slice, which keeps z3's work proportional to the question."""

    def __init__(self, rs: ir.RuleSet, prefix: str = "") -> None:
        self.rs = rs
        self.enc = GuardedEncoding(rs, prefix=prefix)
        self._slices: dict[tuple[tuple[str, ...], tuple[str, ...]], Slice] = {}

    def hard(self, sl: Slice | None = None) -> list[z3.BoolRef]:
        """Domains, input constraints and rule definitions (of a slice, or of everything)."""
        if sl is None:
            return [self.enc.valid, *self.enc.guards.values()]
        return [
            *(self.domain(n) for n in self.rs.inputs if n in sl.inputs),
            *(self.enc.constraints[c] for c in sl.constraints),
            *(self.enc.guards[r.id] for r in self.rs.rules if r.id in sl.rules),
        ]

    def domain(self, name: str) -> z3.BoolRef:
        """One input's domain (as Encoding builds it for all inputs at once)."""
        t, v = self.rs.inputs[name].type, self.enc.inputs[name].value
        if isinstance(t, ir.BoolT):
            return z3.BoolVal(True)
        if isinstance(t, ir.IntT):
            return z3.And(v >= t.lo, v <= t.hi)
        if isinstance(t, ir.EnumT):
            return z3.And(v >= 0, v < len(t.values))
        assert isinstance(v, DateSym)
        lo, hi = (dates.day_number(b.year, b.month, b.day) for b in (t.lo, t.hi))
        dn = v.dn()
        return z3.And(v.m >= 1, v.m <= 12, v.d >= 1, v.d <= month_length(v.y, v.m), dn >= lo, dn <= hi)

    def slice(self, outputs: Sequence[str] = (), rules: Sequence[str] = ()) -> Slice:
        key = (tuple(sorted(outputs)), tuple(sorted(rules)))
        if key not in self._slices:
            self._slices[key] = self._slice(outputs, rules)
        return self._slices[key]

    def _slice(self, outputs: Sequence[str], rules: Sequence[str]) -> Slice:
        rs = self.rs
        inputs: set[str] = set()
        seen_names: set[str] = set()
        seen_rules: set[str] = set()
        todo_names, todo_rules = list(outputs), list(rules)

        def exprs(es: Sequence[ir.Expr]) -> None:
            for e in es:
                todo_names.extend(ir.refs(e))

        while todo_names or todo_rules:
            if todo_rules:
                rid = todo_rules.pop()
                if rid in seen_rules:
                    continue
                seen_rules.add(rid)
                r = rs.rule(rid)
                exprs([r.when, *(v for _, v in r.then)])
                if r.valid:
                    todo_names.append(r.valid.on)
                todo_rules.extend(r.unless)
                continue
            n = todo_names.pop()
            if n in seen_names:
                continue
            seen_names.add(n)
            if n in rs.inputs:
                inputs.add(n)
            elif n in rs.definitions:
                exprs([rs.definitions[n].expr])
            elif n in rs.outputs:
                o = rs.outputs[n]
                exprs([o.default] if o.default is not None else [])
                todo_rules.extend(r.id for r in rs.rules_for(n))
        reads = frozenset(inputs)
        constraint_inputs = {c.id: self.constraint_inputs(c.id) for c in rs.constraints}
        chosen: list[str] = []
        grew = True
        while grew:
            grew = False
            for c in rs.constraints:
                if c.id not in chosen and constraint_inputs[c.id] & inputs:
                    chosen.append(c.id)
                    inputs |= constraint_inputs[c.id]
                    grew = True
        order = [c.id for c in rs.constraints if c.id in chosen]
        return Slice(frozenset(inputs), frozenset(seen_rules), tuple(order), reads)

    def constraint_inputs(self, cid: str) -> set[str]:
        """The inputs an input constraint reads (through definitions)."""
        return set(deps(self.rs).constraints[cid])

    def field_is(self, name: str, value: ir.Value) -> z3.BoolRef:
        return self.enc.input_is(name, value)

    def fixed(self, person: Person, fields: Sequence[str] | None = None) -> list[z3.BoolRef]:
        return [self.field_is(n, person[n]) for n in (fields if fields is not None else person) if n in person]

    def output_has(self, name: str, value: ir.Value) -> z3.BoolRef:
        """The output is ok with this value (for a set output: ok and containing it)."""
        o, out = self.enc.outputs[name], self.rs.outputs[name]
        if out.cardinality == "set":
            return z3.And(o.status["ok"], o.members[str(value)])
        return z3.And(o.status["ok"], equal(o.value.value, self.enc.const_term(value, out.type)))

    def result_is(self, name: str, r: OutputResult) -> z3.BoolRef:
        """The output has this result: the same status, and when ok the same value or members."""
        o, out = self.enc.outputs[name], self.rs.outputs[name]
        parts = [o.status[r.status]]
        if r.status == "ok":
            if out.cardinality == "set":
                parts += [m if v in r.values else z3.Not(m) for v, m in o.members.items()]
            else:
                parts.append(equal(o.value.value, self.enc.const_term(r.values[0], out.type)))
        return z3.And(parts)

    def same_result(self, other: Symbolic, name: str) -> z3.BoolRef:
        """Two encodings (two persons) give this output the same result."""
        a, b, out = self.enc.outputs[name], other.enc.outputs[name], self.rs.outputs[name]
        parts = [a.status[s] == b.status[s] for s in a.status]
        if out.cardinality == "set":
            parts += [a.members[v] == b.members[v] for v in a.members]
        else:
            parts.append(z3.Implies(a.status["ok"], equal(a.value.value, b.value.value)))
        return z3.And(parts)

    def values(self, model: z3.ModelRef, names: Sequence[str]) -> dict[str, ir.Value]:
        """The model's values of some inputs (those of a slice: others may be unconstrained)."""
        enc = self.enc
        return {n: enc.decode(evaluate(model, enc.inputs[n].value), self.rs.inputs[n].type) for n in names}

    def slice_fields(self, sl: Slice) -> list[str]:
        return [n for n in self.rs.inputs if n in sl.inputs]


def lit_term(enc: Encoding, lit: Lit) -> z3.BoolRef:
    """The literal holds (known and true) as a z3 term."""
    if lit.kind == "exception":
        a = enc.applies[lit.exception]
        return z3.And(a.known, z3.Not(a.value))
    assert lit.atom is not None
    s = enc.expr(lit.atom)
    return z3.And(s.known, s.value if lit.positive else z3.Not(s.value))


def _skeleton(sk: Skeleton, var: Mapping[int, z3.BoolRef]) -> z3.BoolRef:
    op, kids, i = sk
    if op == "lit":
        return var[i]
    parts = [_skeleton(k, var) for k in kids]
    return z3.And(parts) if op == "and" else z3.Or(parts)


def _count(terms: Sequence[z3.BoolRef]) -> z3.ArithRef:
    return z3.Sum([z3.If(t, 1, 0) for t in terms]) if terms else z3.IntVal(0)


def minimal_failure(
    sym: Symbolic,
    rule: ir.Rule,
    lits: Sequence[Lit],
    skeleton: Skeleton,
    now: Sequence[bool | None],
    target: ir.Expr | None,
    value: Any,
    timeout_ms: int | None = None,
) -> MinimalFailure:
    """The fewest of the rule's currently failed literals that some valid person makes hold while
    the rule applies (and its `then` gives `value` when that is not a constant). Because the
    skeleton is monotone, making those hold and keeping the others is enough for the rule to apply.
    If no valid person meets the rule, the propositional minimum over the skeleton is returned."""
    from explain.derivation import MinimalFailure

    enc = sym.enc
    failed = [i for i, h in enumerate(now) if h is not True]
    terms = [lit_term(enc, lit) for lit in lits]
    s = Query(*sym.hard(sym.slice(rules=[rule.id])), enc.applying(rule.id), timeout_ms=timeout_ms)
    if target is not None:
        t = enc.expr(target)
        s.add(t.known, equal(t.value, enc.const_term(value, target.type)))
    # The least k such that at most k failed literals hold (every smaller k refuted): an
    # incremental solver call per k, cheaper than Optimize here as the minimum is usually 1-3.
    res: Answer = Unsat()
    for k in range(len(failed) + 1):
        res = s.check(z3.AtMost(*(terms[i] for i in failed), k)) if failed else s.check()
        if not isinstance(res, Unsat):
            break
    if isinstance(res, Sat):
        chosen = tuple(i for i in failed if res.holds(terms[i]))
        return MinimalFailure(chosen, len(failed), realizable=True, proven=True)
    if isinstance(res, Unknown):
        return MinimalFailure(tuple(failed), len(failed), realizable=True, proven=False)
    # No valid person meets the rule: the propositional minimum (same atom, same variable).
    atom_var: dict[object, z3.BoolRef] = {}
    var: dict[int, z3.BoolRef] = {}
    for i, lit in enumerate(lits):
        key: object = ("exception", lit.exception) if lit.kind == "exception" else lit.atom
        if key not in atom_var:
            atom_var[key] = z3.Bool(f"prop!{len(atom_var)}")
        var[i] = atom_var[key] if lit.positive else z3.Not(atom_var[key])
    best = minimize([_skeleton(skeleton, var)], [_count([var[i] for i in failed])])
    if not isinstance(best, Sat):
        return MinimalFailure((), len(failed), realizable=False, proven=True, contradictory=True)
    chosen = tuple(i for i in failed if best.holds(var[i]))
    return MinimalFailure(chosen, len(failed), realizable=False, proven=True)

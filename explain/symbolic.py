"""The z3 side of explanations: one encoding of the rule set in which every rule's applicability
is a named variable tied to its definition by a separate equivalence. Asserting all equivalences
gives the ordinary encoding; passing them as assumption literals instead lets an unsat core name
the rules (hence the clauses) that forbid an answer, as IDP-Z3 explains from unsat cores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import z3

from solver import ir
from solver.backends.base import OutputResult, Person
from solver.passes.deps import deps
from solver.semantics.symbolic import Encoding
from solver.semantics.terms import Sym, equal, evaluate


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
        return self.enc.input_domains[name]

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

"""The symbolic side of explanations: one guarded encoding of the rule set (solver/semantics/
guarded.py: every rule's applicability a named variable, so an unsat core names rules), the
slice of it a question can depend on, and the goals explanations ask about (solver/semantics/goals.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from solver import ir
from solver.backends.base import OutputResult, Person
from solver.passes.deps import deps
from solver.query import Model
from solver.semantics import goals
from solver.semantics.goals import Goal
from solver.semantics.guarded import GuardedEncoding
from solver.semantics.terms import evaluate


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

    def hard(self, sl: Slice | None = None) -> list[Goal]:
        """Domains, input constraints and rule definitions (of a slice, or of everything)."""
        if sl is None:
            return [self.enc.valid, *self.enc.guards.values()]
        return [
            *(self.domain(n) for n in self.rs.inputs if n in sl.inputs),
            *(self.enc.constraints[c] for c in sl.constraints),
            *(self.enc.guards[r.id] for r in self.rs.rules if r.id in sl.rules),
        ]

    def domain(self, name: str) -> Goal:
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

    def field_is(self, name: str, value: ir.Value) -> Goal:
        return self.enc.input_is(name, value)

    def fixed(self, person: Person, fields: Sequence[str] | None = None) -> list[Goal]:
        return [self.field_is(n, person[n]) for n in (fields if fields is not None else person) if n in person]

    def output_has(self, name: str, value: ir.Value) -> Goal:
        """The output is ok with this value (for a set output: ok and containing it)."""
        return goals.output_has(self.enc, name, value)

    def result_is(self, name: str, r: OutputResult) -> Goal:
        """The output has this result: the same status, and when ok the same value or members."""
        return goals.result_is(self.enc, name, r)

    def same_result(self, other: Symbolic, name: str) -> Goal:
        """Two encodings (two persons) give this output the same result."""
        return goals.same_result(self.enc, other.enc, name)

    def values(self, model: Model, names: Sequence[str]) -> dict[str, ir.Value]:
        """The model's values of some inputs (those of a slice: others may be unconstrained)."""
        enc = self.enc
        return {n: enc.decode(evaluate(model, enc.inputs[n].value), self.rs.inputs[n].type) for n in names}

    def slice_fields(self, sl: Slice) -> list[str]:
        return [n for n in self.rs.inputs if n in sl.inputs]

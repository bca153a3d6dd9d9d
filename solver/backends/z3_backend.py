"""The `z3` backend: decides a person by evaluating the rule set's z3 terms
(solver/semantics/symbolic.py) under the person's values. These are the same terms every check
searches over, so agreement with eval validates the encoding itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import z3

from solver import ir
from solver.backends.base import Decision, OutputResult, Person, Status, sort_values
from solver.passes.deps import input_cones
from solver.semantics.reasons import UNEXPLAINED
from solver.semantics.symbolic import Encoding
from solver.semantics.terms import DateSym, Term, constants


class _Readout:
    """Every term a decision reads, packed into one tuple term, so that one model evaluation
    (sharing the evaluation of common subterms) yields the whole decision."""

    def __init__(self, enc: Encoding) -> None:
        self.enc = enc
        self.terms: list[z3.ExprRef] = []
        self.slots: dict[tuple[str, ...], int | tuple[int, int, int]] = {}
        for name, o in enc.outputs.items():
            for st, term in o.status.items():
                self._add((name, "status", st), term)
            for r, a in o.applying.items():
                self._add((name, "applies", r), a)
            for v, m in o.members.items():
                self._add((name, "member", v), m)
            if enc.rs.outputs[name].cardinality != "set":
                self._add((name, "value"), o.value.value)
                for r, rv in o.rule_values.items():
                    self._add((name, "rule_value", r), rv)
        _, self.mk, _ = z3.TupleSort(f"readout{id(self)}", [t.sort() for t in self.terms])
        self.packed = self.mk(*self.terms)

    def _add(self, key: tuple[str, ...], term: Term) -> None:
        if isinstance(term, DateSym):
            n = len(self.terms)
            self.terms += [term.y, term.m, term.d]
            self.slots[key] = (n, n + 1, n + 2)
        else:
            self.slots[key] = len(self.terms)
            self.terms.append(term)

    def read(self, model: z3.ModelRef) -> dict[tuple[str, ...], bool | int | tuple[int, int, int]]:
        values = constants(model.eval(self.packed, model_completion=True).sexpr())
        out: dict[tuple[str, ...], bool | int | tuple[int, int, int]] = {}
        for key, slot in self.slots.items():
            out[key] = (values[slot[0]], values[slot[1]], values[slot[2]]) if isinstance(slot, tuple) else values[slot]
        return out


class Z3Backend:
    """Decides a person by evaluating the rule set's z3 terms under the person's values: the same
    terms every check searches over, so agreement with eval validates the encoding itself."""

    name = "z3"

    def __init__(self, rs: ir.RuleSet) -> None:
        self.rs = rs
        self._enc: dict[bool, tuple[Encoding, _Readout]] = {}
        self._deps = input_cones(rs)

    def encoding(self, partial: bool) -> Encoding:
        return self._prepared(partial)[0]

    def _prepared(self, partial: bool) -> tuple[Encoding, _Readout]:
        if partial not in self._enc:
            enc = Encoding(self.rs, partial=partial)
            self._enc[partial] = (enc, _Readout(enc))
        return self._enc[partial]

    def decide(self, person: Person) -> Decision:
        partial = not all(n in person for n in self.rs.inputs)
        enc, readout = self._prepared(partial)
        model = z3.Model()
        for var, val in enc.input_values(person):
            model.update_value(var, val)
        got = readout.read(model)
        missing = set(self.rs.inputs) - set(person)
        results = {name: self._result(enc, got, name, missing) for name in self.rs.outputs}
        return Decision(results, dict(self.rs.resolved_options), self.name)

    def _result(self, enc: Encoding, got: Mapping[tuple[str, ...], Any], name: str, missing: set[str]) -> OutputResult:
        o = enc.outputs[name]
        out = self.rs.outputs[name]
        status = next(cast(Status, s) for s in o.status if got[(name, "status", s)])
        if status == "unknown":
            why = tuple(sorted(self._deps[name] & missing))
            return OutputResult(name, status, missing=why, reasons=() if why else (UNEXPLAINED,))
        if status in ("gap", "none"):
            return OutputResult(name, status)
        rules = tuple(sorted(r for r in o.applying if got[(name, "applies", r)]))
        if out.cardinality == "set":
            members: list[ir.Value] = [v for v in o.members if got[(name, "member", v)]]
            return OutputResult(name, "ok", sort_values(members), rules)
        if status == "conflict":
            vals = [enc.decode(got[(name, "rule_value", r)], out.type) for r in rules]
            return OutputResult(name, status, sort_values(vals), rules)
        return OutputResult(name, "ok", (enc.decode(got[(name, "value")], out.type),), rules)

"""What each rule, definition and output reads, computed once per rule set.

Consumers (the z3 decider's unknown reasons, checks, diffs, explanations, fixtures, batch
grouping) ask here instead of walking the IR again, so "what does X read" has one answer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from solver import ir


@dataclass(frozen=True)
class Reads:
    """The names one rule, definition or output reads directly, by kind, and `cone`: every input
    it can depend on (through definitions, outputs, the rules that give them, their exceptions and
    validity). For an output, "directly" means its default and the rules that target it."""

    inputs: frozenset[str] = frozenset()
    definitions: frozenset[str] = frozenset()
    outputs: frozenset[str] = frozenset()
    params: frozenset[str] = frozenset()
    options: frozenset[str] = frozenset()
    cone: frozenset[str] = frozenset()


class Deps:
    """The reads of every rule, definition and output of one rule set (see `deps`)."""

    def __init__(self, rs: ir.RuleSet) -> None:
        self.rs = rs
        self.rules: dict[str, Reads] = {}
        self.definitions: dict[str, Reads] = {}
        self.outputs: dict[str, Reads] = {}
        self._rule_cones: dict[str, frozenset[str]] = {}
        self._cone: dict[str, frozenset[str]] = {n: frozenset({n}) for n in rs.inputs}
        # rs.order puts every name after what it reads, so each cone is built from finished ones.
        for name in rs.order:
            if name in rs.definitions:
                e = rs.definitions[name].expr
                self.definitions[name] = self._reads(ir.refs(e), ir.params_used(e))
                self._cone[name] = self.definitions[name].cone
            else:
                self._output(rs.outputs[name])
        for r in rs.rules:
            self._rule(r)
        # Input constraint id -> the inputs it reads (through definitions).
        self.constraints = {c.id: frozenset(self.inputs_read(c.expr)) for c in rs.constraints}

    def _reads(self, names: Iterable[str], params: Iterable[str], extra: frozenset[str] = frozenset()) -> Reads:
        rs, names = self.rs, set(names)
        cone = set(extra)
        for n in names:
            cone |= self._cone.get(n, frozenset())
        return Reads(
            inputs=frozenset(n for n in names if n in rs.inputs),
            definitions=frozenset(n for n in names if n in rs.definitions),
            outputs=frozenset(n for n in names if n in rs.outputs),
            params=frozenset(params),
            options=frozenset(n for n in names if n in rs.options),
            cone=frozenset(cone),
        )

    def _rule(self, r: ir.Rule) -> Reads:
        if r.id in self.rules:
            return self.rules[r.id]
        exprs = [r.when, *(e for _, e in r.then)]
        names = {n for e in exprs for n in ir.refs(e)} | ({r.valid.on} if r.valid else set())
        params = {p for e in exprs for p in ir.params_used(e)}
        exceptions: frozenset[str] = frozenset()
        for u in r.unless:
            exceptions |= self._rule(self.rs.rule(u)).cone
        self.rules[r.id] = self._reads(names, params, exceptions)
        return self.rules[r.id]

    def _output(self, o: ir.Output) -> None:
        names = ir.refs(o.default) if o.default is not None else set()
        params = ir.params_used(o.default) if o.default is not None else set()
        cone: frozenset[str] = frozenset()
        for r in self.rs.rules_for(o.name):
            rr = self._rule(r)
            names |= rr.inputs | rr.definitions | rr.outputs | rr.options
            params |= rr.params
            cone |= rr.cone
        self.outputs[o.name] = self._reads(names - {o.name}, params, cone)
        self._cone[o.name] = self.outputs[o.name].cone

    def cone(self, names: Iterable[str]) -> set[str]:
        """The inputs that names (inputs, definitions, outputs; options read none) can depend on."""
        out: set[str] = set()
        for n in names:
            out |= self._cone.get(n, frozenset())
        return out

    def inputs_read(self, e: ir.Expr) -> set[str]:
        """The inputs e can depend on, through definitions and outputs (an output's whole cone)."""
        return self.cone(ir.refs(e))

    def definitions_read(self, names: Iterable[str]) -> set[str]:
        """The definitions names read, directly or through other definitions (not outputs)."""
        todo, seen = list(names), set()
        while todo:
            n = todo.pop()
            if n in seen or n not in self.definitions:
                continue
            seen.add(n)
            todo += self.definitions[n].definitions
        return seen


_MEMO: dict[int, tuple[ir.RuleSet, Deps]] = {}
_MEMO_SIZE = 16  # rule sets alive at once (option sets of one rule set, two sides of a diff)


def deps(rs: ir.RuleSet) -> Deps:
    """The reads of rs, computed once per rule set object (RuleSet is frozen but holds dicts, so
    it is memoised by identity, keeping the object alive so the id stays unique)."""
    hit = _MEMO.get(id(rs))
    if hit is not None and hit[0] is rs:
        return hit[1]
    if len(_MEMO) >= _MEMO_SIZE:
        del _MEMO[next(iter(_MEMO))]
    d = Deps(rs)
    _MEMO[id(rs)] = (rs, d)
    return d


def input_cones(rs: ir.RuleSet) -> Mapping[str, frozenset[str]]:
    """Output or definition -> the inputs it can depend on (through definitions, outputs, rules
    and exceptions)."""
    d = deps(rs)
    return {name: (d.definitions[name] if name in rs.definitions else d.outputs[name]).cone for name in rs.order}

"""The reference semantics: the IR compiled once to straight-line Python source.

Code is generated from the typed IR (never from rule text), compiled once per rule set, and
called per person. The generated `run` does only the work of the rules: it computes every rule's
applicability, the values of the rules that apply, and the values of the outputs that other
expressions read; an output's result (status, values, rules) is built from those only when
someone asks for it. Only sub-expressions that can be unknown (parameter lookups, output
references, and inputs when the person may be partial) pay for three-valued logic; the rest is
plain Python. Traced runs are compiled separately and record every evaluated node's value."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from solver import ir
from solver.backends.base import Decision, Person
from solver.backends.eval_codegen import _Gen
from solver.backends.eval_expressions import _NONE
from solver.backends.eval_results import _decision, _Results
from solver.backends.eval_trace import _UNSET, Trace, _NodeValues
from solver.semantics.values import (
    BINOPS,
    BUILTINS,
    NO_DEFAULT,
    Unknown,
    finish,
    k_and,
    k_in,
    k_ite,
    k_not,
    k_or,
    lift,
    lookup,
    merge_unknown,
)

__all__ = ["EvalBackend", "Trace"]  # Trace: the type decide_traced returns, imported from here


def _merge(*values: Any) -> Unknown:
    """merge_unknown(*values), without rebuilding when the unknowns are equal (the common case:
    one unknown reaching an expression along several paths)."""
    out: Unknown | None = None
    for v in values:
        if v is not out and isinstance(v, Unknown) and v != out:
            out = v if out is None else out | v
    return out if out is not None else merge_unknown()


def _namespace(consts: Mapping[str, Any]) -> dict[str, Any]:
    """What generated code may call: the shared semantics, lifted once (not per call)."""
    return {
        "_k_and": k_and,
        "_k_or": k_or,
        "_k_not": k_not,
        "_k_ite": k_ite,
        "_k_in": k_in,
        "_lookup": lookup,
        "_l_builtins": {n: lift(f) for n, f in BUILTINS.items()},
        "_l_binops": {n: lift(f) for n, f in BINOPS.items()},
        "_l_neg": lift(operator.neg),
        "_l_contains": lift(lambda s, v: v in s),
        "_finish": finish,
        "_merge": _merge,
        "_U": Unknown,
        "_NO_DEFAULT": NO_DEFAULT,
        "_NONE": _NONE,
        "_EMPTY": frozenset(),
        "_UNSET": _UNSET,
        **{f"_f_{n}": f for n, f in BUILTINS.items()},
        **consts,
    }


class _Compiled:
    def __init__(self, rs: ir.RuleSet, *, partial: bool, trace: bool, constraints_only: bool = False) -> None:
        gen = _Gen(rs, partial, trace)
        source = gen.compile(constraints_only)
        namespace = _namespace(gen.consts)
        # The source is generated from the typed IR above, never from rule text: names become
        # indexed locals (i0, d1, o2) and every value from a file is a repr'd constant or a _c<n> table.
        exec(compile(source, f"<elig:{rs.name}>", "exec"), namespace)
        self.run: Callable[..., Any] = namespace["run"]
        self.source = source
        self.plans = gen.plans
        self.nodes = gen.nodes
        self.index = {id(n): i for i, n in enumerate(gen.nodes)}


class EvalBackend:
    """Decides persons with the compiled rule set. Persons must be validated first
    (solver.person.parse_person); missing fields are allowed and give unknown outputs."""

    name = "eval"

    def __init__(self, rs: ir.RuleSet) -> None:
        self.rs = rs
        self._inputs = frozenset(rs.inputs)
        self._options: Mapping[str, str] = MappingProxyType(dict(rs.resolved_options))
        self._full = _Compiled(rs, partial=False, trace=False)
        self._partial: _Compiled | None = None
        self._constraints: _Compiled | None = None
        self._traced: dict[bool, _Compiled] = {}

    def _pick(self, person: Person) -> _Compiled:
        if person.keys() >= self._inputs:
            return self._full
        if self._partial is None:
            self._partial = _Compiled(self.rs, partial=True, trace=False)
        return self._partial

    def satisfies_constraints(self, person: Person) -> bool:
        """Whether a complete person meets every input constraint of the rule set."""
        if self._constraints is None:
            self._constraints = _Compiled(self.rs, partial=False, trace=False, constraints_only=True)
        return bool(self._constraints.run(person))

    def applies(self, person: Person) -> dict[str, Any]:
        """Rule id -> True / False / Unknown for this person."""
        return dict(zip((r.id for r in self.rs.rules), self._pick(person).run(person)[0], strict=True))

    def decide(self, person: Person) -> Decision:
        compiled = self._full if person.keys() >= self._inputs else self._pick(person)
        return _decision(_Results(compiled.plans, compiled.run(person)), self._options)

    def decide_traced(self, person: Person) -> tuple[Decision, Trace]:
        partial = self._pick(person) is not self._full
        if partial not in self._traced:
            self._traced[partial] = _Compiled(self.rs, partial=partial, trace=True)
        compiled = self._traced[partial]
        box: list[tuple[Any, ...]] = []
        run = compiled.run(person, box.append)
        recorded = _NodeValues(compiled.index, box[0] if box else (), compiled.nodes)
        results = _Results(compiled.plans, run)
        env: dict[str, Any] = dict(person)
        env.update({n: recorded.get(id(d.expr)) for n, d in self.rs.definitions.items()})
        for name, r in results.items():
            env[name] = r.values[0] if r.status == "ok" and len(r.values) == 1 else r.values
        trace = Trace(recorded, dict(zip((r.id for r in self.rs.rules), run[0], strict=True)), env)
        return Decision(results, self._options, self.name), trace

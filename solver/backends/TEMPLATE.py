"""A new backend starts as a copy of this file (see CONTRIBUTING.md, "Adding a backend").

A backend is a translation of one resolved rule set plus `decide`: build the translation once in
`__init__`, decide persons with it, and return a `Decision` whose results agree with eval (the
reference; the semantics are written out in solver/backends/base.py). It shares the value
semantics in solver/semantics/ (unknown values, Kleene logic, builtins, `Reason`) and imports no
other backend's internals. This skeleton decides through eval so that it runs and type-checks
as it stands; a real backend replaces `_translate` and `decide`.
"""

from __future__ import annotations

from solver import ir
from solver.backends.base import Backend, Decision, OutputResult, Person
from solver.backends.eval_backend import EvalBackend


class TemplateBackend:
    """Decides persons of one resolved rule set (built once, then asked many times)."""

    name = "template"

    def __init__(self, rs: ir.RuleSet) -> None:
        self.rs = rs
        self._program = self._translate(rs)

    @staticmethod
    def _translate(rs: ir.RuleSet) -> EvalBackend:
        """The rule set in the backend's own terms (here: eval's compiled code)."""
        return EvalBackend(rs)

    def decide(self, person: Person) -> Decision:
        """Every output's result. An unknown result names its missing inputs (sorted) and its
        other causes as typed `Reason`s; never raise for a person that parse_person accepted."""
        got = self._program.decide(person)
        results = {name: self._result(got[name]) for name in self.rs.outputs}
        return Decision(results, dict(self.rs.resolved_options), self.name)

    @staticmethod
    def _result(r: OutputResult) -> OutputResult:
        return OutputResult(r.output, r.status, r.values, r.rules, r.missing, r.reasons)


_: type[Backend] = TemplateBackend  # mypy checks the skeleton against the Protocol

"""The one small interface every backend implements, and the decision it returns.

Semantics (every backend must agree with `eval`, the reference):

* Values are three-valued: a name may be *unknown* (an input missing from the person, a parameter
  table with no row for the key, an output that has no single value). Unknown carries the missing
  input names and reasons.
* `and`/`or`/`not` follow Kleene logic (`false and unknown` = false, `true or unknown` = true);
  `if c then a else b` with c unknown is unknown; every other operator with an unknown operand is
  unknown.
* A rule's applicability: `when` and `valid` hold and no rule in `unless` applies (Kleene).
* An output's value from the rules R that target it:
    - if any rule of R has unknown applicability, or an applying rule's value is unknown -> unknown;
    - values V = distinct values of the applying rules;
    - no applying rule: `default` if declared (unknown if it is unknown), else
      exactly_one -> gap, at_most_one -> none, set -> ok with the empty set;
    - set -> ok with V; single-valued: |V| = 1 -> ok, |V| > 1 -> conflict.
* An exactly_one output referred to in an expression stands for its value when status is ok, and
  is unknown otherwise (at_most_one outputs cannot be referred to); `'v' in s` for a set output
  is true iff v is in the set (unknown when the set is unknown).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, get_args

from solver.ir import Value
from solver.semantics.reasons import Reason

Status = Literal["ok", "none", "gap", "conflict", "unknown"]
STATUSES: tuple[Status, ...] = get_args(Status)  # the one list of status words
Person = Mapping[str, Value]


@dataclass(frozen=True)
class OutputResult:
    output: str
    status: Status
    values: tuple[Value, ...] = ()  # sorted, distinct
    rules: tuple[str, ...] = ()  # ids of the rules that applied, sorted
    missing: tuple[str, ...] = ()  # inputs whose absence made the result unknown, sorted
    reasons: tuple[Reason, ...] = ()  # other causes of unknown (typed; text only at the edge)

    @property
    def value(self) -> Value | None:
        return self.values[0] if self.status == "ok" and len(self.values) == 1 else None

    def key(self) -> tuple[object, ...]:
        """What backends must agree on (how much of a reason a backend can name differs)."""
        return (self.status, self.values, self.rules if self.status != "unknown" else ())


@dataclass(frozen=True)
class Decision:
    results: Mapping[str, OutputResult]
    options: Mapping[str, str] = field(default_factory=dict)
    backend: str = ""

    def __getitem__(self, output: str) -> OutputResult:
        return self.results[output]


class Backend(Protocol):
    """A backend is built once per resolved rule set and then decides persons."""

    name: str

    def decide(self, person: Person) -> Decision: ...


def sort_values(values: set[Value] | list[Value]) -> tuple[Value, ...]:
    # Values of one output share a type, so plain sorting works; bools sort False < True.
    return tuple(sorted(set(values), key=lambda v: (str(type(v)), v)))


BackendName = Literal["eval", "z3", "clingo"]

"""An encoding whose rules apply through named variables, so that an unsat core can name rules.

Every rule's applicability is a fresh variable tied to its definition by a separate equivalence
(`guards`). Asserting all equivalences gives the ordinary encoding; passing them as assumption
literals instead lets an unsat core name the rules (hence the clauses) that forbid an answer, as
IDP-Z3 explains from unsat cores."""

from __future__ import annotations

import z3

from solver import ir
from solver.semantics.symbolic import Encoding
from solver.semantics.terms import Sym


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

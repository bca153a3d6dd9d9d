"""Questions asked of the slice of the input domain they read.

The input constraints split the inputs into independent groups (inputs no constraint links). A
question about some inputs needs only the groups they fall in: the domains and constraints of
the other groups are met by any valid person's values for them, whatever the question asks. So
each question goes to a solver that holds only its groups (z3 is many times faster without the
unrelated date arithmetic of the others), and the person it finds is completed with one fixed
valid person's values for the rest. An unsatisfiable slice is unsatisfiable in full (it holds
fewer assertions); a satisfiable one is satisfiable in full once the whole domain has a person,
which the background person proves (without one, nothing is sliced)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from solver import ir
from solver.passes.deps import deps
from solver.query import Model, Query, Sat
from solver.semantics import goals
from solver.semantics.goals import Goal
from solver.semantics.symbolic import Encoding


class Slicer:
    """Solvers per (scope, groups of inputs), made on first use from the scope's own assertions."""

    def __init__(self, rs: ir.RuleSet, enc: Encoding, new_solver: Callable[..., Query]) -> None:
        self.rs, self.enc, self.new_solver = rs, enc, new_solver
        parent = {name: name for name in rs.inputs}

        def find(n: str) -> str:
            while parent[n] != n:
                parent[n] = parent[parent[n]]
                n = parent[n]
            return n

        def join(names: Iterable[str]) -> None:
            # sorted: a set's order follows the string hash seed, and the roots name the groups whose
            # order fixes the solvers' assertion order, hence the witnesses z3 picks
            names = [find(n) for n in sorted(names)]
            for n in names[1:]:
                parent[n] = names[0]

        # Each domain conjunct is about one input; each input constraint joins the inputs it reads.
        domain_of = [(term, enc.inputs_in(term)) for term in goals.conjuncts(enc.domain)]
        for _, names in domain_of:
            join(names)
        reads = deps(rs).constraints
        for c in rs.constraints:
            join(reads[c.id])
        self._group = {name: find(name) for name in rs.inputs}
        self._members: dict[str, list[str]] = {}
        for name, g in self._group.items():
            self._members.setdefault(g, []).append(name)
        self._assertions: dict[str, list[Goal]] = {g: [] for g in self._members}
        for term, names in domain_of:
            if names:
                self._assertions[self._group[min(names)]].append(term)
        for c in rs.constraints:
            if reads[c.id]:
                self._assertions[self._group[min(reads[c.id])]].append(enc.constraints[c.id])
        self._constant = [c for c in rs.constraints if not reads[c.id]]  # read no input: kept in every slice
        self._scopes: dict[int, tuple[str, Goal, frozenset[str]]] = {}
        self._solvers: dict[tuple[str, frozenset[str]], Query] = {}
        self._inputs_of_solver: dict[int, frozenset[str]] = {}
        self._background: dict[str, ir.Value] | bool | None = False  # False: not looked for yet

    def scope(self, s: Query, key: str, scope: Goal) -> None:
        """Register S, the full solver of SCOPE (keyed KEY), so questions asked of it can be sliced."""
        self._scopes[id(s)] = (key, scope, frozenset(self.enc.inputs_in(scope)))

    def background(self) -> dict[str, ir.Value] | None:
        """One valid person (None when z3 finds none, or gives up: then nothing is sliced)."""
        if self._background is False:
            found = self.new_solver(self.enc.valid).ask()  # behind a literal: z3 stays incremental
            self._background = self.enc.person_from_model(found.model) if isinstance(found, Sat) else None
        return self._background if isinstance(self._background, dict) else None

    def slice(self, s: Query, reads: Iterable[str]) -> Query | None:
        """The solver of the slice of S's scope that READS (input names) fall in; None: ask S."""
        if id(s) not in self._scopes or self.background() is None:
            return None
        key, scope, scope_inputs = self._scopes[id(s)]
        # Parameter rows are chosen by the time input, which the dependency cones leave out.
        time = (self.rs.time,) if self.rs.time in self._group else ()
        groups = frozenset(self._group[n] for n in (*reads, *scope_inputs, *time) if n in self._group)
        if (key, groups) not in self._solvers:
            assertions = [a for g in sorted(groups) for a in self._assertions[g]]
            assertions += [self.enc.constraints[c.id] for c in self._constant]
            sliced = self.new_solver(*assertions, scope)
            self._solvers[(key, groups)] = sliced
            self._inputs_of_solver[id(sliced)] = frozenset(n for g in groups for n in self._members[g])
        return self._solvers[(key, groups)]

    def person(self, sliced: Query, model: Model) -> dict[str, Any]:
        """The person of a slice's model: its own inputs from the model, the others from the
        background person."""
        own, rest = self._inputs_of_solver[id(sliced)], self.background()
        assert rest is not None
        out: dict[str, Any] = {}
        for name in self.rs.inputs:
            if name not in own:
                out[name] = rest[name]
                continue
            out[name] = self.enc.input_from_model(model, name)
        return out

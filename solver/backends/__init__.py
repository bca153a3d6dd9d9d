"""Backends behind one Protocol (base.Backend). `make` builds one by name."""

from __future__ import annotations

from solver.backends.base import Backend, BackendName
from solver.ir import RuleSet


def make(name: BackendName | str, rs: RuleSet) -> Backend:
    """A backend for a resolved rule set. Imports lazily: solvers load only when asked for."""
    if name == "eval":
        from solver.backends.eval_backend import EvalBackend

        return EvalBackend(rs)
    if name == "z3":
        from solver.backends.z3_backend import Z3Backend

        z3_backend: Backend = Z3Backend(rs)
        return z3_backend
    if name == "clingo":
        from solver.backends.clingo_backend import ClingoBackend

        clingo_backend: Backend = ClingoBackend(rs)
        return clingo_backend
    raise ValueError(f"unknown backend '{name}' (eval, z3, clingo)")


BACKENDS = ("eval", "z3", "clingo")

"""What every check shares: the marks of the persons witnessed, the disagreement error, conjuncts."""

from __future__ import annotations

from dataclasses import dataclass, field

from solver import ir
from solver.errors import EligError

ANY = "whole timeline"


class BackendDisagreement(EligError):
    """z3 produced a witness that eval, the reference, does not confirm: a backend bug."""


def conjuncts(e: ir.Expr) -> list[ir.Expr]:
    """Top-level conjuncts: `a and b` holds (is known true) iff both hold, also in Kleene logic."""
    if isinstance(e, ir.Binary) and e.op == "and":
        return conjuncts(e.left) + conjuncts(e.right)
    return [e]


@dataclass
class Marks:
    """What one interval's persons have witnessed so far (first witness of each)."""

    rules: dict[str, dict[str, ir.Value]] = field(default_factory=dict)
    values: dict[tuple[str, str], dict[str, ir.Value]] = field(default_factory=dict)
    gaps: dict[str, dict[str, ir.Value]] = field(default_factory=dict)
    conflicts: dict[tuple[str, tuple[str, ...]], dict[str, ir.Value]] = field(default_factory=dict)

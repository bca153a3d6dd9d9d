"""Test obligations of a rule set: what a good set of cases must exercise.

* rule: each rule applies in some case;
* condition (MC/DC): for each atomic condition of a rule, a pair of cases in which only that
  condition changes and the rule's result changes with it (here checked per case as the two
  halves: the rule's result with the condition true and with it false while the others hold
  so that the condition decides);
* boundary: each comparison of a number or date with a constant is seen at the constant, just
  below and just above it.

Obligations have stable ids so coverage, fixture generation and reports can refer to them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from solver import ir
from solver.printer import to_text

Kind = Literal["rule", "mcdc", "boundary"]


@dataclass(frozen=True)
class Obligation:
    id: str
    kind: Kind
    rule: str
    atom: ir.Expr | None = None  # the condition (mcdc) or comparison (boundary)
    polarity: bool | None = None  # mcdc: the condition's value in this half
    offset: int = 0  # boundary: -1 just below, 0 at, +1 just above the constant

    def describe(self) -> str:
        if self.kind == "rule":
            return f"{self.rule} applies"
        assert self.atom is not None
        if self.kind == "mcdc":
            return f"{self.rule}: '{to_text(self.atom)}' = {str(self.polarity).lower()} decides the rule"
        where = {-1: "just below", 0: "at", 1: "just above"}[self.offset]
        return f"{self.rule}: '{to_text(self.atom)}' {where} its boundary"


def atoms(e: ir.Expr) -> list[ir.Expr]:
    """The atomic conditions of a boolean expression (under and / or / not)."""
    if isinstance(e, ir.Binary) and e.op in ("and", "or"):
        return atoms(e.left) + atoms(e.right)
    if isinstance(e, ir.Unary) and e.op == "not":
        return atoms(e.arg)
    if isinstance(e, ir.Const):
        return []
    return [e]


def boundary_of(atom: ir.Expr) -> tuple[ir.Expr, Any] | None:
    """(operand, constant) for a comparison of a number or date with a constant."""
    if not (isinstance(atom, ir.Binary) and atom.op in ("<", "<=", ">", ">=", "==", "!=")):
        return None
    for var, const in ((atom.left, atom.right), (atom.right, atom.left)):
        if (
            isinstance(const, ir.Const)
            and not isinstance(var, ir.Const)
            and isinstance(const.value, dt.date | int)
            and not isinstance(const.value, bool)
        ):
            return var, const.value
    return None


def obligations(rs: ir.RuleSet) -> Iterator[Obligation]:
    for r in rs.rules:
        yield Obligation(f"{r.id}#applies", "rule", r.id)
        seen: set[str] = set()
        for i, a in enumerate(atoms(r.when)):
            text = to_text(a)
            if text in seen:
                continue
            seen.add(text)
            for pol in (True, False):
                yield Obligation(f"{r.id}#c{i}={'T' if pol else 'F'}", "mcdc", r.id, a, pol)
            if boundary_of(a) is not None:
                for off in (-1, 0, 1):
                    yield Obligation(f"{r.id}#c{i}@{off:+d}", "boundary", r.id, a, None, off)


def shift(v: Any, by: int) -> Any:
    return v + dt.timedelta(days=by) if isinstance(v, dt.date) else v + by


def _skeleton(e: ir.Expr, atom_values: dict[int, Any]) -> Any:
    """Evaluate e's and/or/not skeleton from its atoms' values (Kleene; None = unknown)."""
    if isinstance(e, ir.Binary) and e.op in ("and", "or"):
        a, b = _skeleton(e.left, atom_values), _skeleton(e.right, atom_values)
        if e.op == "and":
            return False if a is False or b is False else (True if a is True and b is True else None)
        return True if a is True or b is True else (False if a is False and b is False else None)
    if isinstance(e, ir.Unary) and e.op == "not":
        v = _skeleton(e.arg, atom_values)
        return None if v is None else not v
    if isinstance(e, ir.Const):
        return e.value
    v = atom_values.get(id(e))
    return v if isinstance(v, bool) else None


def met(ob: Obligation, rule: ir.Rule, applies: Any, value_of: Any) -> bool:
    """Whether one traced case meets the obligation. `value_of(node)` is the traced value."""
    if ob.kind == "rule":
        return applies is True
    atom = ob.atom
    assert atom is not None
    if ob.kind == "boundary":
        found = boundary_of(atom)
        assert found is not None
        operand, const = found
        return bool(value_of(operand) == shift(const, ob.offset))
    # mcdc (masking): the atom has the wanted value and flipping it alone flips the condition.
    values = {id(a): value_of(a) for a in atoms(rule.when)}
    if values.get(id(atom)) is not ob.polarity:
        return False
    flipped = dict(values)
    flipped[id(atom)] = not ob.polarity
    now, then = _skeleton(rule.when, values), _skeleton(rule.when, flipped)
    return now is not None and then is not None and now != then

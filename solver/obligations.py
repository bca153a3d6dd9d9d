"""Test obligations of a rule set: what a good set of cases must exercise.

* rule: each rule applies in some case;
* condition (MC/DC): for each atomic condition of a rule, a pair of cases in which only that
  condition changes and the rule's result changes with it (here checked per case as the two
  halves: the rule's result with the condition true and with it false while the others hold
  so that the condition decides);
* boundary: each edge is seen at its boundary, just below and just above it. An edge is a
  comparison of a number or date with a constant or with another number or date (in a rule's
  condition, or in a definition a rule reads), or a builtin that switches at a point: `min` /
  `max` (the arguments cross), `age_at` (the birthday) and `add_months` (the day runs past the
  end of the target month). The distance to the edge is an integer (days for dates), so
  "just below" is -1, "at" 0, "just above" +1.

Obligations have stable ids so coverage, fixture generation and reports can refer to them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from solver import dates, ir
from solver.passes.deps import deps
from solver.printer import to_text

Kind = Literal["rule", "mcdc", "boundary"]
Measure = Literal["const", "pair", "minmax", "age_at", "add_months"]
Path = tuple[tuple[ir.Expr, bool], ...]  # if-conditions (and the branch taken) above a node

_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")


@dataclass(frozen=True)
class Obligation:
    id: str
    kind: Kind
    rule: str  # "" for a boundary inside a definition
    atom: ir.Expr | None = None  # the condition (mcdc) or the edge node (boundary)
    polarity: bool | None = None  # mcdc: the condition's value in this half
    offset: int = 0  # boundary: -1 just below, 0 at, +1 just above the edge
    measure: Measure | None = None  # boundary: how the distance to the edge is measured
    definition: str = ""  # boundary inside this definition
    path: Path = ()  # boundary: the if-branches that lead to the node (it is evaluated only there)

    @property
    def where(self) -> str:
        return self.rule or f"definition {self.definition}"

    def describe(self) -> str:
        if self.kind == "rule":
            return f"{self.rule} applies"
        assert self.atom is not None
        text = to_text(self.atom)
        if self.kind == "mcdc":
            return f"{self.rule}: '{text}' = {str(self.polarity).lower()} decides the rule"
        where = {-1: "just below", 0: "at", 1: "just above"}[self.offset]
        what = {
            "const": "its boundary",
            "pair": "the point where both sides are equal",
            "minmax": "the point where both arguments are equal",
            "age_at": "the birthday",
            "add_months": "the last day of the target month",
            None: "its boundary",
        }[self.measure]
        return f"{self.where}: '{text}' {where} {what}"


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
    if not (isinstance(atom, ir.Binary) and atom.op in _COMPARISONS):
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


def _ordered(t: ir.Type) -> bool:
    return isinstance(t, ir.IntT | ir.DateT)


def measure_of(e: ir.Expr) -> Measure | None:
    """How far a person is from the edge of node e, or None when e is no edge."""
    if isinstance(e, ir.Binary) and e.op in _COMPARISONS and _ordered(e.left.type) and _ordered(e.right.type):
        if boundary_of(e) is not None:
            return "const"
        return None if isinstance(e.left, ir.Const) or isinstance(e.right, ir.Const) else "pair"
    if isinstance(e, ir.Call):
        if e.fn in ("min", "max") and not all(isinstance(a, ir.Const) for a in e.args):
            return "minmax"
        if e.fn == "age_at":
            return "age_at"
        if e.fn == "add_months":
            return "add_months"
    return None


def static_truth(e: ir.Expr) -> bool | None:
    """The value of a condition that no person can change (after options are resolved)."""
    if isinstance(e, ir.Const) and isinstance(e.value, bool):
        return e.value
    if isinstance(e, ir.Unary) and e.op == "not":
        v = static_truth(e.arg)
        return None if v is None else not v
    if (
        isinstance(e, ir.Binary)
        and e.op in ("==", "!=")
        and isinstance(e.left, ir.Const)
        and isinstance(e.right, ir.Const)
    ):
        return (e.left.value == e.right.value) == (e.op == "==")
    if isinstance(e, ir.Binary) and e.op in ("and", "or"):
        a, b = static_truth(e.left), static_truth(e.right)
        if e.op == "and":
            return False if False in (a, b) else (True if a is True and b is True else None)
        return True if True in (a, b) else (False if a is False and b is False else None)
    return None


def edges(e: ir.Expr, path: Path = ()) -> Iterator[tuple[ir.Expr, Path]]:
    """Every node of e (parents first) with the if-branches above it; branches that no person
    can reach (a condition fixed by the options) are left out."""
    yield e, path
    if isinstance(e, ir.Ite):
        yield from edges(e.cond, path)
        fixed = static_truth(e.cond)
        if fixed is not False:
            yield from edges(e.then, path if fixed is True else (*path, (e.cond, True)))
        if fixed is not True:
            yield from edges(e.other, path if fixed is False else (*path, (e.cond, False)))
        return
    for c in ir.children(e):
        yield from edges(c, path)


def read_definitions(rs: ir.RuleSet) -> list[str]:
    """Definitions the rules read (directly or through other definitions), in rule-set order."""
    return definition_cone(rs, (n for r in rs.rules for e in (r.when, *(v for _, v in r.then)) for n in ir.refs(e)))


def definition_cone(rs: ir.RuleSet, names: Iterable[str]) -> list[str]:
    """The definitions read by names, directly or through other definitions, in rule-set order."""
    seen = deps(rs).definitions_read(names)
    return [n for n in rs.order if n in seen]


def _boundaries(prefix: str, nodes: Iterator[tuple[ir.Expr, Path]], rule: str, definition: str) -> Iterator[Obligation]:
    seen: set[str] = set()
    j = 0
    for node, path in nodes:
        m = measure_of(node)
        if m is None:
            continue
        text = to_text(node)
        if text not in seen:
            seen.add(text)
            for off in (-1, 0, 1):
                yield Obligation(f"{prefix}{j}@{off:+d}", "boundary", rule, node, None, off, m, definition, path)
        j += 1


def obligations(rs: ir.RuleSet) -> Iterator[Obligation]:
    for r in rs.rules:
        yield Obligation(f"{r.id}#applies", "rule", r.id)
        seen: set[str] = set()
        found = atoms(r.when)
        for i, a in enumerate(found):
            text = to_text(a)
            if text in seen:
                continue
            seen.add(text)
            for pol in (True, False):
                yield Obligation(f"{r.id}#c{i}={'T' if pol else 'F'}", "mcdc", r.id, a, pol)
            m = measure_of(a)
            if m in ("const", "pair"):
                for off in (-1, 0, 1):
                    yield Obligation(f"{r.id}#c{i}@{off:+d}", "boundary", r.id, a, None, off, m)

        def inner(found: list[ir.Expr] = found) -> Iterator[tuple[ir.Expr, Path]]:
            for a in found:
                for node, path in edges(a):
                    if node is not a:
                        yield node, path

        yield from _boundaries(f"{r.id}#e", inner(), r.id, "")
    for name in read_definitions(rs):
        yield from _boundaries(f"def:{name}#e", edges(rs.definitions[name].expr), "", name)


def shift(v: Any, by: int) -> Any:
    return v + dt.timedelta(days=by) if isinstance(v, dt.date) else v + by


def _num(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, dt.date):
        return v.toordinal()
    return v if isinstance(v, int) else None


def distance(ob: Obligation, value_of: Callable[[ir.Expr], Any]) -> int | None:
    """How far a traced case is from the obligation's edge (None: not evaluated or unknown)."""
    node = ob.atom
    assert node is not None and ob.measure is not None
    for cond, pol in ob.path:
        if value_of(cond) is not pol:
            return None
    if ob.measure == "const":
        found = boundary_of(node)
        assert found is not None
        a, b = _num(value_of(found[0])), _num(found[1])
        return None if a is None or b is None else a - b
    if ob.measure == "pair":
        assert isinstance(node, ir.Binary)
        a, b = _num(value_of(node.left)), _num(value_of(node.right))
        return None if a is None or b is None else a - b
    assert isinstance(node, ir.Call)
    x, y = value_of(node.args[0]), value_of(node.args[1])
    if ob.measure == "minmax":
        a, b = _num(x), _num(y)
        return None if a is None or b is None else a - b
    if ob.measure == "age_at":
        if not (isinstance(x, dt.date) and isinstance(y, dt.date)):
            return None
        # The day the age goes up in y's year (29 Feb births: 1 Mar in common years).
        return dates.day_number(y.year, y.month, y.day) - dates.day_number(y.year, x.month, x.day)
    if not isinstance(x, dt.date) or _num(y) is None:
        return None
    total = 12 * x.year + x.month - 1 + int(y)
    return x.day - dates.month_length(total // 12, total % 12 + 1)


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


def met(ob: Obligation, rule: ir.Rule | None, applies: Any, value_of: Callable[[ir.Expr], Any]) -> bool:
    """Whether one traced case meets the obligation. `value_of(node)` is the traced value."""
    if ob.kind == "rule":
        return applies is True
    if ob.kind == "boundary":
        return distance(ob, value_of) == ob.offset
    atom = ob.atom
    assert atom is not None and rule is not None
    # mcdc (masking): the atom has the wanted value and flipping it alone flips the condition.
    values = {id(a): value_of(a) for a in atoms(rule.when)}
    if values.get(id(atom)) is not ob.polarity:
        return False
    flipped = dict(values)
    flipped[id(atom)] = not ob.polarity
    now, then = _skeleton(rule.when, values), _skeleton(rule.when, flipped)
    return now is not None and then is not None and now != then


def _values(e: ir.Expr, atom_values: Mapping[int, Any], out: dict[int, Any]) -> Any:
    """Like _skeleton, recording the value of every and/or/not node and atom in out."""
    v: Any
    if isinstance(e, ir.Binary) and e.op in ("and", "or"):
        a, b = _values(e.left, atom_values, out), _values(e.right, atom_values, out)
        if e.op == "and":
            v = False if a is False or b is False else (True if a is True and b is True else None)
        else:
            v = True if a is True or b is True else (False if a is False and b is False else None)
    elif isinstance(e, ir.Unary) and e.op == "not":
        inner = _values(e.arg, atom_values, out)
        v = None if inner is None else not inner
    elif isinstance(e, ir.Const):
        v = e.value
    else:
        raw = atom_values.get(id(e))
        v = raw if isinstance(raw, bool) else None
    out[id(e)] = v
    return v


Siblings = tuple[tuple[str, ir.Expr], ...]  # (and / or, the other operand) from an atom up to the root


def _paths(e: ir.Expr, above: Siblings, out: dict[int, Siblings]) -> None:
    """For every atom of e: the (and / or, sibling) pairs on the way up to the root."""
    if isinstance(e, ir.Binary) and e.op in ("and", "or"):
        _paths(e.left, (*above, (e.op, e.right)), out)
        _paths(e.right, (*above, (e.op, e.left)), out)
    elif isinstance(e, ir.Unary) and e.op == "not":
        _paths(e.arg, above, out)
    elif not isinstance(e, ir.Const):
        out.setdefault(id(e), above)


class Meter:
    """Which obligations one traced case meets: `met` for each, with every rule's condition
    analysed once. Flipping one atom of an and/or/not tree flips the (known) result exactly when
    every sibling on its way to the root is known and does not decide on its own (true under
    `and`, false under `or`); so a half needs one pass over the condition, not one per atom."""

    def __init__(self, obs: Sequence[Obligation], rs: ir.RuleSet) -> None:
        rules = {r.id: r for r in rs.rules}
        self.rules: list[tuple[str, str]] = []  # (obligation id, rule id)
        self.edges: dict[str, tuple[Obligation, list[tuple[int, str]]]] = {}
        self.conditions: dict[str, tuple[ir.Rule, list[ir.Expr], dict[int, Siblings], list[Obligation]]] = {}
        for ob in obs:
            if ob.kind == "rule":
                self.rules.append((ob.id, ob.rule))
            elif ob.kind == "boundary":
                key = ob.id.rpartition("@")[0]
                self.edges.setdefault(key, (ob, []))[1].append((ob.offset, ob.id))
            else:
                if ob.rule not in self.conditions:
                    rule = rules[ob.rule]
                    paths: dict[int, Siblings] = {}
                    _paths(rule.when, (), paths)
                    self.conditions[ob.rule] = (rule, atoms(rule.when), paths, [])
                self.conditions[ob.rule][3].append(ob)

    def met(self, applies: Mapping[str, Any], value_of: Callable[[ir.Expr], Any]) -> set[str]:
        out = {oid for oid, rid in self.rules if applies.get(rid) is True}
        for ob, offsets in self.edges.values():
            d = distance(ob, value_of)
            out.update(oid for off, oid in offsets if off == d)
        for rule, found, paths, halves in self.conditions.values():
            node_values: dict[int, Any] = {}
            _values(rule.when, {id(a): value_of(a) for a in found}, node_values)
            for ob in halves:
                if node_values.get(id(ob.atom)) is not ob.polarity:
                    continue
                if all(node_values[id(sib)] is (op == "and") for op, sib in paths[id(ob.atom)]):
                    out.add(ob.id)
        return out


def met_all(
    obs: Sequence[Obligation], rs: ir.RuleSet, applies: Mapping[str, Any], value_of: Callable[[ir.Expr], Any]
) -> set[str]:
    """The ids of the obligations one traced case meets (see Meter, which is faster per case)."""
    return Meter(obs, rs).met(applies, value_of)

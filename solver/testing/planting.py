"""What every mutant class uses: the Mutant, the places expressions live, one candidate per node, a sample."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass

from solver import ir
from solver.passes.options import map_expr

PROGRAMMES = ("resident", "employee", "college")


@dataclass(frozen=True)
class Mutant:
    id: str
    operator: str  # the class: one of OWN_OPERATORS or DRAFTING
    rs: ir.RuleSet  # unresolved: options are still references, as in the files
    what: str = ""  # the change, before -> after
    programme: str = ""
    semantic: bool = True  # the defect is a change of decisions (an equivalent one is no defect)


def and_all(parts: list[ir.Expr]) -> ir.Expr:
    out = parts[0]
    for p in parts[1:]:
        out = ir.Binary("and", out, p, ir.BOOL)
    return out


def replace_rule(rs: ir.RuleSet, rule: ir.Rule) -> ir.RuleSet:
    return dataclasses.replace(rs, rules=tuple(rule if r.id == rule.id else r for r in rs.rules))


def add_rule(rs: ir.RuleSet, rule: ir.Rule) -> ir.RuleSet:
    return dataclasses.replace(rs, rules=(*rs.rules, rule))


def spread(items: list[ir.Rule], n: int) -> list[ir.Rule]:
    """n items spread over the list (deterministic)."""
    if len(items) <= n:
        return items
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def programme_of(loc: ir.Loc, name: str = "") -> str:
    """The programme a rule, definition or table belongs to: its folder (tables: their name)."""
    for p in PROGRAMMES:
        if f"/{p}/" in loc.file or name.startswith(f"{p}_") or name.startswith(f"{p}."):
            return p
    return "resident" if "/parameters/" in loc.file else "shared"


def text(e: ir.Expr) -> str:
    from solver.printer import to_text

    return to_text(e)


def _nodes(e: ir.Expr, pred: Callable[[ir.Expr, ir.Expr | None], bool]) -> int:
    """How many nodes of e (with their parent) meet pred, in map_expr's pre-order."""
    count = 0

    def visit(n: ir.Expr, parent: ir.Expr | None) -> None:
        nonlocal count
        if pred(n, parent):
            count += 1
        for c in ir.children(n):
            visit(c, n)

    visit(e, None)
    return count


def _replace_nth(
    e: ir.Expr, pred: Callable[[ir.Expr, ir.Expr | None], bool], k: int, fn: Callable[[ir.Expr], ir.Expr]
) -> ir.Expr:
    """e with the k-th node meeting pred (pre-order, as _nodes counts) replaced by fn(node)."""
    seen = -1
    parents: dict[int, ir.Expr | None] = {}

    def note(n: ir.Expr, parent: ir.Expr | None) -> None:
        parents[id(n)] = parent
        for c in ir.children(n):
            note(c, n)

    note(e, None)

    def sub(n: ir.Expr) -> ir.Expr | None:
        nonlocal seen
        if pred(n, parents.get(id(n))):
            seen += 1
            if seen == k:
                return fn(n)
        return None

    return map_expr(e, sub)


@dataclass(frozen=True)
class Site:
    """One place an expression lives: a rule's when / then value, or a definition."""

    label: str
    programme: str
    expr: ir.Expr
    put: Callable[[ir.Expr], ir.RuleSet]


def sites(rs: ir.RuleSet, *, when: bool = True, then: bool = True, definitions: bool = True) -> list[Site]:
    out: list[Site] = []
    if definitions:
        for name, d in sorted(rs.definitions.items()):

            def put_def(e: ir.Expr, d: ir.Definition = d) -> ir.RuleSet:
                return dataclasses.replace(rs, definitions={**rs.definitions, d.name: dataclasses.replace(d, expr=e)})

            out.append(Site(f"definition {name}", programme_of(d.loc, name), d.expr, put_def))
    for r in sorted(rs.rules, key=lambda r: r.id):
        if when:

            def put_when(e: ir.Expr, r: ir.Rule = r) -> ir.RuleSet:
                return replace_rule(rs, dataclasses.replace(r, when=e))

            out.append(Site(f"{r.id} when", programme_of(r.loc, r.id), r.when, put_when))
        if then:
            for i, (o, v) in enumerate(r.then):

                def put_then(e: ir.Expr, r: ir.Rule = r, i: int = i, o: str = o) -> ir.RuleSet:
                    then = list(r.then)
                    then[i] = (o, e)
                    return replace_rule(rs, dataclasses.replace(r, then=tuple(then)))

                out.append(Site(f"{r.id} then {o}", programme_of(r.loc, r.id), v, put_then))
    return out


def node_mutants(
    rs: ir.RuleSet,
    operator: str,
    sites: list[Site],
    pred: Callable[[ir.Expr, ir.Expr | None], bool],
    change: Callable[[ir.Expr], ir.Expr | None],
) -> list[Mutant]:
    """One candidate per matching node of every site: the node replaced by change(node)."""
    out: list[Mutant] = []
    for site in sites:
        for k in range(_nodes(site.expr, pred)):
            box: list[tuple[ir.Expr, ir.Expr]] = []

            def fn(n: ir.Expr, box: list[tuple[ir.Expr, ir.Expr]] = box) -> ir.Expr:
                new = change(n)
                if new is None:
                    return n
                box.append((n, new))
                return new

            mutated = _replace_nth(site.expr, pred, k, fn)
            if not box:
                continue
            before, after = box[0]
            what = f"{site.label}: {text(before)} -> {text(after)}"
            out.append(Mutant(f"{operator}:{site.label}#{k}", operator, site.put(mutated), what, site.programme))
    return out


def sample(candidates: list[Mutant], n: int, rng: random.Random) -> list[Mutant]:
    """n candidates at random, round-robin over the programmes that have candidates."""
    by: dict[str, list[Mutant]] = {}
    for m in candidates:
        by.setdefault(m.programme, []).append(m)
    pools = [rng.sample(ms, len(ms)) for _, ms in sorted(by.items())]
    out: list[Mutant] = []
    while len(out) < n and any(pools):
        for pool in pools:
            if pool and len(out) < n:
                out.append(pool.pop())
    return out

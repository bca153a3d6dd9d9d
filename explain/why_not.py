"""Why an output does not have a value: for each rule that could give it, a smallest set of its
failed conditions whose holding would make it apply.

A rule's condition is split into literals (atoms with a polarity, validity bounds, exceptions)
under a monotone and/or skeleton; z3 finds the fewest failed literals some valid person makes
hold (over the guarded encoding of explain/symbolic.py), and eval's trace says which fail now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from explain.derivation import Explainer, Lang, Step, flatten
from explain.symbolic import Symbolic
from solver import ir
from solver.backends.base import Decision
from solver.backends.eval_backend import Trace
from solver.query import Answer, Query, Sat, Unknown, Unsat, minimize
from solver.semantics import goals
from solver.semantics.goals import Goal
from solver.semantics.symbolic import Encoding


@dataclass(frozen=True)
class Lit:
    """An atomic condition of a rule with its polarity: a comparison, membership or boolean name
    (`atom`), or "exception `exception` does not apply"."""

    atom: ir.Expr | None
    positive: bool
    kind: Literal["condition", "validity", "exception"] = "condition"
    exception: str = ""


# A rule's applicability as a monotone formula over literal indices (negations pushed to atoms).
Skeleton = tuple[str, tuple["Skeleton", ...], int]


def rule_literals(ex: Explainer, r: ir.Rule) -> tuple[list[Lit], Skeleton]:
    """The literals of a rule (when in negation normal form, validity bounds, exceptions) and the
    and/or skeleton over them. In Kleene logic `holds(when)` is this skeleton over `holds(lit)`."""
    lits: list[Lit] = []

    def nnf(e: ir.Expr, positive: bool) -> Skeleton:
        if isinstance(e, ir.Binary) and e.op in ("and", "or"):
            op = e.op if positive else {"and": "or", "or": "and"}[e.op]
            return (op, tuple(nnf(p, positive) for p in flatten(e, e.op)), -1)
        if isinstance(e, ir.Unary) and e.op == "not":
            return nnf(e.arg, not positive)
        lits.append(Lit(e, positive))
        return ("lit", (), len(lits) - 1)

    parts = [nnf(r.when, True)]
    if r.valid:
        for a in ex.validity_atoms(r.valid):
            lits.append(Lit(a, True, "validity"))
            parts.append(("lit", (), len(lits) - 1))
    for u in r.unless:
        lits.append(Lit(None, True, "exception", u))
        parts.append(("lit", (), len(lits) - 1))
    return lits, ("and", tuple(parts), -1)


def lit_holds(ex: Explainer, lit: Lit) -> bool | None:
    """Whether the literal holds for this person now (None: unknown)."""
    if lit.kind == "exception":
        a = ex.trace.applies.get(lit.exception)
        return (not a) if isinstance(a, bool) else None
    assert lit.atom is not None
    v = ex.value(lit.atom)
    return (v if lit.positive else not v) if isinstance(v, bool) else None


def lit_step(ex: Explainer, lit: Lit) -> Step:
    holds = lit_holds(ex, lit)
    if lit.kind == "exception":
        r = ex.rs.rule(lit.exception)
        inner = ex.rule(r)
        title = f"{lit.exception}: {ex.verdict(ex.trace.applies.get(lit.exception))}"
        return Step("exception", title, holds, r.cites, r.quote, inner.children, unknown=holds is None)
    assert lit.atom is not None
    cond = ex.condition(lit.atom)
    if lit.kind == "validity":
        return Step("validity", f"{ex.w('in_force')}: {cond.title}", holds, unknown=holds is None)
    if lit.positive:
        return cond
    return Step("condition", ex.w("not"), holds, children=(cond,), unknown=holds is None)


@dataclass(frozen=True)
class MinimalFailure:
    """A smallest set of a rule's failed literals that must hold for the rule to apply (and give
    the asked value). `realizable`: some valid person makes exactly these hold; otherwise the set
    is the propositional minimum and no valid person meets the rule. `proven`: False on timeout."""

    literals: tuple[int, ...]
    failed: int
    realizable: bool
    proven: bool
    contradictory: bool = False


def why_not(
    rs: ir.RuleSet,
    decision: Decision,
    trace: Trace,
    output: str,
    value: Any,
    lang: Lang = "en",
    *,
    symbolic: Symbolic | None = None,
    timeout_ms: int | None = None,
    source: ir.RuleSet | None = None,
) -> Step:
    """Why `output` is not `value`: for each rule that could give it, a smallest set of its failed
    conditions (found with z3 over the rule's literals) whose holding would make it apply."""
    ex = Explainer(rs, decision, trace, lang, source)
    sym = symbolic or Symbolic(rs)
    o = rs.outputs[output]
    result = decision.results[output]
    has = result.status == "ok" and value in result.values
    head = f"{ex.label(output)} = {ex.show(value, o.type)}: {ex.w('it_is' if has else 'it_is_not')}"
    steps: list[Step] = []
    for r in rs.rules_for(output):
        given = dict(r.then)[output]
        if isinstance(given, ir.Const) and given.value != value:
            continue
        applies = trace.applies.get(r.id)
        reasons: list[Step] = []
        if applies is True:
            got = ex.value(given)
            if got != value:
                reasons.append(Step("note", f"{ex.w('applies_gives')} {ex.show(got, o.type)}"))
            elif not has:
                reasons.append(Step("note", ex.w("applies_conflict")))
        else:
            lits, skeleton = rule_literals(ex, r)
            now = [lit_holds(ex, lit) for lit in lits]
            target = None if isinstance(given, ir.Const) else given
            mf = minimal_failure(sym, r, lits, skeleton, now, target, value, timeout_ms)
            if mf.contradictory:
                reasons.append(Step("note", ex.w("contradictory")))
            else:
                note = f"{ex.w('minimal')}: {len(mf.literals)} {ex.w('of')} {mf.failed}"
                if not mf.realizable:
                    note += f"; {ex.w('unreachable')}"
                if not mf.proven:
                    note += f"; {ex.w('not_minimal')}"
                reasons.append(Step("note", note))
                reasons += [lit_step(ex, lits[i]) for i in mf.literals]
        holds = applies if isinstance(applies, bool) else None
        steps.append(Step("rule", r.id, holds, r.cites, r.quote, tuple(reasons), unknown=holds is None))
    if o.default is not None:
        d = ex.value(o.default)
        applying = [r.id for r in rs.rules_for(output) if trace.applies.get(r.id) is True]
        if d == value and applying:
            steps.append(Step("default", f"{ex.w('default_blocked')} {', '.join(applying)}"))
        elif d != value and not applying:
            steps.append(Step("default", f"{ex.w('default_other')} {ex.show(d, o.type)}"))
    if not steps:
        steps.append(Step("note", ex.w("no_rule")))
    return Step("output", head, has, children=tuple(steps))


# ---------------------------------------------------------------- the z3 side


def lit_term(enc: Encoding, lit: Lit) -> Goal:
    """The literal holds (known and true) as a goal."""
    if lit.kind == "exception":
        return goals.fails(enc.applies[lit.exception])
    assert lit.atom is not None
    s = enc.expr(lit.atom)
    return goals.holds(s) if lit.positive else goals.fails(s)


def _skeleton(sk: Skeleton, var: Mapping[int, Goal]) -> Goal:
    op, kids, i = sk
    if op == "lit":
        return var[i]
    parts = [_skeleton(k, var) for k in kids]
    return goals.all_of(parts) if op == "and" else goals.any_of(parts)


def minimal_failure(
    sym: Symbolic,
    rule: ir.Rule,
    lits: Sequence[Lit],
    skeleton: Skeleton,
    now: Sequence[bool | None],
    target: ir.Expr | None,
    value: Any,
    timeout_ms: int | None = None,
) -> MinimalFailure:
    """The fewest of the rule's currently failed literals that some valid person makes hold while
    the rule applies (and its `then` gives `value` when that is not a constant). Because the
    skeleton is monotone, making those hold and keeping the others is enough for the rule to apply.
    If no valid person meets the rule, the propositional minimum over the skeleton is returned."""
    enc = sym.enc
    failed = [i for i, h in enumerate(now) if h is not True]
    terms = [lit_term(enc, lit) for lit in lits]
    s = Query(*sym.hard(sym.slice(rules=[rule.id])), enc.applying(rule.id), timeout_ms=timeout_ms)
    if target is not None:
        t = enc.expr(target)
        s.add(t.known, goals.equals(enc, t.value, value, target.type))
    # The least k such that at most k failed literals hold (every smaller k refuted): an
    # incremental solver call per k, cheaper than Optimize here as the minimum is usually 1-3.
    res: Answer = Unsat()
    for k in range(len(failed) + 1):
        res = s.check(goals.at_most([terms[i] for i in failed], k)) if failed else s.check()
        if not isinstance(res, Unsat):
            break
    if isinstance(res, Sat):
        chosen = tuple(i for i in failed if res.holds(terms[i]))
        return MinimalFailure(chosen, len(failed), realizable=True, proven=True)
    if isinstance(res, Unknown):
        return MinimalFailure(tuple(failed), len(failed), realizable=True, proven=False)
    # No valid person meets the rule: the propositional minimum (same atom, same variable).
    atom_var: dict[object, Goal] = {}
    var: dict[int, Goal] = {}
    for i, lit in enumerate(lits):
        key: object = ("exception", lit.exception) if lit.kind == "exception" else lit.atom
        if key not in atom_var:
            atom_var[key] = goals.flag(f"prop!{len(atom_var)}")
        var[i] = atom_var[key] if lit.positive else goals.negate(atom_var[key])
    best = minimize([_skeleton(skeleton, var)], [goals.count([var[i] for i in failed])])
    if not isinstance(best, Sat):
        return MinimalFailure((), len(failed), realizable=False, proven=True, contradictory=True)
    chosen = tuple(i for i in failed if best.holds(var[i]))
    return MinimalFailure(chosen, len(failed), realizable=False, proven=True)

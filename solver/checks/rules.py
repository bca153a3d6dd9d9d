"""The checks about the rules themselves: unreachable rules and values, dead exceptions, redundant rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from solver import ir
from solver.checks.basics import ANY, BackendDisagreement, Marks
from solver.checks.findings import Finding
from solver.query import Answer, Query, Sat, Unknown, Unsat
from solver.semantics import goals
from solver.semantics.goals import Goal

if TYPE_CHECKING:
    from solver.checks.engine import Checker


def reachability(ck: Checker, s: Query, scope: Goal, marks: Marks, label: str) -> list[Finding]:
    """Ask for a person to whom each not-yet-seen rule applies; each answer marks every rule
    it witnesses, so most rules need no query of their own."""
    out: list[Finding] = []
    answers: dict[str, Answer] = {}
    for r in ck.active:
        if r.id in marks.rules:
            continue  # witnessed by an earlier answer
        res, person = ck.ask(s, ck.enc.applying(r.id), marks=marks, reads=ck.rule_cones[r.id])
        if isinstance(res, Sat) and r.id not in marks.rules:
            raise BackendDisagreement(f"z3 says {r.id} applies to {person}; eval says it does not")
        answers[r.id] = res
    for r in ck.active:
        if r.id in marks.rules:
            continue
        if isinstance(answers[r.id], Unknown):
            out.append(ck.undecided(r.id, [r.id], f"can {r.id} apply?", label))
            continue
        core = ck.core(scope, ck.rule_parts(r))
        text, _, clauses = ck.describe_core(core or [])
        why = f"no valid person meets it: {text}" if text else "no valid person meets its conditions"
        out.append(ck.finding("unreachable_rule", r.id, [r.id], why, label, clauses=clauses))
    return out


def values(ck: Checker, s: Query, marks: Marks, label: str) -> list[Finding]:
    out: list[Finding] = []
    for o, t in ck.enum_outputs():
        givers = {v: [r.id for r in ck.rs.rules_for(o.name) if _gives(r, o.name, v)] for v in t.values}
        for v in t.values:
            if (o.name, v) in marks.values:
                continue
            goal = goals.output_is(ck.enc, o.name, v)
            res, person = ck.ask(s, goal, marks=marks, reads=ck.cones[o.name])
            subject = f"{o.name}={v}"
            if isinstance(res, Sat):
                if (o.name, v) not in marks.values:
                    raise BackendDisagreement(f"z3 says {subject} for {person}; eval does not")
            elif isinstance(res, Unknown):
                out.append(ck.undecided(subject, givers[v], f"can {subject} occur?", label))
            else:
                rules = givers[v]
                dead = [r for r in rules if r not in marks.rules]
                if not rules:
                    why = "no rule gives this value" + (" and the default is another" if o.default else "")
                elif len(dead) == len(rules):
                    why = f"every rule that gives it can never apply: {', '.join(rules)}"
                else:
                    why = (
                        f"the rules that give it ({', '.join(rules)}) apply only where another value "
                        "is also given (a conflict) or the value is unknown"
                    )
                out.append(ck.finding("unreachable_value", subject, rules, why, label))
    return out


def dead_exceptions(ck: Checker, s: Query, scope: Goal, label: str, marks: Marks) -> list[Finding]:
    """Each exception must overlap its rule; the person showing it also marks what it witnesses."""
    out: list[Finding] = []
    for r in ck.active:
        base = ck.rule_parts(r, exceptions=False)
        for u in r.unless:
            if u in ck.inactive:
                continue
            reads = ck.rule_cones[r.id] | ck.rule_cones[u]
            res, _ = ck.ask(s, *base.values(), ck.enc.applying(u), marks=marks, reads=reads)
            if isinstance(res, Sat):
                continue
            subject = f"{r.id} unless {u}"
            if isinstance(res, Unknown):
                out.append(ck.undecided(subject, [r.id, u], f"does {u} overlap {r.id}?", label))
                continue
            tracked = {**base, **ck.rule_parts(ck.by_id[u])}
            text, _, clauses = ck.describe_core(ck.core(scope, tracked) or [])
            why = f"{u} never applies where {r.id} would, so the exception changes nothing" + (
                f": {text}" if text else ""
            )
            out.append(ck.finding("dead_exception", subject, [r.id, u], why, label, clauses=clauses))
    return out


def redundant(ck: Checker, s: Query, marks: Marks, label: str) -> list[Finding]:
    """r is redundant when every person it applies to also gets the same outcome from another
    rule; of two equivalent rules only the second (by id) is reported."""
    out: list[Finding] = []
    groups: dict[tuple[tuple[str, str], ...], list[ir.Rule]] = {}
    for r in ck.active:
        if r.id in marks.rules and r.then and all(isinstance(v, ir.Const) for _, v in r.then):
            key = tuple(sorted((o, repr(cast(ir.Const, v).value)) for o, v in r.then))
            groups.setdefault(key, []).append(r)
    subsumed: dict[tuple[str, str], bool] = {}
    # The persons already found settle most pairs without a query: one to whom a applies and
    # b does not shows that a is not within b.
    seen = [ck.ref.applies(p) for p in {id(p): p for p in marks.rules.values()}.values()]

    def within(a: str, b: str) -> bool:
        if (a, b) not in subsumed and any(ap[a] is True and ap[b] is not True for ap in seen):
            subsumed[(a, b)] = False
        if (a, b) not in subsumed:
            reads = ck.rule_cones[a] | ck.rule_cones[b]
            res, _ = ck.ask(s, ck.enc.applying(a), goals.negate(ck.enc.applying(b)), reads=reads)
            subsumed[(a, b)] = isinstance(res, Unsat)  # unknown: redundancy is advice, not claimed
        return subsumed[(a, b)]

    for rules in groups.values():
        for r in rules:
            for other in rules:
                if other.id == r.id or not within(r.id, other.id):
                    continue
                if within(other.id, r.id) and r.id < other.id:
                    continue  # equivalent pair: reported once, under the larger id
                why = (
                    f"wherever {r.id} applies, {other.id} applies too and gives the same "
                    f"{', '.join(o for o, _ in r.then)}; {r.id} changes no decision"
                )
                out.append(ck.finding("redundant_rule", r.id, [r.id, other.id], why, label))
                break
    return out


def switched_off_findings(ck: Checker) -> list[Finding]:
    """Rules the options in force switch off: each must be accepted (the other reading of an
    ambiguity), so that a rule switched off by accident shows."""
    return [
        ck.finding("switched_off", rid, [rid], f"`{test}` is false under the options in force", ANY)
        for rid, test in ck.inactive.items()
    ]


def _gives(r: ir.Rule, output: str, value: str) -> bool:
    e = dict(r.then)[output]
    if isinstance(e, ir.Const):
        return e.value == value
    return any(isinstance(n, ir.Const) and n.value == value for n in ir.walk(e))

"""Counterfactuals: the smallest change to a person that gives an output a value.

"Smallest" is lexicographic: fewest changed fields first, then the smallest total distance (|Δ|
for ints and money, days for dates, 1 for a changed bool or enum). The change stays inside every
input's domain and the input constraints, and keeps the `fix` fields as they are. z3 finds it
over the guarded encoding of the output's slice (explain/symbolic.py), either with Optimize and
two lexicographic objectives or (the default, faster on the date-heavy slices) with incremental
solver calls that prove the same optimum; the eval backend, the reference
semantics, re-decides the changed person before anything is reported, and a disagreement is an
error rather than an answer.

When no change exists the guards become assumption literals (one per rule definition, input
constraint and fixed field): the unsat core, made irreducible by deletion, says which rules (hence
clauses), constraints and fixed fields forbid the value. A solver timeout is `unknown`, never
"no change".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from explain.derivation import Explainer, Lang, Step, Words, broken_constraints
from explain.symbolic import Slice, Symbolic
from solver import ir
from solver.backends.base import OutputResult, Person
from solver.backends.eval_backend import EvalBackend
from solver.errors import EligError, InputError
from solver.query import Engine, Query, Sat, Unknown, Unsat, fewest_changes
from solver.semantics import goals
from solver.semantics.goals import Goal


class ExplanationMismatch(EligError):
    """z3 and the eval backend disagree about an answer: a bug in an encoding, never a result."""


@dataclass(frozen=True)
class Change:
    field: str
    old: ir.Value | None  # None: the field was missing and had to be filled in
    new: ir.Value
    distance: int  # |Δ| (ints, money), days (dates), 1 (bool, enum); 0 for a filled-in field


@dataclass(frozen=True)
class Blocker:
    """One part of an unsat core: a rule's definition, an input constraint or a fixed field."""

    kind: Literal["rule", "constraint", "fixed"]
    id: str
    clauses: tuple[str, ...] = ()
    quote: str = ""
    doc: str = ""


CfStatus = Literal["already", "found", "impossible", "unknown"]


@dataclass(frozen=True)
class Counterfactual:
    output: str
    value: ir.Value
    status: CfStatus
    changes: tuple[Change, ...] = ()
    person: Mapping[str, ir.Value] = field(default_factory=dict)  # the changed person (found)
    fixed: tuple[str, ...] = ()
    blockers: tuple[Blocker, ...] = ()
    reason: str = ""  # unknown: what the solver said; impossible: a note on the core
    result: OutputResult | None = None  # the eval backend's result on the changed person

    @property
    def changed(self) -> tuple[Change, ...]:
        """The changes that count (fields that had a value)."""
        return tuple(c for c in self.changes if c.old is not None)

    @property
    def distance(self) -> int:
        return sum(c.distance for c in self.changed)

    def to_json(self) -> dict[str, Any]:
        def js(v: Any) -> Any:
            return v.isoformat() if isinstance(v, dt.date) else v

        return {
            "output": self.output,
            "value": js(self.value),
            "status": self.status,
            "changes": [
                {"field": c.field, "old": js(c.old), "new": js(c.new), "distance": c.distance} for c in self.changes
            ],
            "changed_fields": len(self.changed),
            "distance": self.distance,
            "fixed": list(self.fixed),
            "blockers": [
                {"kind": b.kind, "id": b.id, "clauses": list(b.clauses), **({"doc": b.doc} if b.doc else {})}
                for b in self.blockers
            ],
            "reason": self.reason,
        }


def has_value(r: OutputResult, value: ir.Value, cardinality: str) -> bool:
    if r.status != "ok":
        return False
    return value in r.values if cardinality == "set" else r.values == (value,)


def distance(t: ir.Type, old: ir.Value, new: ir.Value) -> int:
    if isinstance(old, dt.date) and isinstance(new, dt.date):
        return abs((new - old).days)
    if isinstance(t, ir.IntT) and isinstance(old, int) and isinstance(new, int):
        return abs(new - old)
    return int(old != new)


def counterfactual(
    sym: Symbolic,
    ev: EvalBackend,
    person: Person,
    output: str,
    value: ir.Value,
    fix: Sequence[str] = (),
    timeout_ms: int | None = None,
    engine: Engine = "search",
) -> Counterfactual:
    """The smallest change to `person` that gives `output` the value `value` (see module doc).
    `engine`: "search" (incremental solver calls, the default) or "optimize" (z3 Optimize);
    both find the same lexicographic optimum, which may differ only in ties."""
    rs = sym.rs
    for f in fix:
        if f not in rs.inputs:
            raise InputError("--fix", f"unknown field '{f}'", allowed=", ".join(sorted(rs.inputs)))
        if f not in person:
            raise InputError("--fix", f"field '{f}' is missing from the person, so it cannot be kept")
    card = rs.outputs[output].cardinality
    fixed = tuple(fix)
    now = ev.decide(person)[output]
    if has_value(now, value, card):
        return Counterfactual(output, value, "already", person=dict(person), fixed=fixed, result=now)
    sl = sym.slice([output])
    fields = sym.slice_fields(sl)
    fix_in = tuple(f for f in fixed if f in sl.inputs)
    free = [n for n in fields if n in person and n not in fix]
    hard = [*sym.hard(sl), sym.output_has(output, value), *sym.fixed(person, fix_in)]
    changed = [goals.negate(sym.field_is(n, person[n])) for n in free]
    dist = goals.total([goals.distance(sym.enc, n, person[n]) for n in free])
    res = fewest_changes(hard, changed, dist, timeout_ms, engine)
    if isinstance(res, Unknown):
        reason = f"no answer within the {timeout_ms} ms limit ({res.reason})" if timeout_ms else res.reason
        return Counterfactual(output, value, "unknown", fixed=fixed, reason=reason)
    if isinstance(res, Unsat):
        return _impossible(sym, sl, person, output, value, fixed, fix_in, timeout_ms)
    full = {**person, **sym.values(res.model, fields)}
    _recheck(ev, sl, full, output, value, card, person, fixed)
    # Of the missing fields, report only those the value needs: drop each filled-in field while
    # eval (Kleene, hence valid for every completion) still gives the value without it.
    new = dict(full)
    for n in fields:
        if n not in person:
            trial = {k: v for k, v in new.items() if k != n}
            if has_value(ev.decide(trial)[output], value, card):
                new = trial
    changes = tuple(
        Change(n, person.get(n), new[n], distance(rs.inputs[n].type, person[n], new[n]) if n in person else 0)
        for n in fields
        if n in new and (n not in person or person[n] != new[n])
    )
    result = ev.decide(new)[output]
    if not has_value(result, value, card):
        raise ExplanationMismatch(f"counterfactual {output}={value}: eval gives {result} without the other fields")
    return Counterfactual(output, value, "found", changes, new, fixed, result=result)


def _recheck(
    ev: EvalBackend,
    sl: Slice,
    new: Person,
    output: str,
    value: ir.Value,
    card: str,
    person: Person,
    fixed: tuple[str, ...],
) -> None:
    """The eval backend must agree: the changed person has the value and meets the slice's input
    constraints (values from eval's trace, the rest computed from the IR), and the fixed fields are unchanged."""
    got = ev.decide(new)[output]
    problems = []
    if not has_value(got, value, card):
        problems.append(f"eval gives {output} {got.status} {got.values}")
    broken = broken_constraints(ev, new, sl.constraints)
    if broken:
        problems.append(f"eval says the changed person breaks {', '.join(broken)}")
    if any(new[f] != person[f] for f in fixed):
        problems.append("a fixed field changed")
    if problems:
        raise ExplanationMismatch(f"counterfactual {output}={value}: z3 found {dict(new)}, but " + "; ".join(problems))


def _impossible(
    sym: Symbolic,
    sl: Slice,
    person: Person,
    output: str,
    value: ir.Value,
    fixed: tuple[str, ...],
    fix_in: tuple[str, ...],
    timeout_ms: int | None,
) -> Counterfactual:
    """No change exists: an irreducible set of rules, constraints and fixed fields that forbid it."""
    rs, enc = sym.rs, sym.enc
    s = Query(*(sym.domain(n) for n in sym.slice_fields(sl)), sym.output_has(output, value), timeout_ms=timeout_ms)
    named: dict[str, tuple[Goal, Blocker]] = {}

    def assume(key: str, formula: Goal, blocker: Blocker) -> None:
        name = f"assume!{key}"
        named[name] = (s.part(name, formula), blocker)

    for r in rs.rules:
        if r.id in sl.rules:
            assume(f"rule!{r.id}", enc.guards[r.id], Blocker("rule", r.id, r.cites, r.quote))
    for c in rs.constraints:
        if c.id in sl.constraints:
            assume(f"constraint!{c.id}", enc.constraints[c.id], Blocker("constraint", c.id, doc=c.doc))
    for f in fix_in:
        assume(f"fixed!{f}", sym.field_is(f, person[f]), Blocker("fixed", f))
    res = s.check(*(p for p, _ in named.values()))
    if isinstance(res, Sat):
        raise ExplanationMismatch(f"counterfactual {output}={value}: Optimize said unsat, the core solver sat")
    if isinstance(res, Unknown):
        return Counterfactual(output, value, "impossible", fixed=fixed, reason=f"no core: {res.reason}")
    core = list(res.core)
    # Deletion: drop each part whose absence keeps the problem unsat (an irreducible core).
    i = 0
    while i < len(core):
        trial = core[:i] + core[i + 1 :]
        got = s.check(*(named[c][0] for c in trial))
        if isinstance(got, Unsat):
            core = list(got.core) if len(got.core) < len(trial) else trial
        else:
            i += 1
    order = {k: n for n, k in enumerate(named)}
    blockers = tuple(named[c][1] for c in sorted(core, key=lambda c: order[c]))
    if not blockers:  # unsat without any rule's condition: no rule's `then` can be this value
        rules = rs.rules_for(output)
        blockers = tuple(Blocker("rule", r.id, r.cites, r.quote) for r in rules)
        return Counterfactual(output, value, "impossible", fixed=fixed, blockers=blockers, reason=NO_RULE_GIVES)
    return Counterfactual(output, value, "impossible", fixed=fixed, blockers=blockers)


NO_RULE_GIVES = "no_rule_gives"  # reason: whatever applies, none of the output's rules gives the value


# ---------------------------------------------------------------- rendering

_CF_WORDS: Mapping[str, tuple[str, str]] = {
    "head": ("counterfactual", "反事实"),
    "already": ("already so: no change needed", "已经如此，无需改变"),
    "found": ("smallest change", "最小改变"),
    "fields": ("field(s)", "项"),
    "distance": ("distance", "距离"),
    "missing": ("(missing)", "（缺失）"),
    "filled": ("missing; one value that works", "缺失，可取值之一"),
    "days": ("days", "天"),
    "fixed": ("kept unchanged", "保持不变"),
    "checked": ("re-checked with eval; with the change", "已用 eval 复核；改变后"),
    "impossible": (
        "no change of the person gives this value (within the domains and input constraints)",
        "在输入取值范围和约束内，任何改变都不能得到该值",
    ),
    "forbid": ("forbidden by (an irreducible unsat core)", "以下规则/约束共同排除了该值（不可约的不可满足核）"),
    "no_rule_gives": (
        "none of the rules that give this output can give this value",
        "给出该结果的规则均不能给出该值",
    ),
    "constraint": ("input constraint", "输入约束"),
    "fixed_field": ("fixed field", "固定字段"),
    "rule_def": ("rule", "规则"),
    "unknown": ("unknown: the solver gave up", "未知：求解器未能在时限内回答"),
}


def _w(key: str, lang: Lang) -> str:
    en, zh = _CF_WORDS[key]
    return zh if lang == "zh" else en


def steps(
    cf: Counterfactual,
    rs: ir.RuleSet,
    ev: EvalBackend | None = None,
    lang: Lang = "en",
    source: ir.RuleSet | None = None,
) -> Step:
    """The counterfactual as an explanation tree (rendered like derivations); with `ev`, the
    derivation of the output for the changed person, as eval re-checked it."""
    words = Words(rs, lang, source)
    o = rs.outputs[cf.output]
    head = f"{_w('head', lang)}: {words.label(cf.output)} = {words.show(cf.value, o.type)}"
    kids: list[Step] = []
    if cf.status == "already":
        kids.append(Step("note", _w("already", lang)))
    elif cf.status == "found":
        sep = "" if lang == "zh" else " "
        summary = (
            f"{_w('found', lang)}: {len(cf.changed)}{sep}{_w('fields', lang)}, {_w('distance', lang)} {cf.distance}"
        )
        changes = []
        for c in cf.changes:
            t = rs.inputs[c.field].type
            old = _w("missing", lang) if c.old is None else words.show(c.old, t)
            title = f"{words.label(c.field)}: {old} → {words.show(c.new, t)}"
            if c.old is None:
                title += f" ({_w('filled', lang)})"
            elif isinstance(c.old, dt.date):
                title += f" (Δ {c.distance} {_w('days', lang)})"
            elif isinstance(t, ir.IntT):
                title += f" (Δ {c.distance})"
            changes.append(Step("change", title))
        kids.append(Step("note", summary, children=tuple(changes)))
        if ev is not None:
            decision, trace = ev.decide_traced(cf.person)
            derivation = Explainer(rs, decision, trace, lang, source).output(cf.output)
            kids.append(Step("note", _w("checked", lang), True, children=(derivation,)))
    elif cf.status == "impossible":
        blockers = []
        for b in cf.blockers:
            if b.kind == "rule":
                blockers.append(Step("rule", f"{_w('rule_def', lang)} {b.id}", clauses=b.clauses, quote=b.quote))
            elif b.kind == "constraint":
                title = f"{_w('constraint', lang)} {b.id}" + (f": {b.doc}" if b.doc else "")
                blockers.append(Step("note", title))
            else:
                blockers.append(Step("field", f"{_w('fixed_field', lang)} {words.label(b.id)}"))
        kids.append(Step("note", _w("impossible", lang), False))
        if blockers:
            why = _w("no_rule_gives" if cf.reason == NO_RULE_GIVES else "forbid", lang)
            kids.append(Step("note", why, children=tuple(blockers)))
        if cf.reason and cf.reason != NO_RULE_GIVES:
            kids.append(Step("note", cf.reason))
    else:
        kids.append(Step("note", f"{_w('unknown', lang)} ({cf.reason})", unknown=True))
    if cf.fixed:
        kids.append(Step("note", f"{_w('fixed', lang)}: {', '.join(words.label(f) for f in cf.fixed)}"))
    holds = {"already": True, "found": True, "impossible": False, "unknown": None}[cf.status]
    return Step("output", head, holds, children=tuple(kids), unknown=cf.status == "unknown")

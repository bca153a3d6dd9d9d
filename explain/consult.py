"""The consultant for a person with missing fields (after IDP-Z3's interactive consultant, which
propagates the consequences of what is known).

For each output: is it already determined, whatever the missing fields turn out to be? z3 decides
it over every completion inside the domains and input constraints: find one completion, then ask
for another that gives a different result; none means determined. Kleene evaluation (the eval
backend on the partial person) is sound but weaker: an output it leaves unknown may still be
determined (`a or not a`, or a constraint that pins a missing field), and an output it knows must
be determined by z3 too (otherwise the encodings disagree, which is an error).

For an undetermined output, a missing field *decides* it when two completions that differ only in
that field give it different results (two copies of the encoding side by side, the other missing
fields held equal by assumption literals). "What to ask next" ranks the missing fields by how many
undetermined outputs they decide.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from explain.counterfactual import ExplanationMismatch
from explain.derivation import Lang, Step, Words, broken_constraints
from explain.symbolic import Slice, Symbolic
from solver import ir
from solver.backends.base import OutputResult, Person
from solver.backends.eval_backend import EvalBackend
from solver.query import Query, Sat, Unknown, Unsat
from solver.semantics import goals
from solver.semantics.goals import Goal
from solver.semantics.reasons import joined


@dataclass(frozen=True)
class OutputConsult:
    output: str
    status: Literal["determined", "open", "unknown", "inconsistent"]  # unknown: solver timeout
    result: OutputResult  # determined: the result in every completion; else eval's partial result
    examples: tuple[OutputResult, ...] = ()  # open: results of some completions (all, if complete)
    deciders: tuple[str, ...] = ()  # open: missing fields that alone can change the result
    undecided: tuple[str, ...] = ()  # open: fields whose influence the solver could not settle
    by_eval: bool = False  # determined already by Kleene evaluation of the partial person
    complete: bool = False  # open: `examples` are every result a completion can give


@dataclass(frozen=True)
class Ask:
    field: str
    outputs: tuple[str, ...]  # undetermined outputs this field decides


@dataclass(frozen=True)
class Consultation:
    missing: tuple[str, ...]  # missing fields the asked outputs read
    outputs: tuple[OutputConsult, ...]
    ask: tuple[Ask, ...]
    other_missing: int = 0  # missing fields none of the asked outputs reads

    def to_json(self) -> dict[str, Any]:
        def res(r: OutputResult) -> dict[str, Any]:
            vals = [v.isoformat() if isinstance(v, dt.date) else v for v in r.values]
            return {"status": r.status, "values": vals, "rules": list(r.rules)}

        return {
            "missing": list(self.missing),
            "outputs": {
                o.output: {
                    "status": o.status,
                    "result": res(o.result),
                    "examples": [res(e) for e in o.examples],
                    "complete": o.complete,
                    "deciders": list(o.deciders),
                    "undecided": list(o.undecided),
                    "by_eval": o.by_eval,
                }
                for o in self.outputs
            },
            "ask": [{"field": a.field, "outputs": list(a.outputs)} for a in self.ask],
            "other_missing": self.other_missing,
        }


class Consultant:
    """Answers for one rule set; the two encodings are built on first use and reused."""

    def __init__(self, rs: ir.RuleSet, ev: EvalBackend, sym: Symbolic | None = None, *, verify: bool = False) -> None:
        """verify: also prove with z3 the outputs Kleene evaluation already determines (a check
        of the two semantics against each other; slower)."""
        self.rs, self.ev, self.verify = rs, ev, verify
        self._a = sym
        self._b: Symbolic | None = None

    @property
    def a(self) -> Symbolic:
        if self._a is None:
            self._a = Symbolic(self.rs)
        return self._a

    @property
    def b(self) -> Symbolic:
        if self._b is None:
            self._b = Symbolic(self.rs, prefix="b!")
        return self._b

    def consult(
        self, person: Person, outputs: Sequence[str] | None = None, timeout_ms: int | None = None
    ) -> Consultation:
        rs = self.rs
        names = list(outputs or rs.outputs)
        reads = set().union(*(self.a.slice([n]).reads for n in names)) if names else set()
        missing = tuple(n for n in rs.inputs if n not in person and n in reads)
        other = sum(1 for n in rs.inputs if n not in person and n not in reads)
        partial = self.ev.decide(person)
        results = [self._one(person, n, partial[n], timeout_ms) for n in names]
        counts: dict[str, list[str]] = {}
        for oc in results:
            for f in oc.deciders:
                counts.setdefault(f, []).append(oc.output)
        order = list(rs.inputs)
        ask = tuple(
            Ask(f, tuple(outs)) for f, outs in sorted(counts.items(), key=lambda kv: (-len(kv[1]), order.index(kv[0])))
        )
        return Consultation(missing, tuple(results), ask, other)

    def _one(self, person: Person, name: str, partial: OutputResult, timeout_ms: int | None) -> OutputConsult:
        """One output over its slice: the completions of the missing fields it can depend on."""
        a = self.a
        sl = a.slice([name])
        fields = a.slice_fields(sl)
        missing = [f for f in fields if f not in person]
        known = partial.status != "unknown"
        s = Query(*a.hard(sl), *a.fixed(person, [f for f in fields if f in person]), timeout_ms=timeout_ms)
        if known and not self.verify:  # Kleene evaluation is sound: every completion agrees
            return OutputConsult(name, "determined", partial, by_eval=True)
        first = s.check()
        if not isinstance(first, Sat):
            return OutputConsult(name, "unknown" if isinstance(first, Unknown) else "inconsistent", partial)
        first_model = first.model
        r0 = self.ev.decide({**person, **a.values(first_model, missing)})[name]
        if known and partial.key() != r0.key():
            raise ExplanationMismatch(f"{name}: eval gives {partial} for the partial person, {r0} for a completion")
        got = s.check(goals.negate(a.result_is(name, r0)))
        if isinstance(got, Unsat):
            return OutputConsult(name, "determined", r0, by_eval=known)
        if isinstance(got, Unknown):
            return OutputConsult(name, "unknown", partial)
        if known:
            raise ExplanationMismatch(f"{name}: eval says determined for the partial person, z3 finds another")
        other = self.ev.decide({**person, **a.values(got.model, missing)})[name]
        if other.key()[:2] == r0.key()[:2]:
            raise ExplanationMismatch(f"{name}: z3 finds a completion unlike {r0}, eval says it is the same")
        completions = [{**person, **a.values(m, missing)} for m in (first_model, got.model)]
        examples, complete = self._possible(s, person, name, missing, [r0, other])
        probed = self._probe(name, sl, missing, completions)
        proof_ms = min(timeout_ms, PROOF_MS) if timeout_ms else PROOF_MS
        deciders, undecided = self._deciders(person, name, sl, missing, probed, proof_ms)
        return OutputConsult(name, "open", partial, examples, deciders, undecided, complete=complete)

    def _possible(
        self, s: Query, person: Person, name: str, missing: list[str], found: list[OutputResult]
    ) -> tuple[tuple[OutputResult, ...], bool]:
        """Every result the output can still have, for bool and enum outputs (at most POSSIBLE of
        them; each new one from a completion eval re-decides); others keep two examples."""
        a, out = self.a, self.rs.outputs[name]
        if not isinstance(out.type, ir.BoolT | ir.EnumT):
            return tuple(found), False
        while len(found) <= POSSIBLE:
            got = s.check(goals.negate(goals.any_of(a.result_is(name, r) for r in found)))
            if not isinstance(got, Sat):
                ordered = sorted(found, key=lambda r: (r.status, [str(v) for v in r.values]))
                return tuple(ordered), isinstance(got, Unsat)
            new = self.ev.decide({**person, **a.values(got.model, missing)})[name]
            if any(new.key()[:2] == r.key()[:2] for r in found):
                raise ExplanationMismatch(f"{name}: z3 finds a new result, eval gives a known one ({new})")
            found.append(new)
        return tuple(found), False

    def _probe(self, name: str, sl: Slice, missing: list[str], completions: list[dict[str, ir.Value]]) -> list[str]:
        """Deciders found cheaply with eval: change one field of a known-valid completion to a
        nearby or boundary value; if the completion stays valid and the result changes, that field
        decides the output (a sound witness; z3 then looks only for the others)."""
        rs, ev = self.rs, self.ev
        ints, days = _constants(rs, sl)
        touching = {f: [c for c in sl.constraints if f in self.a.constraint_inputs(c)] for f in missing}
        found: list[str] = []
        for f in missing:
            t = rs.inputs[f].type
            for base in completions:
                r = ev.decide(base)[name].key()[:2]
                cands = _candidates(t, base[f], [c[f] for c in completions], ints, days)
                if any(
                    ev.decide(trial)[name].key()[:2] != r and not broken_constraints(ev, trial, touching[f])
                    for trial in ({**base, f: v} for v in cands)
                ):
                    found.append(f)
                    break
        return found

    def _deciders(
        self, person: Person, name: str, sl: Slice, missing: list[str], probed: list[str], timeout_ms: int | None
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Missing fields that alone can change the output: two completions that differ only there.

        One query per decider plus one: "the results differ and at most one field differs, and it
        is none of those found so far". Each sat answer names a new decider; the final unsat
        proves every remaining field irrelevant at once (instead of one proof per field)."""
        if len(missing) == 1:  # the output is open and can depend on nothing else
            return tuple(missing), ()
        if len(probed) == len(missing):
            return tuple(probed), ()
        a, b = self.a, self.b
        known = [f for f in a.slice_fields(sl) if f in person]
        s = Query(*a.hard(sl), *b.hard(sl), *a.fixed(person, known), *b.fixed(person, known), timeout_ms=timeout_ms)
        s.add(goals.negate(a.same_result(b, name)))
        differs: dict[str, Goal] = {f: goals.fields_differ(a.enc, b.enc, f) for f in missing}
        s.add(goals.at_most(list(differs.values()), 1))
        deciders: list[str] = list(probed)
        s.add(*(goals.negate(differs[f]) for f in probed))
        while True:
            got = s.check()
            if isinstance(got, Unsat):
                return tuple(f for f in missing if f in deciders), ()
            if isinstance(got, Unknown):
                rest = tuple(f for f in missing if f not in deciders)
                return tuple(f for f in missing if f in deciders), rest
            found = [f for f in missing if f not in deciders and got.holds(differs[f])]
            if len(found) != 1:
                raise ExplanationMismatch(f"{name}: two completions differ in {found}, expected exactly one field")
            deciders.append(found[0])
            s.add(goals.negate(differs[found[0]]))


# How many possible results of an open bool or enum output are listed before "e.g." is used.
POSSIBLE = 6
# Per-query limit (ms) for proving that no further field decides an output; beyond it the
# remaining fields are reported as not settled rather than waited for.
PROOF_MS = 3000


def _constants(rs: ir.RuleSet, sl: Slice) -> tuple[set[int], set[dt.date]]:
    """Int and date constants of the slice's rules and of the definitions (probe values)."""
    ints: set[int] = set()
    days: set[dt.date] = set()
    exprs: list[ir.Expr] = [d.expr for d in rs.definitions.values()]
    exprs += [e for r in rs.rules if r.id in sl.rules for e in (r.when, *(v for _, v in r.then))]
    for e in exprs:
        for n in ir.walk(e):
            if isinstance(n, ir.Const) and isinstance(n.value, dt.date):
                days.add(n.value)
            elif isinstance(n, ir.Const) and isinstance(n.value, int) and not isinstance(n.value, bool):
                ints.add(n.value)
    return ints, days


def _candidates(
    t: ir.Type, now: ir.Value, others: list[ir.Value], ints: set[int], days: set[dt.date], limit: int = 40
) -> list[ir.Value]:
    """Values to try for one field: the other completions' values, then type-specific neighbours
    (boundaries of the constants the rules compare against, of the domain, of the value itself)."""
    out: list[ir.Value] = list(others)
    if isinstance(t, ir.BoolT):
        out.append(not now)
    elif isinstance(t, ir.EnumT):
        out += list(t.values)
    elif isinstance(t, ir.IntT) and isinstance(now, int):
        n: int = now
        near = {c + d for c in ints for d in (-1, 0, 1)} | {n - 1, n + 1, t.lo, t.hi}
        by_size = sorted((v for v in near if t.lo <= v <= t.hi), key=lambda x: abs(x - n))
        out += by_size
    elif isinstance(t, ir.DateT) and isinstance(now, dt.date):
        here: dt.date = now  # a closure does not keep isinstance narrowing
        cands = {c + dt.timedelta(days=d) for c in days for d in (-1, 0, 1)} | {t.lo, t.hi}
        cands |= {here + dt.timedelta(days=d) for d in (-366, -31, -1, 1, 31, 366)}
        by_distance = sorted((v for v in cands if t.lo <= v <= t.hi), key=lambda x: abs((x - here).days))
        out += by_distance
    seen: list[ir.Value] = []
    for v in out:
        if v != now and v not in seen:
            seen.append(v)
    return seen[:limit]


# ---------------------------------------------------------------- rendering

_WORDS: Mapping[str, tuple[str, str]] = {
    "head": ("consultation: {n} missing field(s) these outputs read", "咨询：缺少 {n} 项相关信息"),
    "missing": ("missing", "缺少"),
    "other_missing": ("other missing fields, which these outputs do not read", "项其他缺失信息与这些结果无关"),
    "every": ("in every completion", "在任何补全下均如此"),
    "determined": ("determined whatever the missing fields are", "无论缺失的信息如何，均已确定"),
    "by_eval": ("(already by evaluation)", "（直接求值即可确定）"),
    "open": ("still open", "尚未确定"),
    "depends": ("depends on", "取决于"),
    "maybe": ("solver could not settle", "求解器未能判断"),
    "e.g.": ("e.g.", "例如"),
    "possible": ("one of", "可能为"),
    "or": (" or ", " 或 "),
    "unknown": ("the solver gave up", "求解器未能在时限内回答"),
    "inconsistent": (
        "no completion of this person meets the input constraints",
        "该人员的已知信息与输入约束矛盾，无法补全",
    ),
    "ask": ("what to ask next", "下一步应询问"),
    "decides": ("decides", "影响"),
    "outputs": ("output(s)", "项结果"),
}


def _w(key: str, lang: Lang) -> str:
    en, zh = _WORDS[key]
    return zh if lang == "zh" else en


def steps(c: Consultation, rs: ir.RuleSet, lang: Lang = "en") -> Step:
    from explain.decision import clauses_of

    words = Words(rs, lang)
    result = words.result_text

    determined, open_, other = [], [], []
    for oc in c.outputs:
        label = words.label(oc.output)
        if oc.status == "determined":
            title = f"{label} = {result(oc.output, oc.result)}"
            if oc.result.status == "unknown":  # the reason is one completion's; the status is every one's
                title = f"{label} = ? ({_w('every', lang)}; {_w('e.g.', lang)} {joined(oc.result.reasons, lang)})"
            if oc.by_eval:
                title += f" {_w('by_eval', lang)}"
            determined.append(Step("output", title, True, tuple(clauses_of(rs, oc.result.rules))))
        elif oc.status == "open":
            ex = _w("or", lang).join(result(oc.output, e) for e in oc.examples)
            title = f"{label}: {_w('possible' if oc.complete else 'e.g.', lang)} {ex}"
            kids: list[Step] = []
            if oc.deciders:
                kids.append(Step("field", f"{_w('depends', lang)} " + ", ".join(words.label(f) for f in oc.deciders)))
            if oc.undecided:
                kids.append(
                    Step(
                        "field",
                        f"{_w('maybe', lang)}: " + ", ".join(words.label(f) for f in oc.undecided),
                        unknown=True,
                    )
                )
            open_.append(Step("output", title, children=tuple(kids), unknown=True))
        else:
            other.append(Step("output", f"{label}: {_w(oc.status, lang)}", unknown=True))
    head = _w("head", lang).format(n=len(c.missing))
    top: list[Step] = []
    if c.missing:
        top.append(Step("note", f"{_w('missing', lang)}: " + ", ".join(words.label(f) for f in c.missing)))
    if c.other_missing:
        sep = "" if lang == "zh" else " "
        top.append(Step("note", f"{c.other_missing}{sep}{_w('other_missing', lang)}"))
    if determined:
        top.append(Step("note", _w("determined", lang), children=tuple(determined)))
    if open_:
        top.append(Step("note", _w("open", lang), children=tuple(open_)))
    top += other
    if c.ask:
        sep = "" if lang == "zh" else " "
        asks = tuple(
            Step(
                "field",
                f"{i}. {words.label(a.field)}: {_w('decides', lang)} {len(a.outputs)}{sep}{_w('outputs', lang)} "
                f"({', '.join(words.label(o) for o in a.outputs)})",
            )
            for i, a in enumerate(c.ask, 1)
        )
        top.append(Step("note", _w("ask", lang), children=asks))
    return Step("output", head, children=tuple(top))

"""Derivations: why an output has its value, and why it does not have another one.

A derivation is a tree of steps. Each rule step carries its clause ids and the Chinese quote;
each condition step shows the condition instantiated with the person's values
("age = 18 <= 18 ✓"); each definition it reads is shown with its own computation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from solver import ir
from solver.backends.base import Decision, OutputResult
from solver.backends.eval_backend import Trace, Unknown
from solver.printer import literal, to_text

Lang = Literal["zh", "en"]
Kind = Literal["output", "rule", "exception", "validity", "condition", "definition", "default", "note"]

_OPS = {"<=": "≤", ">=": "≥", "!=": "≠", "==": "="}


@dataclass(frozen=True)
class Step:
    kind: Kind
    title: str
    holds: bool | None = None  # for conditions and rules: ✓ / ✗ / unknown
    clauses: tuple[str, ...] = ()
    quote: str = ""
    children: tuple[Step, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "title": self.title}
        if self.holds is not None:
            out["holds"] = self.holds
        if self.clauses:
            out["clauses"] = list(self.clauses)
        if self.quote:
            out["quote"] = self.quote
        if self.children:
            out["children"] = [c.to_json() for c in self.children]
        return out


def show_value(v: Any) -> str:
    if isinstance(v, Unknown):
        return "?" + (f" (missing {', '.join(sorted(v.missing))})" if v.missing else "")
    if isinstance(v, frozenset | tuple | list | set):
        return "{" + ", ".join(sorted(map(show_value, v))) + "}"
    if isinstance(v, bool | str | dt.date):
        return literal(v).strip("'")
    return str(v)


class Explainer:
    def __init__(self, rs: ir.RuleSet, trace: Trace, lang: Lang = "en") -> None:
        self.rs, self.trace, self.lang = rs, trace, lang
        self.shown_definitions: set[str] = set()

    # -- labels
    def label(self, name: str) -> str:
        for table in (self.rs.inputs, self.rs.definitions, self.rs.outputs):
            if name in table:
                labels = table[name].labels  # type: ignore[attr-defined]
                text = labels.zh if self.lang == "zh" else labels.en
                return f"{text} {name}" if text else name
        return name

    def value(self, e: ir.Expr) -> Any:
        if isinstance(e, ir.Const):
            return e.value
        if isinstance(e, ir.Ref) and e.kind != "option":
            v = self.trace.value(e)
            if isinstance(v, Unknown) and v.reasons == ("not evaluated",) and e.name in self.trace.env:
                return self.trace.env[e.name]
            return v
        return self.trace.value(e)

    def operand(self, e: ir.Expr) -> str:
        if isinstance(e, ir.Const):
            return show_value(e.value)
        return f"{self.label(e.name) if isinstance(e, ir.Ref) else to_text(e)} = {show_value(self.value(e))}"

    # -- conditions
    def condition(self, e: ir.Expr) -> Step:
        v = self.value(e)
        holds = v if isinstance(v, bool) else None
        if isinstance(e, ir.Binary) and e.op in ("and", "or"):
            parts = _flatten(e, e.op)
            word = (
                ("all of" if e.op == "and" else "any of")
                if self.lang == "en"
                else ("同时满足" if e.op == "and" else "满足其一")
            )
            return Step("condition", word, holds, children=tuple(self.condition(p) for p in parts))
        if isinstance(e, ir.Unary) and e.op == "not":
            inner = self.condition(e.arg)
            return Step("condition", "not" if self.lang == "en" else "并非", holds, children=(inner,))
        if isinstance(e, ir.Binary):
            title = f"{self.operand(e.left)} {_OPS.get(e.op, e.op)} {self.operand(e.right)}"
        elif isinstance(e, ir.In):
            title = f"{self.operand(e.item)} ∈ [{', '.join(show_value(self.value(c)) for c in e.choices)}]"
        else:
            title = self.operand(e) if not isinstance(e, ir.Const) else show_value(e.value)
        return Step("condition", title, holds, children=self.definitions_in(e))

    def definitions_in(self, e: ir.Expr) -> tuple[Step, ...]:
        steps = []
        for n in ir.walk(e):
            if isinstance(n, ir.Ref) and n.kind == "definition" and n.name not in self.shown_definitions:
                self.shown_definitions.add(n.name)
                steps.append(self.definition(n.name))
        return tuple(steps)

    def definition(self, name: str) -> Step:
        d = self.rs.definitions[name]
        args = [
            f"{self.label(r.name)} = {show_value(self.value(r))}"
            for r in ir.walk(d.expr)
            if isinstance(r, ir.Ref) and r.kind != "option"
        ]
        title = f"{self.label(name)} = {to_text(d.expr)} = {show_value(self.trace.env.get(name))}"
        if args:
            title += f"   [{'; '.join(dict.fromkeys(args))}]"
        return Step("definition", title, clauses=d.cites, children=self.definitions_in(d.expr))

    # -- rules and outputs
    def rule(self, r: ir.Rule, *, as_exception: bool = False) -> Step:
        applies = self.trace.applies.get(r.id)
        children = [self.condition(r.when)]
        if r.valid:
            children.append(self.validity(r.valid))
        for u in r.unless:
            ua = self.trace.applies.get(u)
            verdict = "does not apply" if ua is False else "applies" if ua is True else "unknown"
            if self.lang == "zh":
                verdict = {"does not apply": "不适用", "applies": "适用", "unknown": "未知"}[verdict]
            children.append(
                Step(
                    "exception",
                    f"{u}: {verdict}",
                    ua is False if isinstance(ua, bool) else None,
                    clauses=self.rs.rule(u).cites,
                    quote=self.rs.rule(u).quote,
                )
            )
        holds = applies if isinstance(applies, bool) else None
        return Step("exception" if as_exception else "rule", r.id, holds, r.cites, r.quote, tuple(children))

    def validity(self, v: ir.Validity) -> Step:
        on = self.trace.env.get(v.on)
        span = f"{'' if v.lo is None else show_value(v.lo)}..{'' if v.hi is None else show_value(v.hi)}"
        holds = None
        if on is not None and not isinstance(on, Unknown):
            holds = (v.lo is None or v.lo <= on) and (v.hi is None or on <= v.hi)
        word = "in force" if self.lang == "en" else "有效期"
        return Step("validity", f"{self.label(v.on)} = {show_value(on)}, {word} {span}", holds)

    def output(self, name: str, result: OutputResult) -> Step:
        from explain.decision import result_text

        o = self.rs.outputs[name]
        title = f"{self.label(name)} = {result_text(result)}"
        children: list[Step] = []
        for rid in result.rules:
            children.append(self.rule(self.rs.rule(rid)))
        if result.status == "ok" and not result.rules and o.default is not None:
            word = "default" if self.lang == "en" else "默认"
            children.append(Step("default", f"{word}: {to_text(o.default)}", children=self.definitions_in(o.default)))
        if result.status in ("gap", "unknown", "none"):
            for r in self.rs.rules_for(name):
                children.append(self.rule(r))
        return Step("output", title, children=tuple(children))


def _flatten(e: ir.Expr, op: str) -> list[ir.Expr]:
    if isinstance(e, ir.Binary) and e.op == op:
        return _flatten(e.left, op) + _flatten(e.right, op)
    return [e]


def explain(
    rs: ir.RuleSet, decision: Decision, trace: Trace, outputs: list[str] | None = None, lang: Lang = "en"
) -> list[Step]:
    ex = Explainer(rs, trace, lang)
    return [ex.output(n, decision.results[n]) for n in (outputs or list(rs.outputs))]


# ---------------------------------------------------------------- why not


def failed_conditions(ex: Explainer, e: ir.Expr) -> list[Step]:
    """A minimal account of why condition e is not true: the false conjuncts of an 'and', every
    branch of an 'or' (each with its own failures), the condition itself otherwise."""
    v = ex.value(e)
    if v is True:
        return []
    if isinstance(e, ir.Binary) and e.op == "and":
        return [s for p in _flatten(e, "and") for s in failed_conditions(ex, p)]
    if isinstance(e, ir.Binary) and e.op == "or":
        branches = [
            Step(
                "condition",
                ("branch" if ex.lang == "en" else "情形") + f" {i + 1}",
                False,
                children=tuple(failed_conditions(ex, p)),
            )
            for i, p in enumerate(_flatten(e, "or"))
        ]
        word = "none of" if ex.lang == "en" else "均不满足"
        return [Step("condition", word, False, children=tuple(branches))]
    return [ex.condition(e)]


def why_not(rs: ir.RuleSet, decision: Decision, trace: Trace, output: str, value: Any, lang: Lang = "en") -> Step:
    """Why `output` is not `value`: for each rule that could give it, what failed."""
    ex = Explainer(rs, trace, lang)
    result = decision.results[output]
    has = result.status == "ok" and value in result.values
    head = f"{ex.label(output)} = {show_value(value)}: " + (
        ("it is" if has else "it is not") if lang == "en" else ("是" if has else "不是")
    )
    steps: list[Step] = []
    for r in rs.rules_for(output):
        given = dict(r.then)[output]
        if isinstance(given, ir.Const) and given.value != value:
            continue
        applies = trace.applies.get(r.id)
        reasons: list[Step] = []
        if applies is True:
            if ex.value(given) != value:
                reasons.append(Step("note", f"applies but gives {show_value(ex.value(given))}"))
        else:
            reasons += failed_conditions(ex, r.when)
            if r.valid and ex.validity(r.valid).holds is not True:
                reasons.append(ex.validity(r.valid))
            for u in r.unless:
                if trace.applies.get(u) is True:
                    reasons.append(ex.rule(rs.rule(u), as_exception=True))
        steps.append(
            Step("rule", r.id, applies if isinstance(applies, bool) else None, r.cites, r.quote, tuple(reasons))
        )
    if not steps:
        steps.append(Step("note", "no rule gives this value" if lang == "en" else "没有规则给出该值"))
    return Step("output", head, has, children=tuple(steps))

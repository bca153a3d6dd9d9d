"""Derivations: why an output has its value (why it does not have another: explain/why_not.py).

A derivation is a tree of steps. Each rule step carries its clause ids and the Chinese quote;
each condition step shows the condition instantiated with the person's values
("年末年龄 = 18 ≤ 18 ✓"); each definition it reads is shown with its own computation, each
parameter lookup with the row it used and that row's clauses, each output it reads with the rules
behind that output.

Values come from the eval backend's trace. Python's `and`/`or` short-circuit, so a trace lacks the
nodes that were never reached; those are computed here from the IR with the same Kleene helpers
the eval backend uses, so every condition in an explanation has a value.

Labels: in Chinese (`zh`) names are shown with the vocabulary's zh labels and enum values with
their zh labels; in English (`en`) with their identifiers, which are English words already and can
be grepped in the rule files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from explain.decision import Reading, clauses_of, readings, w
from solver import ir
from solver.backends.base import Decision, OutputResult, Person
from solver.backends.eval_backend import EvalBackend, Trace
from solver.passes.options import map_expr
from solver.printer import literal, to_text
from solver.semantics.reasons import NOT_EVALUATED, Reason, joined
from solver.semantics.values import (
    BINOPS,
    BUILTINS,
    Unknown,
    k_and,
    k_in,
    k_not,
    k_or,
    lift,
    lookup,
)

Lang = Literal["zh", "en"]
Kind = Literal[
    "output",
    "rule",
    "exception",
    "validity",
    "condition",
    "definition",
    "parameter",
    "reference",
    "value",
    "default",
    "note",
    "change",
    "field",
]

_OPS = {"<=": "≤", ">=": "≥", "!=": "≠", "==": "="}

# Words of the explanations: key -> (en, zh).
WORDS: Mapping[str, tuple[str, str]] = {
    "all": ("all of", "同时满足"),
    "any": ("any of", "满足其一"),
    "not": ("not", "并非"),
    "none_of": ("none of", "均不满足"),
    "branch": ("branch", "情形"),
    "applies": ("applies", "适用"),
    "not_applies": ("does not apply", "不适用"),
    "unknown": ("unknown", "未知"),
    "in_force": ("in force", "有效期"),
    "default": ("default", "默认"),
    "gives": ("gives", "给出"),
    "missing": ("missing", "缺少"),
    "gap": (w("gap", "en"), w("gap", "zh")),  # one text with decide's (explain.decision)
    "none": ("none", "无"),
    "conflict": ("CONFLICT", "冲突"),
    "vs": (" vs ", " 与 "),
    "true": ("true", "是"),
    "false": ("false", "否"),
    "it_is": ("it is", "是"),
    "it_is_not": ("it is not", "不是"),
    "no_rule": ("no rule gives this value", "没有规则给出该值"),
    "applies_gives": ("applies but gives", "适用，但给出"),
    "applies_conflict": (
        "applies, but another applying rule gives a different value",
        "适用，但另一条适用的规则给出不同的值",
    ),
    "default_blocked": (
        "the default applies only when no rule applies; these apply:",
        "默认值仅在没有规则适用时使用；适用的规则：",
    ),
    "default_other": ("the default gives", "默认值为"),
    "minimal": ("smallest set of failed conditions that must hold", "至少需要满足以下未满足的条件"),
    "of": ("of", "/"),
    "unreachable": (
        "no valid person meets this rule (shown: the smallest propositional fix)",
        "没有符合输入约束的人员满足此规则（下列为命题层面的最小集合）",
    ),
    "not_minimal": ("not proven minimal (solver timeout)", "未证明最小（求解超时）"),
    "contradictory": ("the rule's condition contradicts itself", "该规则的条件自相矛盾"),
    "yuan": (" yuan", "元"),
    "option": ("option", "选项"),
}


def word(key: str, lang: Lang) -> str:
    en, zh = WORDS[key]
    return zh if lang == "zh" else en


@dataclass(frozen=True)
class Step:
    """One node of an explanation tree. `holds` is ✓/✗ for conditions and rules (None: not a
    condition); `unknown` marks a condition whose value is unknown (shown as ?)."""

    kind: Kind
    title: str
    holds: bool | None = None
    clauses: tuple[str, ...] = ()
    quote: str = ""
    children: tuple[Step, ...] = field(default=())
    unknown: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "title": self.title}
        if self.holds is not None:
            out["holds"] = self.holds
        if self.unknown:
            out["unknown"] = True
        if self.clauses:
            out["clauses"] = list(self.clauses)
        if self.quote:
            out["quote"] = self.quote
        if self.children:
            out["children"] = [c.to_json() for c in self.children]
        return out

    def walk(self) -> Iterator[Step]:
        yield self
        for c in self.children:
            yield from c.walk()


def cited_clauses(steps: list[Step]) -> set[str]:
    """Every clause id an explanation cites (for checking that each one exists)."""
    return {c for s in steps for n in s.walk() for c in n.clauses}


def _not_evaluated(v: Any) -> bool:
    return isinstance(v, Unknown) and v.reasons == (NOT_EVALUATED,)


def option_positions(source: ir.RuleSet, resolved: ir.RuleSet) -> dict[int, str]:
    """id of each constant of `resolved` that stands for an option of `source` -> option name
    (the two rule sets have the same shape: resolution only replaces option names)."""
    out: dict[int, str] = {}

    def pair(u: ir.Expr, r: ir.Expr) -> None:
        if isinstance(u, ir.Ref) and u.kind == "option":
            out[id(r)] = u.name
            return
        for cu, cr in zip(ir.children(u), ir.children(r), strict=False):
            pair(cu, cr)

    for ru, rr in zip(source.rules, resolved.rules, strict=False):
        pair(ru.when, rr.when)
        for (_, vu), (_, vr) in zip(ru.then, rr.then, strict=False):
            pair(vu, vr)
    for name, d in source.definitions.items():
        if name in resolved.definitions:
            pair(d.expr, resolved.definitions[name].expr)
    for name, o in source.outputs.items():
        other = resolved.outputs.get(name)
        if o.default is not None and other is not None and other.default is not None:
            pair(o.default, other.default)
    for cu, cr in zip(source.constraints, resolved.constraints, strict=False):
        pair(cu.expr, cr.expr)
    return out


def flatten(e: ir.Expr, op: str) -> list[ir.Expr]:
    if isinstance(e, ir.Binary) and e.op == op:
        return flatten(e.left, op) + flatten(e.right, op)
    return [e]


class Words:
    """Names and values of one rule set in one language (shared by every kind of explanation).
    `source`, the rule set before option resolution, lets expressions name their options again."""

    def __init__(self, rs: ir.RuleSet, lang: Lang = "en", source: ir.RuleSet | None = None) -> None:
        self.rs, self.lang = rs, lang
        self.options_at = option_positions(source, rs) if source is not None else {}

    def w(self, key: str) -> str:
        return word(key, self.lang)

    def label(self, name: str) -> str:
        if self.lang == "en":
            return name
        for table in (self.rs.inputs, self.rs.definitions, self.rs.outputs):
            if name in table:
                zh: str = table[name].labels.zh
                return zh or name
        return name

    def show(self, v: Any, t: ir.Type | None = None) -> str:
        """A value for display, in the explainer's language."""
        if isinstance(v, Unknown):
            if not v.missing:
                return "?" + (f" ({joined(v.reasons, self.lang)})" if v.reasons and not _not_evaluated(v) else "")
            names = ", ".join(self.label(n) for n in sorted(v.missing))
            return f"?（{self.w('missing')} {names}）" if self.lang == "zh" else f"? ({self.w('missing')} {names})"
        if isinstance(v, frozenset | tuple | list | set):
            return "{" + ", ".join(sorted(self.show(x, t) for x in v)) + "}"
        if isinstance(v, bool):
            return self.w("true" if v else "false")
        if isinstance(v, str):
            if self.lang == "zh" and isinstance(t, ir.EnumT):
                lab = self.rs.value_labels.get(t.name, {}).get(v)
                if lab is not None and lab.zh:
                    return lab.zh
            return v
        if isinstance(v, dt.date):
            return literal(v)
        if isinstance(v, int) and isinstance(t, ir.IntT) and t.unit == "yuan":
            return f"{v}{self.w('yuan')}"
        if isinstance(v, int) and t is not None and ir.is_time(t):
            return ir.time_text(v)
        return str(v)

    def option_of(self, e: ir.Expr) -> str:
        """The option a constant came from (the resolve pass puts the chosen reading in place of
        the option's name); known only when the unresolved rule set was given as `source`."""
        return self.options_at.get(id(e), "")

    def text(self, e: ir.Expr) -> str:
        """An expression as written in the rule files (resolved options shown by name again)."""

        def back(n: ir.Expr) -> ir.Expr | None:
            opt = self.option_of(n)
            return ir.Ref(opt, "option", n.type) if opt else None

        return to_text(map_expr(e, back))

    def result_text(self, name: str, r: OutputResult) -> str:
        t = self.rs.outputs[name].type
        if r.status == "ok":
            if self.rs.outputs[name].cardinality == "set":
                return self.show(frozenset(r.values), t)
            return self.show(r.values[0], t)
        if r.status == "conflict":
            return f"{self.w('conflict')} " + self.w("vs").join(self.show(v, t) for v in r.values)
        if r.status == "unknown":
            return self.show(Unknown(frozenset(r.missing), r.reasons))
        return self.w(r.status)


class Explainer(Words):
    """Builds steps for one person's decision and trace, in one language."""

    def __init__(
        self, rs: ir.RuleSet, decision: Decision, trace: Trace, lang: Lang = "en", source: ir.RuleSet | None = None
    ) -> None:
        super().__init__(rs, lang, source)
        self.decision, self.trace = decision, trace
        self._memo: dict[int, tuple[ir.Expr, Any]] = {}
        self._shown: set[str] = set()
        self.targeting: dict[str, list[ir.Rule]] = {}  # output -> its rules (rules_for is a scan)
        for r in rs.rules:
            for o in r.outputs():
                self.targeting.setdefault(o, []).append(r)

    def value(self, e: ir.Expr) -> Any:
        """The value of an expression node for this person (from the trace, else computed)."""
        # The memo holds the node itself, so an id is never reused by another node while cached.
        hit = self._memo.get(id(e))
        if hit is None or hit[0] is not e:
            v = self.trace.value(e)
            hit = (e, self._compute(e) if _not_evaluated(v) else v)
            self._memo[id(e)] = hit
        return hit[1]

    def output_value(self, name: str) -> Any:
        r = self.decision.results[name]
        if self.rs.outputs[name].cardinality == "set":
            return frozenset(r.values) if r.status == "ok" else Unknown(frozenset(r.missing), r.reasons)
        if r.status == "ok" and len(r.values) == 1:
            return r.values[0]
        return Unknown(frozenset(r.missing), r.reasons or (Reason("no_single_value", name),))

    def _compute(self, e: ir.Expr) -> Any:
        v = self.value
        match e:
            case ir.Const(value=c):
                return c
            case ir.Ref(name=n, kind="input"):
                return self.trace.env.get(n, Unknown(frozenset({n})))
            case ir.Ref(name=n, kind="definition"):
                got = self.trace.env.get(n)
                return v(self.rs.definitions[n].expr) if got is None else got
            case ir.Ref(name=n, kind="output"):
                return self.output_value(n)
            case ir.Has(output=o, value=x):
                s = self.output_value(o)
                return s if isinstance(s, Unknown) else x in s
            case ir.Unary(op="not", arg=a):
                return k_not(v(a))
            case ir.Unary(op="neg", arg=a):
                return lift(operator.neg)(v(a))
            case ir.Binary(op="and", left=a, right=b):
                return k_and(v(a), v(b))
            case ir.Binary(op="or", left=a, right=b):
                return k_or(v(a), v(b))
            case ir.Binary(op=op, left=a, right=b):
                return lift(BINOPS[op])(v(a), v(b))
            case ir.In(item=a, choices=cs):
                return k_in(v(a), *(v(c) for c in cs))
            case ir.Ite(cond=c, then=a, other=b):
                cv = v(c)
                return cv if isinstance(cv, Unknown) else v(a) if cv else v(b)
            case ir.Call(fn=fn, args=args):
                return lift(BUILTINS[fn])(*(v(x) for x in args))
            case ir.Lookup(param=p, keys=keys):
                return lookup(self.rs.params[p].table(), p, *(v(k) for k in keys))
        raise TypeError(f"cannot evaluate {e!r}")  # pragma: no cover

    def operand(self, e: ir.Expr, other: ir.Type | None = None) -> str:
        """`name = value` for a name or expression; a constant alone (typed like the other side)."""
        if isinstance(e, ir.Const) and (opt := self.option_of(e)):
            return f"{self.w('option')} {opt} = {self.show(e.value, e.type)}"
        if isinstance(e, ir.Const):
            return self.show(e.value, other if isinstance(other, ir.IntT | ir.EnumT) else e.type)
        name = self.label(e.name) if isinstance(e, ir.Ref) else self.text(e)
        return f"{name} = {self.show(self.value(e), e.type)}"

    # ------------------------------------------------------------ conditions
    def truth(self, e: ir.Expr) -> tuple[bool | None, bool]:
        """(holds, unknown) of a condition."""
        v = self.value(e)
        return (v, False) if isinstance(v, bool) else (None, True)

    def condition(self, e: ir.Expr) -> Step:
        holds, unknown = self.truth(e)
        if isinstance(e, ir.Binary) and e.op in ("and", "or"):
            parts = flatten(e, e.op)
            kids = tuple(self.condition(p) for p in parts)
            return Step("condition", self.w("all" if e.op == "and" else "any"), holds, children=kids, unknown=unknown)
        if isinstance(e, ir.Unary) and e.op == "not":
            return Step("condition", self.w("not"), holds, children=(self.condition(e.arg),), unknown=unknown)
        return Step("condition", self.atom_title(e), holds, children=self.support(e), unknown=unknown)

    def atom_title(self, e: ir.Expr) -> str:
        if isinstance(e, ir.Binary):
            left, right = self.operand(e.left, e.right.type), self.operand(e.right, e.left.type)
            return f"{left} {_OPS.get(e.op, e.op)} {right}"
        if isinstance(e, ir.In):
            choices = ", ".join(self.show(self.value(c), c.type) for c in e.choices)
            return f"{self.operand(e.item)} ∈ [{choices}]"
        if isinstance(e, ir.Has):
            t = self.rs.outputs[e.output].type
            return f"{self.show(e.value, t)} ∈ {self.label(e.output)} = {self.show(self.output_value(e.output), t)}"
        if isinstance(e, ir.Const):
            return self.show(e.value, e.type)
        return self.operand(e)

    def support(self, e: ir.Expr) -> tuple[Step, ...]:
        """Steps for what an expression reads: definitions (with their computation), parameter
        rows and other outputs. Each definition and output is shown once per explanation tree."""
        steps: list[Step] = []
        for n in ir.walk(e):
            if isinstance(n, ir.Ref) and n.kind == "definition" and n.name not in self._shown:
                self._shown.add(n.name)
                steps.append(self.definition(n.name))
            elif isinstance(n, ir.Lookup):
                steps.append(self.parameter(n))
            elif isinstance(n, ir.Ref | ir.Has):
                name = n.name if isinstance(n, ir.Ref) else n.output
                if name in self.rs.outputs and f"output:{name}" not in self._shown:
                    self._shown.add(f"output:{name}")
                    steps.append(self.reference(name))
        return tuple(steps)

    def definition(self, name: str) -> Step:
        d = self.rs.definitions[name]
        args = [
            f"{self.label(r.name)} = {self.show(self.value(r), r.type)}"
            if isinstance(r, ir.Ref)
            else f"{self.w('option')} {self.option_of(r)} = {self.show(self.value(r), r.type)}"
            for r in ir.walk(d.expr)
            if (isinstance(r, ir.Ref) and r.kind != "option") or self.option_of(r)
        ]
        value = self.trace.env.get(name)
        if value is None:
            value = self.value(d.expr)
        title = f"{self.label(name)} = {self.text(d.expr)} = {self.show(value, d.type)}"
        if args:
            title += f"   [{'; '.join(dict.fromkeys(args))}]"
        return Step("definition", title, clauses=d.cites, children=self.support(d.expr))

    def parameter(self, e: ir.Lookup) -> Step:
        p = self.rs.params[e.param]
        keys = [self.value(k) for k in e.keys]
        shown = ", ".join(self.show(k, t) for k, t in zip(keys, p.key_types, strict=True))
        row = next((r for r in p.rows if list(r.key) == keys), None)
        value = self.show(self.value(e), p.type)
        return Step("parameter", f"{e.param}[{shown}] = {value}", clauses=row.cites if row else ())

    def reference(self, name: str) -> Step:

        r = self.decision.results[name]
        title = f"{self.label(name)} = {self.result_text(name, r)}"
        if r.rules:
            title += f"  ← {', '.join(r.rules)}"
        return Step("reference", title, clauses=tuple(clauses_of(self.rs, r.rules)))

    # ------------------------------------------------------------ rules and outputs
    def verdict(self, applies: Any) -> str:
        return self.w("not_applies" if applies is False else "applies" if applies is True else "unknown")

    def exception(self, u: str) -> Step:
        ua = self.trace.applies.get(u)
        r = self.rs.rule(u)
        return Step(
            "exception",
            f"{u}: {self.verdict(ua)}",
            ua is False if isinstance(ua, bool) else None,
            r.cites,
            r.quote,
            unknown=not isinstance(ua, bool),
        )

    def validity_atoms(self, v: ir.Validity) -> list[ir.Expr]:
        """The validity interval as conditions on its input (for why-not)."""
        t = self.rs.inputs[v.on].type
        on = ir.Ref(v.on, "input", t)
        out: list[ir.Expr] = []
        if v.lo is not None:
            out.append(ir.Binary(">=", on, ir.Const(v.lo, t), ir.BOOL))
        if v.hi is not None:
            out.append(ir.Binary("<=", on, ir.Const(v.hi, t), ir.BOOL))
        return out

    def validity(self, v: ir.Validity) -> Step:
        on = self.trace.env.get(v.on, Unknown(frozenset({v.on})))
        t = self.rs.inputs[v.on].type
        span = f"{'' if v.lo is None else self.show(v.lo, t)}..{'' if v.hi is None else self.show(v.hi, t)}"
        holds: bool | None = None
        if not isinstance(on, Unknown):
            holds = (v.lo is None or v.lo <= on) and (v.hi is None or on <= v.hi)
        title = f"{self.label(v.on)} = {self.show(on, t)}, {self.w('in_force')} {span}"
        return Step("validity", title, holds, unknown=holds is None)

    def rule(self, r: ir.Rule, output: str | None = None) -> Step:
        applies = self.trace.applies.get(r.id)
        children = [self.condition(r.when)]
        if r.valid:
            children.append(self.validity(r.valid))
        children += [self.exception(u) for u in r.unless]
        if output is not None and applies is True:
            given = dict(r.then)[output]
            if not isinstance(given, ir.Const):
                t = self.rs.outputs[output].type
                shown = f"{self.text(given)} = {self.show(self.value(given), t)}"
                title = f"{self.w('gives')} {self.label(output)} = {shown}"
                children.append(Step("value", title, children=self.support(given)))
        holds = applies if isinstance(applies, bool) else None
        return Step("rule", r.id, holds, r.cites, r.quote, tuple(children), unknown=holds is None)

    def output(self, name: str) -> Step:
        self._shown = {f"output:{name}"}
        result = self.decision.results[name]
        o = self.rs.outputs[name]
        children: list[Step] = []
        empty_set = o.cardinality == "set" and result.status == "ok" and not result.values
        if result.status in ("gap", "unknown", "none") or empty_set:
            children += [self.rule(r, name) for r in self.targeting.get(name, [])]
        else:
            children += [self.rule(self.rs.rule(rid), name) for rid in result.rules]
        no_rule = not any(self.trace.applies.get(r.id) is True for r in self.targeting.get(name, []))
        if o.default is not None and no_rule and result.status in ("ok", "unknown"):
            value = self.show(self.value(o.default), o.type)
            title = f"{self.w('default')}: {self.text(o.default)}"
            if not isinstance(o.default, ir.Const):
                title += f" = {value}"
            children.append(Step("default", title, children=self.support(o.default)))
        return Step("output", f"{self.label(name)} = {self.result_text(name, result)}", children=tuple(children))


def explain(
    rs: ir.RuleSet,
    decision: Decision,
    trace: Trace,
    outputs: list[str] | None = None,
    lang: Lang = "en",
    source: ir.RuleSet | None = None,
) -> list[Step]:
    """The derivation tree of each output (all of them unless `outputs` names some)."""
    ex = Explainer(rs, decision, trace, lang, source)
    return [ex.output(n) for n in (outputs or list(rs.outputs))]


def broken_constraints(ev: EvalBackend, person: Person, ids: Sequence[str]) -> list[str]:
    """The input constraints among `ids` that do not hold (true) for a person, by eval: values
    from its trace, the short-circuited rest computed from the IR. Works for partial persons."""
    if not ids:
        return []
    decision, trace = ev.decide_traced(person)
    ex = Explainer(ev.rs, decision, trace)
    by_id = {c.id: c for c in ev.rs.constraints}
    return [c for c in ids if ex.value(by_id[c].expr) is not True]


# ---------------------------------------------------------------- readings of the options


def reading_steps(rs: ir.RuleSet, name: str, d: Decision, other: list[Reading], lang: Lang) -> list[Step]:
    """For `elig explain`: per option whose other reading changes the output, a step with the
    option's note and clauses and the output's value under each of its readings (in force first)."""
    words = Words(rs, lang)
    steps = []
    for option in dict.fromkeys(rd.option for rd in other):
        opt = rs.options[option]
        chosen = d.options.get(option, opt.default)
        tag = w("chosen", lang) + (", " + w("default", lang) if chosen == opt.default else "")
        values = [(f"{chosen} ({tag})", d.results[name])] + [
            (rd.value, rd.result) for rd in other if rd.option == option
        ]
        children = tuple(
            Step("value", w("under", lang).format(option=option, value=v) + f": {words.result_text(name, r)}")
            for v, r in values
        )
        title = w("reading_of", lang).format(option=option) + f": {' '.join(opt.note.split())}"
        steps.append(Step("note", title, clauses=tuple(opt.cites), children=children))
    return steps


def with_readings(
    source: ir.RuleSet,
    rs: ir.RuleSet,
    person: Person,
    d: Decision,
    steps: list[Step],
    outputs: list[str] | None,
    lang: Lang,
) -> list[Step]:
    """The explanation steps of `outputs` (all when None), each output whose value another reading
    of an option changes with a step per such option (`reading_steps`). `source` is the rule set
    before option resolution, `rs` the resolved one the steps were built from."""
    from solver.compiled import AnyOptions

    decider = AnyOptions(source)
    other = readings(source, d, lambda o: decider.decide(person, o))
    out = []
    for name, step in zip(outputs or list(rs.outputs), steps, strict=True):
        if name in other:
            step = dataclasses.replace(
                step, children=step.children + tuple(reading_steps(rs, name, d, other[name], lang))
            )
        out.append(step)
    return out

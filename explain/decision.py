"""Rendering a decision. The readable form shows what applies to the person, grouped by programme,
each answer with its clauses; answers that do not concern the person are counted, not listed;
unknown answers are listed by name with what to ask next (the missing fields ranked by how many of
them each would decide, `AskNext`); an answer that another reading of an option changes shows each
reading's value. `full_text` is the old one-line-per-output listing (`decide --all`); JSON keeps
everything."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from solver import ir
from solver.backends.base import Decision, OutputResult, Person
from solver.backends.eval_backend import EvalBackend
from solver.obligations import boundary_of
from solver.passes.deps import deps
from solver.passes.options import resolve
from solver.semantics.reasons import joined, texts

Lang = Literal["zh", "en"]
ASK_AT_MOST = 3  # fields named in the what-to-ask line; the rest of the ranking is counted

PROGRAMMES = {
    "resident": {"zh": "城乡居民医保", "en": "resident scheme"},
    "college": {"zh": "大学生医保", "en": "university students"},
    "employee": {"zh": "职工医保", "en": "employee scheme"},
}
WORDS = {
    "true": {"zh": "是", "en": "yes"},
    "false": {"zh": "否", "en": "no"},
    "yuan": {"zh": "元", "en": " yuan"},
    "empty": {"zh": "（无）", "en": "(none)"},
    "unknown": {"zh": "未知", "en": "unknown"},
    "gap": {"zh": "空缺（没有规则给出值）", "en": "GAP (no rule gives a value)"},  # explain.derivation uses it too
    "conflict": {"zh": "冲突", "en": "CONFLICT"},
    "options": {"zh": "所选解读", "en": "readings chosen"},
    "unknowns": {"zh": "尚不能确定", "en": "not yet decided"},
    "missing": {"zh": "缺少", "en": "missing"},
    "ask": {
        "zh": "下一步应询问（括号内：无论如何回答都能确定的未定答案数+视回答而定的答案数/缺少该项的答案数）",
        "en": "what to ask next (answers each decides whatever the reply + more for some replies / answers lacking it)",
    },
    "ask_more": {"zh": "另有 {n} 项信息", "en": "and {n} more"},
    "not_concerned": {
        "zh": "另有 {n} 项与此人无关（无值或仅为默认值），--all 列出全部",
        "en": "{n} more answers do not concern this person (no value, or only a default); --all lists them",
    },
    "untouched": {
        "zh": "{n} 项尚不能确定，未给出此制度所需的信息",
        "en": "{n} answers not decided; the facts this programme needs are not given",
    },
    "needs_more": {
        "zh": "在 {option}={value} 下，另有 {n} 项答案需要更多信息才能确定",
        "en": "under {option}={value}, {n} more answers would need facts not given",
    },
    "depends": {"zh": "随解读而变", "en": "depends on the reading"},
    "readings_title": {"zh": "改变上述答案的解读", "en": "readings that change the answers above"},
    "all_hold": {
        "zh": "其余答案在 {n} 个解读选项的每种其他解读下（每次改变一个选项）都不变",
        "en": "every other answer stays the same under each other reading of the {n} options (one changed at a time)",
    },
    "default": {"zh": "默认", "en": "default"},
    "chosen": {"zh": "当前", "en": "in force"},
    "reading_of": {"zh": "答案随解读而变：{option}", "en": "the answer depends on the reading of {option}"},
    "under": {"zh": "按 {option}={value}", "en": "under {option}={value}"},
}


def w(key: str, lang: Lang) -> str:
    return WORDS[key][lang]


def show(v: Any) -> str:
    """A value as plain text (JSON, the full listing): dates ISO, booleans lower case."""
    return v.isoformat() if isinstance(v, dt.date) else str(v).lower() if isinstance(v, bool) else str(v)


def show_typed(rs: ir.RuleSet, t: ir.Type, v: Any, lang: Lang) -> str:
    """A value for a reader: enum labels, 是/否, yuan, HH:MM."""
    if isinstance(v, bool):
        return w("true" if v else "false", lang)
    if isinstance(t, ir.EnumT) and isinstance(v, str):
        lab = rs.value_labels.get(t.name, {}).get(v)
        text = (lab.zh if lang == "zh" else lab.en) if lab is not None else ""
        return text or v
    if isinstance(t, ir.IntT) and isinstance(v, int):
        if t.unit == "minute":
            return ir.time_text(v)
        if t.unit == "yuan":
            return f"{v}{w('yuan', lang)}"
    return show(v)


def json_value(t: ir.Type, v: Any) -> Any:
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(t, ir.IntT) and t.unit == "minute" and isinstance(v, int) and not isinstance(v, bool):
        return ir.time_text(v)
    return v


def clauses_of(rs: ir.RuleSet, rule_ids: tuple[str, ...]) -> list[str]:
    seen: list[str] = []
    for rid in rule_ids:
        for c in rs.rule(rid).cites:
            if c not in seen:
                seen.append(c)
    return seen


def result_text(r: OutputResult) -> str:
    if r.status == "ok":
        return "{" + ", ".join(map(show, r.values)) + "}" if len(r.values) != 1 else show(r.values[0])
    if r.status == "conflict":
        return "CONFLICT " + " vs ".join(map(show, r.values))
    if r.status == "unknown":
        why = [f"missing {', '.join(r.missing)}"] if r.missing else []
        return "unknown (" + "; ".join(why + texts(r.reasons)) + ")"
    return {"gap": "GAP (no rule gives a value)", "none": "none"}[r.status]


def full_text(rs: ir.RuleSet, title: str, d: Decision) -> str:
    """Every output on one line with its rules and clauses (`decide --all`)."""
    lines = [f"== {title}"]
    if d.options:
        lines.append("   options: " + ", ".join(f"{k}={v}" for k, v in sorted(d.options.items())))
    width = max((len(n) for n in d.results), default=0)
    for name in rs.outputs:
        r = d.results[name]
        label = rs.outputs[name].labels.zh
        line = f"   {name:<{width}}  {result_text(r)}"
        if r.rules:
            line += f"   <- {', '.join(r.rules)} [{', '.join(clauses_of(rs, r.rules))}]"
        elif r.status == "ok" and rs.outputs[name].default is not None:
            line += "   (default)"
        lines.append(line + (f"   ({label})" if label else ""))
    return "\n".join(lines)


# ---------------------------------------------------------------- readings of the options


@dataclass(frozen=True)
class Reading:
    option: str
    value: str
    result: OutputResult


def _same(a: OutputResult, b: OutputResult) -> bool:
    return (a.status, a.values) == (b.status, b.values)


def readings(
    rs: ir.RuleSet, d: Decision, decide_with: Callable[[Mapping[str, str]], Decision]
) -> dict[str, list[Reading]]:
    """For each output, the other readings (one option changed at a time from those in force)
    that give it another answer. `decide_with(options)` decides the same person under `options`."""
    chosen = {name: d.options.get(name, opt.default) for name, opt in rs.options.items()}
    out: dict[str, list[Reading]] = {}
    for name, opt in rs.options.items():
        for value in opt.type.values:
            if value == chosen[name]:
                continue
            other = decide_with({**d.options, name: value})
            for o, r in other.results.items():
                if not _same(r, d.results[o]):
                    out.setdefault(o, []).append(Reading(name, value, r))
    return out


# ---------------------------------------------------------------- what to ask next


@dataclass(frozen=True)
class Ask:
    """One missing field and how many of the open answers it decides: `always` whatever its value
    (every tried value), `sometimes` for at least one tried value; `lacking`: how many lack it."""

    field: str
    always: int
    sometimes: int
    lacking: int


def _open(r: OutputResult) -> bool:
    """Unknown for want of facts (an answer unknown for a stated reason alone needs no more facts)."""
    return r.status == "unknown" and bool(r.missing)


def tried_values(rs: ir.RuleSet) -> dict[str, tuple[ir.Value, ...]]:
    """Per input, the values tried when ranking it: every value of a finite domain; for a number
    or date, the domain's ends and every constant a comparison of the field with a constant
    (obligations.boundary_of) names, with its neighbours on both sides of the edge."""
    edges: dict[str, set[Any]] = {name: set() for name in rs.inputs}
    exprs: list[ir.Expr] = [d.expr for d in rs.definitions.values()] + [c.expr for c in rs.constraints]
    exprs += [e for r in rs.rules for e in (r.when, *(v for _, v in r.then))]
    for e in exprs:
        for node in ir.walk(e):
            found = boundary_of(node)
            if found is not None and isinstance(found[0], ir.Ref) and found[0].name in edges:
                edges[found[0].name].add(found[1])
    out: dict[str, tuple[ir.Value, ...]] = {}
    for name, inp in rs.inputs.items():
        t = inp.type
        if isinstance(t, ir.BoolT):
            out[name] = (False, True)
        elif isinstance(t, ir.EnumT):
            out[name] = t.values
        elif isinstance(t, ir.IntT):
            near = {c + d for c in edges[name] if isinstance(c, int) for d in (-1, 0, 1)}
            out[name] = tuple(sorted(v for v in near | {t.lo, t.hi} if t.lo <= v <= t.hi))
        else:
            day = dt.timedelta(days=1)
            dates = {c + k * day for c in edges[name] if isinstance(c, dt.date) for k in (-1, 0, 1)}
            out[name] = tuple(sorted(v for v in dates | {t.lo, t.hi} if t.lo <= v <= t.hi))
    return out


def _constraints_as_outputs(rs: ir.RuleSet) -> ir.RuleSet:
    """The input constraints of `rs` (options resolved) as outputs, one per constraint: true when
    it holds, false when it fails, unknown while a field it reads is missing."""
    outputs = {
        f"holds.{c.id}": ir.Output(f"holds.{c.id}", ir.BOOL, "exactly_one", ir.Const(False, ir.BOOL))
        for c in rs.constraints
    }
    rules = tuple(ir.Rule(c.id, (), "", c.expr, ((f"holds.{c.id}", ir.Const(True, ir.BOOL)),)) for c in rs.constraints)
    order = tuple(n for n in rs.order if n in rs.definitions) + tuple(outputs)
    return dataclasses.replace(rs, outputs=outputs, rules=rules, order=order)


class AskNext:
    """Ranks the missing fields of a person's open answers by how many of them each decides, by
    deciding the person again with the field set to each of its tried values (`tried_values`)
    that the input constraints allow with what is known: first the answers decided whatever the
    value, then those decided for some value, then those that lack the field (an answer may need
    two fields, neither deciding it alone), then the name. Deterministic (no time limit) and cheap:
    the eval backend decides a partial person in about a millisecond. Built once per rule set,
    used for every person."""

    def __init__(self, rs: ir.RuleSet) -> None:
        self.rs = rs
        self.values = tried_values(rs)
        self._checkers: dict[tuple[tuple[str, str], ...], EvalBackend] = {}  # per option assignment
        graph = deps(rs)
        self.constrained = {f for c in rs.constraints for f in graph.inputs_read(c.expr)}  # the rest: no check

    def allowed(self, person: Person, options: Mapping[str, str]) -> bool:
        """False when an input constraint fails on the fields known (unknown ones may still hold)."""
        key = tuple(sorted(options.items()))
        if key not in self._checkers:
            self._checkers[key] = EvalBackend(_constraints_as_outputs(resolve(self.rs, options)))
        return all(r.values != (False,) for r in self._checkers[key].decide(person).results.values())

    def __call__(
        self, person: Person, d: Decision, names: list[str], decide: Callable[[Person], Decision]
    ) -> list[Ask]:
        """`names`: the open answers to rank for; `decide` decides a person under `d`'s options."""
        fields = sorted({f for n in names for f in d.results[n].missing if f in self.values})
        ranking = []
        for f in fields:
            always: set[str] | None = None  # None until a value is tried
            sometimes: set[str] = set()
            for v in self.values[f]:
                asked = {**person, f: v}
                if f in self.constrained and not self.allowed(asked, d.options):
                    continue  # a reply no person could give
                got = decide(asked).results
                now = {n for n in names if not _open(got[n])}
                always = now if always is None else always & now
                sometimes |= now
            lacking = sum(1 for n in names if f in d.results[n].missing)
            ranking.append(Ask(f, len(always or ()), len(sometimes), lacking))
        return sorted(ranking, key=lambda a: (-a.always, -a.sometimes, -a.lacking, a.field))


def open_answers(rs: ir.RuleSet, d: Decision, other_readings: Mapping[str, list[Reading]] | None = None) -> list[str]:
    """The open answers `decision_text` lists: those of the programmes where something concerns
    the person (a programme that concerns them not at all is one line, and nothing to ask about)."""
    changed = {n for n, rds in (other_readings or {}).items() if any(rd.result.status != "unknown" for rd in rds)}
    out: list[str] = []
    for names in _by_programme(rs).values():
        shown = any(
            (d.results[n].status == "unknown" and not d.results[n].missing and d.results[n].reasons)
            or (d.results[n].status != "unknown" and (concerns(d.results[n], rs.outputs[n]) or n in changed))
            for n in names
        )
        if shown:
            out += [n for n in names if _open(d.results[n])]
    return out


# ---------------------------------------------------------------- the readable form


def programme_of(out: ir.Output) -> str:
    parts = out.loc.file.replace("\\", "/").split("/")
    return next((p for p in parts if p in PROGRAMMES), "")


def concerns(r: OutputResult, out: ir.Output) -> bool:
    """An answer worth showing: a rule gave it (not only a default), or it is a conflict or a gap."""
    if r.status in ("conflict", "gap"):
        return True
    return r.status == "ok" and bool(r.rules) and bool(r.values)


def _label(rs: ir.RuleSet, name: str, lang: Lang) -> str:
    labels = rs.outputs[name].labels if name in rs.outputs else rs.inputs[name].labels
    return (labels.zh if lang == "zh" else labels.en) or name


def _answer(rs: ir.RuleSet, name: str, r: OutputResult, lang: Lang) -> str:
    t = rs.outputs[name].type
    vals = [show_typed(rs, t, v, lang) for v in r.values]
    if r.status == "conflict":
        return f"{w('conflict', lang)} " + " / ".join(vals)
    if r.status == "gap":
        return w("gap", lang)
    if r.status == "unknown":
        return w("unknown", lang)
    if r.status == "none":
        return w("empty", lang)
    sep = "、" if lang == "zh" else ", "
    return sep.join(vals) if vals else w("empty", lang)


def decision_text(
    rs: ir.RuleSet,
    title: str,
    d: Decision,
    *,
    lang: Lang = "zh",
    other_readings: Mapping[str, list[Reading]] | None = None,
    ask: list[Ask] | None = None,
) -> str:
    """`ask`: the ranking of what to ask next for the open answers (`AskNext` of `open_answers`)."""
    compared = other_readings is not None
    # A reading under which an answer needs more facts is counted per reading, not listed per answer.
    needs_more: Counter[tuple[str, str]] = Counter()
    decided: dict[str, list[Reading]] = {}
    for name, rds in (other_readings or {}).items():
        for rd in rds:
            if rd.result.status == "unknown":
                needs_more[(rd.option, rd.value)] += 1
            else:
                decided.setdefault(name, []).append(rd)
    other_readings = decided
    lines = [f"== {title}"]
    changed = {k: v for k, v in sorted(d.options.items()) if rs.options[k].default != v}
    if changed:
        lines.append(f"   {w('options', lang)}: " + ", ".join(f"{k}={v}" for k, v in changed.items()))
    hidden = 0
    used_options: dict[str, None] = {}
    for prog, names in _by_programme(rs).items():
        shown: list[str] = []
        unknown: list[str] = []
        for name in names:
            r = d.results[name]
            if r.status == "unknown" and r.reasons and not r.missing:
                # unknown for a stated reason (e.g. no published figure): say which
                shown.append(f"   {_label(rs, name, lang)}: {w('unknown', lang)} ({joined(r.reasons, lang)})")
                continue
            if r.status == "unknown":
                unknown.append(name)
                continue
            if not concerns(r, rs.outputs[name]) and name not in other_readings:
                hidden += 1
                continue
            line = f"   {_label(rs, name, lang)}: {_answer(rs, name, r, lang)}"
            if r.rules:
                line += f"  [{', '.join(clauses_of(rs, r.rules))}]"
            shown.append(line)
            for rd in other_readings.get(name, []):
                used_options[rd.option] = None
                other = _answer(rs, name, rd.result, lang)
                shown.append(f"      {w('depends', lang)}: {rd.option}={rd.value} -> {other}")
        if not shown and not unknown:
            continue
        heading = PROGRAMMES[prog][lang] if prog else "-"
        if not shown:  # nothing of this programme concerns the person: one line
            lines.append(f" {heading}: " + w("untouched", lang).format(n=len(unknown)))
            continue
        lines.append(f" {heading}")
        lines.extend(shown)
        if unknown:
            sep = "、" if lang == "zh" else ", "
            listed = sep.join(_label(rs, n, lang) for n in unknown)
            lines.append(f"   {w('unknowns', lang)} ({len(unknown)}): {listed}")
    if ask:
        named = [
            f"{_label(rs, a.field, lang)} ({a.always}"
            + (f"+{a.sometimes - a.always}" if a.sometimes > a.always else "")
            + f"/{a.lacking})"
            for a in ask[:ASK_AT_MOST]
        ]
        if len(ask) > ASK_AT_MOST:
            named.append(w("ask_more", lang).format(n=len(ask) - ASK_AT_MOST))
        lines.append(f" {w('ask', lang)}: " + ("、" if lang == "zh" else ", ").join(named))
    if hidden:
        lines.append(" " + w("not_concerned", lang).format(n=hidden))
    for option, _value in needs_more:
        used_options[option] = None
    if used_options:
        lines.append(f" {w('readings_title', lang)}:")
        for name in used_options:
            opt = rs.options[name]
            chosen = d.options.get(name, opt.default)
            tag = w("chosen", lang) + (", " + w("default", lang) if chosen == opt.default else "")
            lines.append(f"   {name} ({tag}: {chosen}) [{', '.join(opt.cites)}]: {' '.join(opt.note.split())}")
            for (o, value), n in needs_more.items():
                if o == name:
                    lines.append("      " + w("needs_more", lang).format(option=o, value=value, n=n))
    if compared and rs.options:
        lines.append(" " + w("all_hold", lang).format(n=len(rs.options)))
    return "\n".join(lines)


def _by_programme(rs: ir.RuleSet) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {p: [] for p in PROGRAMMES}
    groups[""] = []
    for name, out in rs.outputs.items():
        groups[programme_of(out)].append(name)
    return {p: ns for p, ns in groups.items() if ns}


def decision_json(
    rs: ir.RuleSet,
    case_id: str,
    d: Decision,
    other_readings: Mapping[str, list[Reading]] | None = None,
    ask: list[Ask] | None = None,
) -> dict[str, Any]:
    def res(name: str, r: OutputResult) -> dict[str, Any]:
        t = rs.outputs[name].type
        return {
            "status": r.status,
            "values": [json_value(t, v) for v in r.values],
            "rules": list(r.rules),
            "clauses": clauses_of(rs, r.rules),
            "missing": list(r.missing),
            "reasons": texts(r.reasons),
        }

    out: dict[str, Any] = {
        "id": case_id,
        "backend": d.backend,
        "options": dict(d.options),
        "outputs": {name: res(name, r) for name, r in d.results.items()},
    }
    if other_readings is not None:
        out["readings"] = {
            name: [{"option": rd.option, "value": rd.value, **res(name, rd.result)} for rd in rds]
            for name, rds in other_readings.items()
        }
    if ask is not None:
        out["ask"] = [
            {"field": a.field, "decides_always": a.always, "decides_sometimes": a.sometimes, "lacking": a.lacking}
            for a in ask
        ]
    return out

"""Drafter-declared properties (properties.yaml), proved over the whole input domain or refuted
with a counterexample. The file's shape is solver/language/formats.py (PropertiesFile).

```yaml
properties:
  - id: shanghai_minor_has_category           # over persons: every valid person meeting
    cites: ["000:1.2.1"]                      # `assume` makes `prove` true (known and true)
    quote: "本市户籍的18周岁及以下人员"          # verbatim from a cited clause
    assume: "hukou == 'shanghai' and year_end_age(birth_date, insurance_year) <= 18"
    prove: "resident_category != 'not_eligible'"
  - id: contribution_parts_add_up             # over parameter keys: `for` names the keys; the
    cites: ["002:T1"]                         # property must hold wherever every lookup has a
    quote: "..."                              # row, and the rows must exist together
    for: {year: int, bracket: contribution_bracket}
    prove: "individual[year, bracket] + subsidy[year, bracket] == total[year, bracket]"
```
Expressions are the rule language's, plus every output: an exactly_one or at_most_one output
stands for its value (`deductible_basis == 'per_stay'`; unknown when it has none), a set output
for `'v' in s`, and `is_none(x)` says an output has no value."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from solver import ir
from solver.backends.eval_backend import EvalBackend
from solver.checks.engine import BackendDisagreement, Checker, with_definitions
from solver.checks.findings import Finding
from solver.errors import RuleError, did_you_mean
from solver.language.expressions import NameInfo, ParamInfo, Scope, parse
from solver.language.formats import PropertiesFile
from solver.language.strict_yaml import load
from solver.language.validate import validate
from solver.passes.options import map_expr
from solver.passes.timeline import Span
from solver.query import Unknown
from solver.semantics import goals
from solver.semantics.goals import Goal, holds


@dataclass(frozen=True)
class Property:
    id: str
    cites: tuple[str, ...]
    doc: str
    assume: ir.Expr
    prove: ir.Expr
    keys: tuple[tuple[str, ir.Type], ...] = ()  # parameter-key properties: the `for` names
    kind: Literal["person", "parameter"] = "person"
    loc: ir.Loc = ir.NOWHERE
    quote: str = ""


def _scope(rs: ir.RuleSet, keys: Mapping[str, ir.Type]) -> Scope:
    """Inputs, definitions, parameters and every output: an exactly_one or at_most_one output
    stands for its value (unknown without one), a set output for `'v' in s`; `is_none(x)`."""

    def lookup(name: str, loc: ir.Loc) -> NameInfo | None:
        if name in keys:
            return NameInfo("input", keys[name])
        if name in rs.inputs:
            return NameInfo("input", rs.inputs[name].type)
        if name in rs.definitions:
            return NameInfo("definition", rs.definitions[name].type)
        if name in rs.outputs:
            o = rs.outputs[name]
            return NameInfo("output", o.type, set_valued=o.cardinality == "set")
        return None

    params = {n: ParamInfo(p.key_types, p.type) for n, p in rs.params.items()}
    names = lambda: [*keys, *rs.inputs, *rs.definitions, *rs.outputs]  # noqa: E731
    return Scope(lookup, params, names, {"is_none": lambda name, loc: is_none(rs, name, loc)})


def is_none(rs: ir.RuleSet, name: str, loc: ir.Loc) -> ir.Expr:
    """`is_none(x)`: output x has no value (at_most_one: none, exactly_one: a gap, set: empty), as
    an ordinary expression: no rule giving x applies. Known false as soon as one applies, unknown
    while one may, so both backends give it the meaning of their own output status."""
    o = rs.outputs.get(name)
    if o is None:
        raise RuleError(loc, f"is_none() needs an output, not '{name}'", hint=did_you_mean(name, rs.outputs))
    if o.default is not None:
        raise RuleError(loc, f"output '{name}' has a default, so it always has a value", hint="compare its value")
    by_id = {r.id: r for r in rs.rules}

    def applies(r: ir.Rule) -> ir.Expr:
        parts = [r.when]
        if r.valid is not None:
            on = ir.Ref(r.valid.on, "input", rs.inputs[r.valid.on].type)
            bounds: tuple[tuple[ir.BinaryOp, ir.Value | None], ...] = ((">=", r.valid.lo), ("<=", r.valid.hi))
            for op, bound in bounds:
                if bound is not None:
                    parts.append(ir.Binary(op, on, ir.Const(bound, on.type), ir.BOOL))
        parts += [ir.Unary("not", applies(by_id[u]), ir.BOOL) for u in r.unless]
        return _all(parts)

    return _all([ir.Unary("not", applies(r), ir.BOOL) for r in rs.rules_for(name)])


def _all(parts: list[ir.Expr]) -> ir.Expr:
    out: ir.Expr = parts[0] if parts else ir.Const(True, ir.BOOL)
    for p in parts[1:]:
        out = ir.Binary("and", out, p, ir.BOOL)
    return out


def _key_type(rs: ir.RuleSet, tname: str) -> ir.Type | None:
    builtin: dict[str, ir.Type] = {"int": ir.ANY_INT, "money": ir.ANY_INT, "date": ir.ANY_DATE}
    return builtin.get(tname) or rs.types.get(tname)


def load_properties(rs: ir.RuleSet, root: Path) -> list[Property]:
    """properties.yaml of the folder (none: no properties), read through the strict model; every
    problem is a RuleError with file:line:col."""
    path = root / "properties.yaml"
    if not path.exists():
        return []
    located = load(path)
    data = cast(PropertiesFile, validate(located, PropertiesFile))
    out: list[Property] = []
    seen: dict[str, ir.Loc] = {}
    for i, p in enumerate(data.properties):
        at = ("properties", i)
        if p.id in seen:
            first = f"first at {seen[p.id]}"
            raise RuleError(located.loc((*at, "id")), f"property '{p.id}' is declared twice", hint=first)
        seen[p.id] = located.loc(at)
        keys: dict[str, ir.Type] = {}
        for k, tname in p.for_.items():
            t = _key_type(rs, tname)
            if t is None:
                raise RuleError(
                    located.loc((*at, "for", k)),
                    f"unknown key type '{tname}'",
                    expected="int, money, date or an enum type",
                    hint=did_you_mean(tname, [*rs.types, "int", "money", "date"]),
                )
            keys[k] = t
        for j, c in enumerate(p.cites):
            if c not in rs.clauses:
                hint = did_you_mean(c, rs.clauses)
                raise RuleError(located.loc((*at, "cites", j)), f"cites unknown clause '{c}'", hint=hint)
        if not any(p.quote in rs.clauses[c].text for c in p.cites):
            raise RuleError(
                located.loc((*at, "quote")),
                "the quote is not in the text of any clause it cites",
                expected=f"an exact substring of {', '.join(p.cites)}",
                hint="copy the words from the clause text; full-width punctuation matters",
            )
        scope = _scope(rs, keys)
        assume = parse(p.assume, located.loc((*at, "assume")), scope, ir.BOOL)
        prove = parse(p.prove, located.loc((*at, "prove")), scope, ir.BOOL)
        kind: Literal["person", "parameter"] = "parameter" if keys else "person"
        loc = located.loc(at)
        out.append(Property(p.id, tuple(p.cites), p.doc, assume, prove, tuple(keys.items()), kind, loc, p.quote))
    return out


def check_properties(props: list[Property]) -> Any:
    """A check step for Checker.run: person properties per interval, parameter properties once,
    and a person property that cannot depend on the timeline's input once, over all of it."""
    done: set[str] = set()
    tried: set[str] = set()  # asked over the whole timeline first; only a failure is asked per box

    def step(ch: Checker, span: Span, scope: Goal) -> list[Finding]:
        out: list[Finding] = []
        label = str(span)
        for p in props:
            if p.id in done:
                continue
            if p.kind == "parameter":
                done.add(p.id)
                out += _parameter_property(ch, p)
            elif not set(span.on) & _inputs_read(ch, p):
                done.add(p.id)
                out += _person_property(ch, p, goals.TRUE, "always")
            elif p.id not in tried and not _person_property(ch, p, goals.TRUE, "always"):
                done.add(p.id)  # proved over the whole timeline: no box needs asking
            else:
                tried.add(p.id)
                out += _person_property(ch, p, scope, label)
        return out

    return step


def _inputs_read(ch: Checker, p: Property) -> set[str]:
    """The inputs a property can depend on: its own and those of the outputs and definitions it reads
    (through every rule, exception and validity)."""
    names = ir.refs(p.assume) | ir.refs(p.prove)
    return {i for n in names for i in ({n} if n in ch.rs.inputs else ch.cones.get(n, set()))}


def _violation(ch: Checker, p: Property) -> Goal:
    """A person meeting `assume` for whom `prove` is not known true: a counterexample."""
    return goals.all_of([holds(ch.enc.expr(p.assume)), goals.negate(holds(ch.enc.expr(p.prove)))])


def _person_property(ch: Checker, p: Property, scope: Goal, label: str) -> list[Finding]:
    res, person = ch.ask(ch.solver(scope), _violation(ch, p), person=True, reads=_inputs_read(ch, p))
    if isinstance(res, Unknown):
        return [_finding(ch, "undecided", p, "z3 gave up proving it", label)]
    if person is None:
        return []
    # Re-check by eval: the counterexample must meet `assume` and fail `prove`.
    checker = EvalBackend(with_definitions(ch.rs, {"__assume": p.assume, "__prove": p.prove}))
    _, trace = checker.decide_traced(person)
    if trace.env.get("__assume") is not True or trace.env.get("__prove") is True:
        raise BackendDisagreement(f"property {p.id}: eval does not confirm the counterexample {person}")
    why = (
        f"a person meets `{_text(p.assume)}` but not `{_text(p.prove)}` ({p.doc})"
        if p.doc
        else (f"a person meets `{_text(p.assume)}` but not `{_text(p.prove)}`")
    )
    return [_finding(ch, "property_violation", p, why, label, person)]


def _parameter_property(ch: Checker, p: Property) -> list[Finding]:
    """Over every combination of key values that occurs in the tables the property reads."""
    used = [n for n in ir.walk(p.prove) if isinstance(n, ir.Lookup)]
    names = [k for k, _ in p.keys]
    domains: dict[str, set[ir.Value]] = {k: set() for k in names}
    for look in used:
        table = ch.rs.params[look.param]
        for pos, key in enumerate(look.keys):
            if isinstance(key, ir.Ref) and key.name in domains:
                domains[key.name].update(row.key[pos] for row in table.rows)
    out: list[Finding] = []
    for combo in itertools.product(*(sorted(domains[k], key=str) for k in names)):
        env = dict(zip(names, combo, strict=True))
        known, value = _eval_param_expr(ch, p.prove, env)
        looked = [_eval_param_expr(ch, look, env)[0] for look in used]
        shown = ", ".join(f"{k}={v}" for k, v in env.items())
        if any(looked) and not all(looked):
            missing = [look.param for look, k in zip(used, looked, strict=True) if not k]
            why = f"for {shown}: {', '.join(missing)} has no row while the other tables have one"
            out.append(_finding(ch, "parameter_invariant", p, why, "parameters", None, f"{p.id}:{shown}"))
        elif known and value is not True:
            why = f"for {shown}: `{_text(p.prove)}` is false"
            out.append(_finding(ch, "parameter_invariant", p, why, "parameters", None, f"{p.id}:{shown}"))
    return out


def _eval_param_expr(ch: Checker, e: ir.Expr, env: Mapping[str, ir.Value]) -> tuple[bool, Any]:
    """Evaluate a parameter expression with z3's evaluator on constants: (known, value)."""

    def subst(n: ir.Expr) -> ir.Expr | None:
        if isinstance(n, ir.Ref) and n.name in env:
            return ir.Const(env[n.name], n.type)
        return None

    return goals.constant_value(ch.enc.expr(map_expr(e, subst)))


def _text(e: ir.Expr) -> str:
    from solver.printer import to_text

    return to_text(e)


def _finding(
    ch: Checker,
    kind: Any,
    p: Property,
    why: str,
    label: str,
    witness: Mapping[str, ir.Value] | None = None,
    subject: str | None = None,
) -> Finding:
    return Finding(
        kind,
        subject or p.id,
        (),
        p.cites,
        why,
        (label,),
        dict(witness) if witness is not None else None,
        dict(ch.rs.resolved_options),
    )

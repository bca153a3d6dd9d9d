"""Drafter-declared properties (properties.yaml), proved over the whole input domain or refuted
with a counterexample.

```yaml
properties:
  - id: shanghai_minor_has_category           # over persons: every valid person meeting
    cites: ["000:1.2.1"]                      # `assume` makes `prove` true (known and true)
    assume: "hukou == 'shanghai' and year_end_age(birth_date, insurance_year) <= 18"
    prove: "resident_category != 'not_eligible'"
  - id: contribution_parts_add_up             # over parameter keys: `for` names the keys; the
    cites: ["002:T1"]                         # property must hold wherever every lookup has a
    for: {year: int, bracket: contribution_bracket}   # row, and the rows must exist together
    prove: "individual[year, bracket] + subsidy[year, bracket] == total[year, bracket]"
```
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import z3
from pydantic import BaseModel, ConfigDict, Field

from solver import ir
from solver.backends.eval_backend import EvalBackend
from solver.checks.engine import BackendDisagreement, Checker, holds, with_definitions
from solver.checks.findings import Finding
from solver.errors import RuleError, did_you_mean
from solver.language.expressions import NameInfo, ParamInfo, Scope, parse
from solver.language.loader import validate
from solver.language.strict_yaml import load
from solver.passes.options import map_expr
from solver.passes.timeline import Interval
from solver.semantics.terms import Sym


class _PropertyM(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    id: str
    cites: list[str] = []
    doc: str = ""
    assume: str | bool = True
    prove: str | bool
    for_: dict[str, str] = Field(default_factory=dict, alias="for")


class _PropertiesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    properties: list[_PropertyM]


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


def _scope(rs: ir.RuleSet, keys: Mapping[str, ir.Type]) -> Scope:
    def lookup(name: str, loc: ir.Loc) -> NameInfo | None:
        if name in keys:
            return NameInfo("input", keys[name])
        if name in rs.inputs:
            return NameInfo("input", rs.inputs[name].type)
        if name in rs.definitions:
            return NameInfo("definition", rs.definitions[name].type)
        if name in rs.outputs:
            o = rs.outputs[name]
            if o.cardinality == "at_most_one":
                raise RuleError(loc, f"output '{name}' (at_most_one) cannot be used in an expression")
            return NameInfo("output", o.type, set_valued=o.cardinality == "set")
        return None

    params = {n: ParamInfo(p.key_types, p.type) for n, p in rs.params.items()}
    return Scope(lookup, params, lambda: [*keys, *rs.inputs, *rs.definitions, *rs.outputs])


def load_properties(rs: ir.RuleSet, root: Path) -> list[Property]:
    path = root / "properties.yaml"
    if not path.exists():
        return []
    located = load(path)
    data = cast(_PropertiesFile, validate(located, _PropertiesFile))
    out: list[Property] = []
    for i, p in enumerate(data.properties):
        at = ("properties", i)
        keys: dict[str, ir.Type] = {}
        for k, tname in p.for_.items():
            if tname in ("int", "money"):
                keys[k] = ir.ANY_INT
            elif tname in rs.types:
                keys[k] = rs.types[tname]
            else:
                raise RuleError(
                    located.loc((*at, "for", k)),
                    f"unknown key type '{tname}'",
                    expected="int or an enum type",
                    hint=did_you_mean(tname, rs.types),
                )
        for j, c in enumerate(p.cites):
            if c not in rs.clauses:
                hint = did_you_mean(c, rs.clauses)
                raise RuleError(located.loc((*at, "cites", j)), f"cites unknown clause '{c}'", hint=hint)
        scope = _scope(rs, keys)
        assume = parse(p.assume, located.loc((*at, "assume")), scope, ir.BOOL)
        prove = parse(p.prove, located.loc((*at, "prove")), scope, ir.BOOL)
        kind: Literal["person", "parameter"] = "parameter" if keys else "person"
        out.append(Property(p.id, tuple(p.cites), p.doc, assume, prove, tuple(keys.items()), kind, located.loc(at)))
    return out


def check_properties(props: list[Property]) -> Any:
    """A check step for Checker.run: person properties per interval, parameter properties once."""
    done_params: set[str] = set()

    def step(ch: Checker, span: Interval | None, scope: z3.BoolRef) -> list[Finding]:
        out: list[Finding] = []
        label = str(span) if span else "always"
        for p in props:
            if p.kind == "person":
                out += _person_property(ch, p, scope, label)
            elif p.id not in done_params:
                done_params.add(p.id)
                out += _parameter_property(ch, p)
        return out

    return step


def _person_property(ch: Checker, p: Property, scope: z3.BoolRef, label: str) -> list[Finding]:
    s = ch.solver(scope)
    goal = z3.And(holds(ch.enc.expr(p.assume)), z3.Not(holds(ch.enc.expr(p.prove))))
    res, person = ch.ask(s, goal, person=True)
    if res == z3.unknown:
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

    sym: Sym = ch.enc.expr(map_expr(e, subst))
    known = z3.simplify(sym.known)
    if not z3.is_true(known):
        return False, None
    v = z3.simplify(sym.value)
    return True, (z3.is_true(v) if z3.is_bool(v) else v)


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

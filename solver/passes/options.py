"""Option resolution: substitute the chosen reading of every ambiguous text, giving an IR with no
option references left. Backends only ever see resolved rule sets."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from solver import ir
from solver.errors import InputError, did_you_mean


def choices_with_defaults(rs: ir.RuleSet, choices: Mapping[str, str]) -> dict[str, str]:
    """The full option assignment: the given choices (checked) and the defaults for the rest."""
    for name, value in choices.items():
        if name not in rs.options:
            raise InputError(f"option {name}", "no such option", allowed=", ".join(rs.options) or "(none)")
        values = rs.options[name].type.values
        if value not in values:
            raise InputError(
                f"option {name}",
                f"'{value}' is not a reading of this option",
                allowed=", ".join(values)
                + (f" ({did_you_mean(value, values)})" if did_you_mean(value, values) else ""),
            )
    return {name: choices.get(name, o.default) for name, o in rs.options.items()}


def map_expr(e: ir.Expr, fn: Callable[[ir.Expr], ir.Expr | None]) -> ir.Expr:
    """Rebuild e bottom-up; fn may replace a node (return None to keep it)."""
    replaced = fn(e)
    if replaced is not None:
        return replaced
    match e:
        case ir.Unary(arg=a):
            return dataclasses.replace(e, arg=map_expr(a, fn))
        case ir.Binary(left=a, right=b):
            return dataclasses.replace(e, left=map_expr(a, fn), right=map_expr(b, fn))
        case ir.In(item=a, choices=cs):
            return dataclasses.replace(e, item=map_expr(a, fn), choices=tuple(map_expr(c, fn) for c in cs))
        case ir.Ite(cond=c, then=a, other=b):
            return dataclasses.replace(e, cond=map_expr(c, fn), then=map_expr(a, fn), other=map_expr(b, fn))
        case ir.Call(args=args):
            return dataclasses.replace(e, args=tuple(map_expr(a, fn) for a in args))
        case ir.Lookup(keys=keys):
            return dataclasses.replace(e, keys=tuple(map_expr(k, fn) for k in keys))
    return e


def map_ruleset(rs: ir.RuleSet, fn: Callable[[ir.Expr], ir.Expr | None]) -> ir.RuleSet:
    """Apply an expression rewrite to every expression of the rule set."""

    def mx(e: ir.Expr) -> ir.Expr:
        return map_expr(e, fn)

    return dataclasses.replace(
        rs,
        constraints=tuple(dataclasses.replace(c, expr=mx(c.expr)) for c in rs.constraints),
        definitions={n: dataclasses.replace(d, expr=mx(d.expr)) for n, d in rs.definitions.items()},
        outputs={
            n: dataclasses.replace(o, default=mx(o.default) if o.default else None) for n, o in rs.outputs.items()
        },
        rules=tuple(
            dataclasses.replace(r, when=mx(r.when), then=tuple((o, mx(v)) for o, v in r.then)) for r in rs.rules
        ),
    )


def resolve(rs: ir.RuleSet, choices: Mapping[str, str] | None = None) -> ir.RuleSet:
    chosen = choices_with_defaults(rs, choices or {})

    def subst(e: ir.Expr) -> ir.Expr | None:
        if isinstance(e, ir.Ref) and e.kind == "option":
            return ir.Const(chosen[e.name], e.type, e.loc, option=e.name)
        return None

    return dataclasses.replace(map_ruleset(rs, subst), resolved_options=chosen)


OPTION_INPUT = "option "  # prefix of the input an option becomes: a space, so no vocabulary name can clash


def options_as_inputs(rs: ir.RuleSet) -> ir.RuleSet:
    """rs with every option read from an input `option NAME` of the option's type: one compiled
    rule set decides under every option assignment (`with_options` fills them in), instead of one
    compile per assignment."""

    def subst(e: ir.Expr) -> ir.Expr | None:
        if isinstance(e, ir.Ref) and e.kind == "option":
            return ir.Ref(OPTION_INPUT + e.name, "input", e.type, e.loc)
        return None

    extra = {OPTION_INPUT + n: ir.Input(OPTION_INPUT + n, o.type, loc=o.loc) for n, o in rs.options.items()}
    return dataclasses.replace(map_ruleset(rs, subst), inputs={**rs.inputs, **extra})


def with_options(rs: ir.RuleSet, person: Mapping[str, ir.Value], choices: Mapping[str, str]) -> dict[str, ir.Value]:
    """A person for `options_as_inputs(rs)`: the person plus the full option assignment (checked)."""
    chosen = choices_with_defaults(rs, choices)
    return {**person, **{OPTION_INPUT + n: v for n, v in chosen.items()}}

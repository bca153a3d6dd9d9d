"""IR expressions back to readable text (for explanations, findings and fixtures)."""

from __future__ import annotations

import datetime as dt

from solver import ir

_PREC = {
    "or": 1,
    "and": 2,
    "not": 3,
    "==": 4,
    "!=": 4,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "in": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "//": 6,
    "%": 6,
    "neg": 7,
}


def literal(v: ir.Value) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f"'{v}'"
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def to_text(e: ir.Expr) -> str:
    return _text(e, 0)


def _text(e: ir.Expr, outer: int) -> str:
    test = _option_test(e)
    if test is not None:
        return test
    match e:
        case ir.Const(option=str() as option, value=v) if option:
            return f"[{option}={v}]"
        case ir.Const(value=int() as v, type=ir.IntT(unit="minute")) if not isinstance(v, bool):
            return ir.time_text(v)
        case ir.Const(value=v):
            return literal(v)
        case ir.Ref(name=n):
            return n
        case ir.Has(output=o, value=v):
            return _wrap(f"'{v}' in {o}", 4, outer)
        case ir.Unary(op="not", arg=ir.In() as inner):
            return _wrap(_text(inner, 4).replace(" in ", " not in ", 1), 4, outer)
        case ir.Unary(op="not", arg=a):
            return _wrap(f"not {_text(a, 3)}", 3, outer)
        case ir.Unary(op="neg", arg=a):
            return _wrap(f"-{_text(a, 7)}", 7, outer)
        case ir.Binary(op=op, left=a, right=b):
            p = _PREC[op]
            # Left-associative: the right operand of a same-precedence operator needs parentheses.
            return _wrap(f"{_text(a, p)} {op} {_text(b, p + 1)}", p, outer)
        case ir.In(item=a, choices=cs):
            return _wrap(f"{_text(a, 5)} in [{', '.join(_text(c, 0) for c in cs)}]", 4, outer)
        case ir.Ite(cond=c, then=a, other=b):
            return _wrap(f"if {_text(c, 0)} then {_text(a, 0)} else {_text(b, 0)}", 0, outer + 1 if outer else 0)
        case ir.Call(fn=fn, args=args):
            return f"{fn}({', '.join(_text(a, 0) for a in args)})"
        case ir.Lookup(param=p, keys=keys):
            return f"{p}[{', '.join(_text(k, 0) for k in keys)}]"
    raise TypeError(f"cannot print {e!r}")  # pragma: no cover


def _option_test(e: ir.Expr) -> str | None:
    """A test of a resolved option against readings, as the option's name, its reading and the
    outcome ("[central_period_close_minute=included: true]"), not as 'included' == 'included'."""
    match e:
        case ir.Binary(op="==" | "!=" as op, left=ir.Const() as a, right=ir.Const() as b) if a.option or b.option:
            reading = a if a.option else b
            holds = (a.value == b.value) == (op == "==")
        case ir.In(item=ir.Const(option=str() as option) as reading, choices=cs) if option and all(
            isinstance(c, ir.Const) for c in cs
        ):
            holds = reading.value in [c.value for c in cs if isinstance(c, ir.Const)]
        case _:
            return None
    return f"[{reading.option}={reading.value}: {literal(holds)}]"


def _wrap(s: str, prec: int, outer: int) -> str:
    return f"({s})" if prec < outer else s


def conjuncts(e: ir.Expr) -> list[ir.Expr]:
    """The top-level 'and' parts of a condition."""
    if isinstance(e, ir.Binary) and e.op == "and":
        return conjuncts(e.left) + conjuncts(e.right)
    return [e]


def disjuncts(e: ir.Expr) -> list[ir.Expr]:
    if isinstance(e, ir.Binary) and e.op == "or":
        return disjuncts(e.left) + disjuncts(e.right)
    return [e]

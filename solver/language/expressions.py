"""Expression text -> typed IR. Parsing is lark (LALR), here with its limits; typing is a walk over
its tree (solver/language/typer.py) that checks every operator against the types of its operands and
reports errors with positions."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from solver.errors import RuleError
from solver.ir import Expr, Loc, Type, children
from solver.language.typer import NameInfo, ParamInfo, Scope, Typer, offset

__all__ = ["MAX_EXPR_CHARS", "MAX_NESTING", "NameInfo", "ParamInfo", "Scope", "parse", "parse_tree"]

_FRIENDLY = {
    "NAME": "a name",
    "INT": "a number",
    "DATE": "a date (YYYY-MM-DD)",
    "TIME": "a time of day (HH:MM)",
    "STRING": "a quoted value",
    "CMP": "a comparison (== != < <= > >=)",
    "ADD": "+ or -",
    "MUL": "* // or %",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "$END": "the end of the expression",
    "IF": "'if'",
    "THEN": "'then'",
    "ELSE": "'else'",
    "AND": "'and'",
    "OR": "'or'",
    "NOT": "'not'",
    "IN": "'in'",
    "TRUE": "'true'",
    "FALSE": "'false'",
    "MINUS": "'-'",
}


@cache
def _parser() -> Lark:
    grammar = files("solver.language").joinpath("expr.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def parse_tree(text: str, base: Loc) -> Tree[Token]:
    try:
        return _parser().parse(text)
    except UnexpectedInput as e:
        loc = offset(base, e.line if e.line > 0 else 1, e.column if e.column > 0 else len(text) + 1)
        if isinstance(e, UnexpectedCharacters):
            what = f"unexpected character {text[e.pos_in_stream or 0]!r}"
            hint = "use 'and', 'or', 'not', '==' (not '&&', '||', '!', '=')"
            expected = sorted(e.allowed or ())
        elif isinstance(e, UnexpectedToken | UnexpectedEOF):
            tok = getattr(e, "token", None)
            what = (
                "the expression ends too early" if tok is None or tok.type == "$END" else (f"unexpected {tok.value!r}")
            )
            hint = "check for a missing operand or an unbalanced parenthesis"
            expected = sorted(e.expected)
        else:  # pragma: no cover - lark has no other subclasses
            what, hint, expected = str(e), "", []
        names = sorted({_FRIENDLY.get(t, t.strip("_").lower()) for t in expected})
        raise RuleError(loc, f"cannot parse expression: {what}", expected=", ".join(names), hint=hint) from None


# Limits: real rules nest about 10 deep and stay under 500 characters.
MAX_EXPR_CHARS = 20_000
MAX_NESTING = 40  # brackets in the text and depth of the typed tree


def parse(text: str | bool | int, base: Loc, scope: Scope, want: Type | None = None) -> Expr:
    """Parse and type one expression; `want` checks its type (enum literals take it)."""
    if isinstance(text, bool):
        text = "true" if text else "false"
    text = str(text)
    too_deep = RuleError(
        base,
        f"expression nested more than {MAX_NESTING} deep",
        hint="name parts of it as definitions",
    )
    if len(text) > MAX_EXPR_CHARS:
        raise RuleError(
            base, f"expression of {len(text)} characters (at most {MAX_EXPR_CHARS})", hint="split it into definitions"
        )
    if _bracket_depth(text) > MAX_NESTING:
        raise too_deep
    typer = Typer(base, scope)
    try:
        tree = parse_tree(text, base)
        expr = typer.typed(tree, hint=want)
    except RecursionError:  # e.g. thousands of `not not ...`: refused like deep brackets
        raise too_deep from None
    if _depth(expr) > MAX_NESTING:
        raise too_deep
    if want is not None:
        typer.expect(expr, want, "this expression", tree)
    return expr


def _bracket_depth(text: str) -> int:
    depth = deepest = 0
    quote = ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]":
            depth -= 1
    return deepest


def _depth(e: Expr) -> int:
    deepest, todo = 0, [(e, 1)]
    while todo:
        node, d = todo.pop()
        deepest = max(deepest, d)
        todo.extend((c, d + 1) for c in children(node))
    return deepest

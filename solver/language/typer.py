"""Typing a parsed expression: names resolved in a scope, every operator and builtin checked against its operands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, cast

from lark import Token, Tree

from solver import dates
from solver.errors import RuleError, did_you_mean
from solver.ir import (
    ANY_DATE,
    ANY_INT,
    BOOL,
    MONTH_END,
    TIME_OF_DAY,
    Binary,
    BinaryOp,
    BoolT,
    Builtin,
    Call,
    Const,
    DateT,
    EnumT,
    Expr,
    Has,
    In,
    IntT,
    Ite,
    Loc,
    Lookup,
    Ref,
    Type,
    Unary,
    parse_time,
    same_kind,
)

NameKind = Literal["input", "definition", "output", "option"]


@dataclass(frozen=True)
class NameInfo:
    kind: NameKind
    type: Type
    set_valued: bool = False  # a `set` output: usable only as `'v' in name`


@dataclass(frozen=True)
class ParamInfo:
    key_types: tuple[Type, ...]
    type: Type


class Scope:
    """What names mean while typing. `lookup_name` may type a definition on demand. `name_calls`
    are functions of one bare name that a scope adds (properties: `is_none(output)`)."""

    def __init__(
        self,
        lookup_name: Callable[[str, Loc], NameInfo | None],
        params: dict[str, ParamInfo],
        all_names: Callable[[], list[str]],
        name_calls: Mapping[str, Callable[[str, Loc], Expr]] | None = None,
    ) -> None:
        self.lookup_name, self.params, self.all_names = lookup_name, params, all_names
        self.name_calls = dict(name_calls or {})


MAX_INT_DIGITS = 15
BALANCED_FROM = 16  # longer flat chains of and / or / + become balanced trees (depth log n)


def offset(base: Loc, line: int, col: int) -> Loc:
    return Loc(base.file, base.line + line - 1, (base.col + col - 1) if line == 1 else col)


def _chain(op: BinaryOp, parts: list[Expr], t: Type, loc: Loc) -> Expr:
    """a op b op c ...: left-nested as written, or balanced when long (op is associative)."""
    if len(parts) < BALANCED_FROM:
        out = parts[0]
        for p in parts[1:]:
            out = Binary(op, out, p, t, loc)
        return out
    mid = len(parts) // 2
    return Binary(op, _chain(op, parts[:mid], t, loc), _chain(op, parts[mid:], t, loc), t, loc)


# Builtins: argument kinds -> result type. "int" covers money, "date" dates, "enum" month_end rule.
_BUILTINS: dict[str, tuple[tuple[str, ...], Type]] = {
    "year": (("date",), ANY_INT),
    "month": (("date",), ANY_INT),
    "day": (("date",), ANY_INT),
    "date": (("int", "int", "int"), ANY_DATE),
    "age_at": (("date", "date"), ANY_INT),
    "year_end_age": (("date", "int"), ANY_INT),
    "month_index": (("date",), ANY_INT),
    "first_of_next_month": (("date",), ANY_DATE),
    "add_months": (("date", "int", "month_end"), ANY_DATE),
    "days_between": (("date", "date"), ANY_INT),
    "min": (("ord", "ord"), ANY_INT),
    "max": (("ord", "ord"), ANY_INT),
}


class Typer:
    """The typed IR of a lark tree, with positioned errors."""

    def __init__(self, base: Loc, scope: Scope) -> None:
        self.base, self.scope = base, scope

    # -- helpers
    def loc(self, node: Tree[Token] | Token) -> Loc:
        if isinstance(node, Token):
            return offset(self.base, node.line or 1, node.column or 1)
        meta = node.meta
        return offset(self.base, getattr(meta, "line", 1), getattr(meta, "column", 1))

    def fail(self, node: Tree[Token] | Token, msg: str, expected: str = "", hint: str = "") -> RuleError:
        return RuleError(self.loc(node), msg, expected=expected, hint=hint)

    def expect(self, e: Expr, t: Type, what: str, node: Tree[Token] | Token) -> None:
        if not same_kind(e.type, t):
            raise self.fail(node, f"{what} has type {_kind(e.type)}", expected=_kind(t))

    def enum_literal(self, node: Tree[Token], t: EnumT) -> Const:
        value = str(node.children[0])[1:-1]
        if value not in t.values:
            raise self.fail(
                node,
                f"'{value}' is not a value of {t.name}",
                expected=", ".join(t.values),
                hint=did_you_mean(value, t.values),
            )
        return Const(value, t, self.loc(node))

    # -- the walk
    def typed(self, node: Tree[Token] | Token, hint: Type | None = None) -> Expr:
        if isinstance(node, Token):  # pragma: no cover - the grammar wraps every token
            raise self.fail(node, f"unexpected {node!s}")
        kind = str(node.data)
        kids = node.children
        loc = self.loc(node)
        if kind in ("or_", "and_", "arith") and len(kids) == 1:
            return self.typed(cast(Tree[Token], kids[0]), hint)
        match kind:
            case "int":
                if len(str(kids[0])) > MAX_INT_DIGITS:
                    raise self.fail(node, f"a number of {len(str(kids[0]))} digits (at most {MAX_INT_DIGITS})")
                return Const(int(str(kids[0])), ANY_INT, loc)
            case "date":
                try:
                    day = dt.date.fromisoformat(str(kids[0]))
                except ValueError:
                    raise self.fail(
                        node, f"{kids[0]} is not a calendar date", expected="a real date YYYY-MM-DD"
                    ) from None
                if not dates.FIRST <= day <= dates.LAST:
                    calendar = f"a date in {dates.FIRST}..{dates.LAST}"
                    raise self.fail(node, f"{day} is off the calendar", expected=calendar)
                return Const(day, ANY_DATE, loc)
            case "time":
                minutes = parse_time(str(kids[0]))
                if minutes is None:
                    raise self.fail(node, f"{kids[0]} is not a time of day", expected="HH:MM from 00:00 to 23:59")
                return Const(minutes, TIME_OF_DAY, loc)
            case "true" | "false":
                return Const(kind == "true", BOOL, loc)
            case "string":
                if isinstance(hint, EnumT):
                    return self.enum_literal(node, hint)
                raise self.fail(
                    node,
                    f"cannot tell which enum {kids[0]} belongs to",
                    hint="compare it with a name of an enum type, e.g. hukou == 'shanghai'",
                )
            case "name":
                return self.name(cast(Token, kids[0]))
            case "not_":
                arg = self.typed(cast(Tree[Token], kids[0]), BOOL)
                self.expect(arg, BOOL, "the operand of 'not'", node)
                return _not(arg, loc)
            case "neg":
                arg = self.typed(cast(Tree[Token], kids[0]), ANY_INT)
                self.expect(arg, ANY_INT, "the operand of '-'", node)
                if isinstance(arg, Const):
                    return Const(-cast(int, arg.value), arg.type, loc)
                return Unary("neg", arg, arg.type, loc)
            case "or_" | "and_":
                op: BinaryOp = "or" if kind == "or_" else "and"
                parts = [self.typed(cast(Tree[Token], k), BOOL) for k in kids]
                for p, k in zip(parts, kids, strict=True):
                    self.expect(p, BOOL, f"an operand of '{op}'", cast(Tree[Token], k))
                return _chain(op, parts, BOOL, loc)
            case "arith":
                return self.arith(node)
            case "compare":
                return self.compare(node)
            case "in_list" | "not_in_list":
                item = self.typed(cast(Tree[Token], kids[0]))
                lst = cast(Tree[Token], kids[1])
                choices = tuple(self.operand(cast(Tree[Token], c), item.type) for c in lst.children)
                for c, cn in zip(choices, lst.children, strict=True):
                    self.expect(c, item.type, "a list element", cast(Tree[Token], cn))
                e: Expr = In(item, choices, BOOL, loc)
                return _not(e, loc) if kind == "not_in_list" else e
            case "in_set":
                return self.in_set(node)
            case "ite":
                cond = self.typed(cast(Tree[Token], kids[0]), BOOL)
                self.expect(cond, BOOL, "the condition of 'if'", cast(Tree[Token], kids[0]))
                a_node, b_node = cast(Tree[Token], kids[1]), cast(Tree[Token], kids[2])
                if _is_string(a_node) and not _is_string(b_node):
                    b = self.typed(b_node, hint)
                    a = self.operand(a_node, b.type)
                else:
                    a = self.typed(a_node, hint)
                    b = self.operand(b_node, a.type)
                self.expect(b, a.type, "the 'else' branch", b_node)
                return Ite(cond, a, b, _join(a.type, b.type), loc)
            case "call":
                return self.call(node)
            case "lookup":
                return self.lookup(node)
        raise self.fail(node, f"unsupported expression form '{kind}'")  # pragma: no cover

    def operand(self, node: Tree[Token], other: Type) -> Expr:
        """Type `node` where an enum literal takes its type from `other`."""
        return self.typed(node, other)

    def name(self, tok: Token) -> Expr:
        name = str(tok)
        info = self.scope.lookup_name(name, self.loc(tok))
        if info is None:
            if name in self.scope.params:
                raise self.fail(tok, f"'{name}' is a parameter table", hint=f"look it up: {name}[key, ...]")
            if name in _BUILTINS:
                raise self.fail(tok, f"'{name}' is a function", hint=f"call it: {name}(...)")
            raise self.fail(
                tok,
                f"unknown name '{name}'",
                expected="an input, definition, output or option",
                hint=did_you_mean(name, self.scope.all_names()),
            )
        if info.set_valued:
            raise self.fail(tok, f"'{name}' is a set output", hint=f"test membership: 'value' in {name}")
        return Ref(name, info.kind, info.type, self.loc(tok))

    def arith(self, node: Tree[Token]) -> Expr:
        kids = node.children
        ops = {str(k) for k in kids[1::2]}
        if ops == {"+"} and len(kids) // 2 + 1 >= BALANCED_FROM:
            parts = [self.typed(cast(Tree[Token], k), ANY_INT) for k in kids[::2]]
            for p, k in zip(parts, kids[::2], strict=True):
                self.expect(p, ANY_INT, "an arithmetic operand", cast(Tree[Token], k))
            unit = parts[0].type.unit if isinstance(parts[0].type, IntT) else ""
            return _chain("+", parts, IntT(ANY_INT.lo, ANY_INT.hi, unit), self.loc(cast(Token, kids[1])))
        out = self.typed(cast(Tree[Token], kids[0]), ANY_INT)
        self.expect(out, ANY_INT, "an arithmetic operand", cast(Tree[Token], kids[0]))
        for i in range(1, len(kids), 2):
            op_tok, rnode = cast(Token, kids[i]), cast(Tree[Token], kids[i + 1])
            right = self.typed(rnode, ANY_INT)
            self.expect(right, ANY_INT, "an arithmetic operand", rnode)
            op = cast(BinaryOp, str(op_tok))
            if op in ("*", "//", "%") and not (isinstance(out, Const) or isinstance(right, Const)):
                raise self.fail(
                    op_tok,
                    f"'{op}' needs a constant on one side",
                    hint="rule arithmetic stays linear so that solvers can decide it",
                )
            if op in ("//", "%") and not (isinstance(right, Const) and cast(int, right.value) > 0):
                raise self.fail(op_tok, f"'{op}' needs a positive constant divisor")
            unit = out.type.unit if isinstance(out.type, IntT) else ""
            out = Binary(op, out, right, IntT(ANY_INT.lo, ANY_INT.hi, unit), self.loc(op_tok))
        return out

    def compare(self, node: Tree[Token]) -> Expr:
        lnode, op_tok, rnode = (
            cast(Tree[Token], node.children[0]),
            cast(Token, node.children[1]),
            cast(Tree[Token], node.children[2]),
        )
        if _is_string(lnode) and not _is_string(rnode):
            right = self.typed(rnode)
            left = self.operand(lnode, right.type)
        else:
            left = self.typed(lnode)
            right = self.operand(rnode, left.type)
        op = cast(BinaryOp, str(op_tok))
        if not same_kind(left.type, right.type):
            raise self.fail(
                op_tok,
                f"cannot compare {_kind(left.type)} with {_kind(right.type)}",
                expected="two values of the same type",
            )
        if op not in ("==", "!=") and not isinstance(left.type, IntT | DateT):
            raise self.fail(
                op_tok,
                f"'{op}' orders numbers and dates, not {_kind(left.type)}",
                hint="use == or != (or 'in [...]') for enums and booleans",
            )
        return Binary(op, left, right, BOOL, self.loc(op_tok))

    def in_set(self, node: Tree[Token]) -> Expr:
        item_node, name_tok = cast(Tree[Token], node.children[0]), cast(Token, node.children[1])
        name = str(name_tok)
        info = self.scope.lookup_name(name, self.loc(name_tok))
        if info is None or not info.set_valued:
            raise self.fail(
                name_tok, f"'{name}' is not a set output", hint="for a list of values write x in ['a', 'b']"
            )
        assert isinstance(info.type, EnumT)  # the loader only allows enum set outputs
        if not _is_string(item_node):
            raise self.fail(
                item_node, "membership in a set output needs a quoted value", expected=", ".join(info.type.values)
            )
        value = self.enum_literal(_bare(item_node), info.type)
        return Has(name, cast(str, value.value), BOOL, self.loc(node))

    def call(self, node: Tree[Token]) -> Expr:
        fn_tok = cast(Token, node.children[0])
        fn = str(fn_tok)
        if fn in self.scope.name_calls:
            return self.name_call(node, fn)
        if fn not in _BUILTINS:
            known = sorted([*_BUILTINS, *self.scope.name_calls])
            raise self.fail(fn_tok, f"unknown function '{fn}'", expected=", ".join(known), hint=did_you_mean(fn, known))
        kinds, result = _BUILTINS[fn]
        arg_nodes = [cast(Tree[Token], c) for c in node.children[1:]]
        if len(arg_nodes) != len(kinds):
            raise self.fail(
                fn_tok,
                f"{fn}() takes {len(kinds)} argument(s), got {len(arg_nodes)}",
                expected=f"{fn}({', '.join(kinds)})",
            )
        args: list[Expr] = []
        for k, an in zip(kinds, arg_nodes, strict=True):
            want: Type = ANY_DATE if k == "date" else MONTH_END if k == "month_end" else ANY_INT
            a = self.typed(an, want)
            if k == "ord":
                if not isinstance(a.type, IntT | DateT):
                    raise self.fail(an, f"{fn}() compares numbers or dates, not {_kind(a.type)}")
                if args and not same_kind(args[0].type, a.type):
                    raise self.fail(an, f"{fn}() needs two values of one type")
            elif k == "month_end":
                if not (isinstance(a.type, EnumT) and set(a.type.values) == set(MONTH_END.values)):
                    raise self.fail(
                        an,
                        f"{fn}()'s last argument says what happens at month end",
                        expected="'clamp' or 'roll', or an option with exactly those values",
                    )
            else:
                self.expect(a, want, f"argument {len(args) + 1} of {fn}()", an)
            args.append(a)
        if fn in ("min", "max"):
            result = args[0].type
        return Call(cast(Builtin, fn), tuple(args), result, self.loc(node))

    def name_call(self, node: Tree[Token], fn: str) -> Expr:
        args = [_bare(cast(Tree[Token], c)) for c in node.children[1:]]
        if len(args) != 1 or str(args[0].data) != "name":
            raise self.fail(node, f"{fn}() takes one name", expected=f"{fn}(an output name)")
        tok = cast(Token, args[0].children[0])
        return self.scope.name_calls[fn](str(tok), self.loc(tok))

    def lookup(self, node: Tree[Token]) -> Expr:
        name_tok = cast(Token, node.children[0])
        name = str(name_tok)
        info = self.scope.params.get(name)
        if info is None:
            raise self.fail(name_tok, f"unknown parameter table '{name}'", hint=did_you_mean(name, self.scope.params))
        key_nodes = [cast(Tree[Token], c) for c in node.children[1:]]
        if len(key_nodes) != len(info.key_types):
            raise self.fail(name_tok, f"{name} has {len(info.key_types)} key(s), got {len(key_nodes)}")
        keys = []
        for kt, kn in zip(info.key_types, key_nodes, strict=True):
            k = self.typed(kn, kt)
            self.expect(k, kt, f"a key of {name}", kn)
            keys.append(k)
        return Lookup(name, tuple(keys), info.type, self.loc(node))


def _bare(node: Tree[Token]) -> Tree[Token]:
    """The node under single-child wrapper nodes."""
    while str(node.data) in ("or_", "and_", "arith") and len(node.children) == 1:
        node = cast(Tree[Token], node.children[0])
    return node


def _is_string(node: Tree[Token]) -> bool:
    return str(_bare(node).data) == "string"


def _not(e: Expr, loc: Loc) -> Expr:
    return Unary("not", e, BOOL, loc)


def _join(a: Type, b: Type) -> Type:
    if isinstance(a, IntT) and isinstance(b, IntT):
        return IntT(min(a.lo, b.lo), max(a.hi, b.hi), a.unit or b.unit)
    return a


def _kind(t: Type) -> str:
    if isinstance(t, BoolT):
        return "bool"
    if isinstance(t, IntT):
        return {"yuan": "money", "minute": "time"}.get(t.unit, "int")
    if isinstance(t, DateT):
        return "date"
    return f"enum {t.name}"

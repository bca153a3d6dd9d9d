"""The eval backend's code generator for expressions: an IR expression to Python source."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from solver import dates, ir
from solver.errors import shorten
from solver.passes.calendar import CalendarBounds
from solver.printer import to_text
from solver.semantics.values import BINOPS, lift, on_calendar

_DATE_MAKERS: dict[str, Callable[..., Any]] = {
    "date": dates.make_date,
    "first_of_next_month": dates.first_of_next_month,
    "add_months": dates.add_months,
}

_NOT_CONST = object()  # fold(): the expression is not a constant
_NONE = object()  # generated code: no rule has given the output a value yet


@dataclass
class _ExprGen:
    """Compiles IR expressions to Python code: constants folded, and three-valued logic only
    where a sub-expression can be unknown."""

    rs: ir.RuleSet
    partial: bool
    trace: bool
    consts: dict[str, Any] = field(default_factory=dict)
    maybe_unknown: dict[str, bool] = field(default_factory=dict)
    nodes: list[ir.Expr] = field(default_factory=list)
    variables: dict[tuple[str, str], str] = field(default_factory=dict)
    folded: dict[int, tuple[ir.Expr, Any]] = field(default_factory=dict)
    temps: int = 0
    calendar: CalendarBounds | None = None

    def bounds(self) -> CalendarBounds:
        if self.calendar is None:
            self.calendar = CalendarBounds(self.rs)
        return self.calendar

    def var(self, kind: str, name: str) -> str:
        """The local holding an input/definition/output: an index, never the name from the file."""
        key = (kind, name)
        if key not in self.variables:
            self.variables[key] = f"{kind[0]}{len(self.variables)}"
        return self.variables[key]

    def const(self, value: Any) -> str:
        if isinstance(value, bool | int | str) or value is None:
            return repr(value)
        name = f"_c{len(self.consts)}"
        self.consts[name] = value
        return name

    def fold(self, e: ir.Expr) -> Any:
        """The value of an expression made of constants only (options are constants once
        resolved), or _NOT_CONST. Traced runs fold nothing: every node keeps its recorded value."""
        if self.trace:
            return _NOT_CONST
        # Memoised by id with the node kept: codegen builds temporary nodes (validity tests)
        # whose ids are reused once freed.
        hit = self.folded.get(id(e))
        if hit is None or hit[0] is not e:
            hit = self.folded[id(e)] = (e, self._fold(e))
        return hit[1]

    def _fold(self, e: ir.Expr) -> Any:
        match e:
            case ir.Const(value=v):
                return v
            case ir.Unary(op="not", arg=a):
                v = self.fold(a)
                return _NOT_CONST if v is _NOT_CONST else not v
            case ir.Binary(op="and" | "or", left=a, right=b):
                x, y = self.fold(a), self.fold(b)
                absorbing = e.op == "or"  # false and _ = false; true or _ = true
                if x is absorbing or y is absorbing:
                    return absorbing
                return _NOT_CONST if x is _NOT_CONST or y is _NOT_CONST else y
            case ir.Binary(op="==" | "!=" | "<" | "<=" | ">" | ">=", left=a, right=b):
                x, y = self.fold(a), self.fold(b)
                return _NOT_CONST if x is _NOT_CONST or y is _NOT_CONST else BINOPS[e.op](x, y)
            case ir.Ite(cond=c, then=a, other=b):
                v = self.fold(c)
                return _NOT_CONST if v is _NOT_CONST else self.fold(a if v else b)
        return _NOT_CONST

    def mu(self, e: ir.Expr) -> bool:
        """Whether e can be unknown (then it is compiled with three-valued helpers)."""
        if self.fold(e) is not _NOT_CONST:
            return False
        match e:
            case ir.Lookup():
                return True
            case ir.Ref(kind="input"):
                return self.partial
            case ir.Ref(kind="definition" | "output", name=n):
                return self.maybe_unknown.get(n, True)
            case ir.Has(output=o):
                return self.maybe_unknown.get(o, True)
            case ir.Call() if self.bounds().may_leave(e):
                return True
        return any(self.mu(c) for c in ir.children(e))

    def expr(self, e: ir.Expr) -> str:
        if self.trace:
            # A walrus into a local per node costs a store, not a call: the traced run hands all
            # of them to _rec once at the end (nodes never reached keep the _UNSET marker).
            self.nodes.append(e)
            return f"(_n{len(self.nodes) - 1} := {self._expr(e)})"
        v = self.fold(e)
        return self._expr(e) if v is _NOT_CONST else self.const(v)

    def tmp(self) -> str:
        self.temps += 1
        return f"_t{self.temps}"

    def bind(self, e: ir.Expr) -> tuple[str, str]:
        """(code that evaluates e into a local, that local): a local or constant as it is."""
        code = self.expr(e)
        if code.isidentifier() or self.fold(e) is not _NOT_CONST:
            return code, code
        t = self.tmp()
        return f"({t} := {code})", t

    def _expr(self, e: ir.Expr) -> str:
        if not self.trace and self.mu(e):
            code = self._kleene(e)
            if code is not None:
                return code
        match e:
            case ir.Const(value=v):
                return self.const(v)
            case ir.Ref(name=n, kind=kind):
                if kind == "option":
                    raise ValueError(f"option {n} is not resolved; run solver.passes.options.resolve first")
                return self.var(kind, n)
            case ir.Has(output=o, value=v):
                out = self.var("output", o)
                return f"_l_contains({out}, {v!r})" if self.mu(e) else f"({v!r} in {out})"
            case ir.Unary(op="not", arg=a):
                return f"_k_not({self.expr(a)})" if self.mu(e) else f"(not {self.expr(a)})"
            case ir.Unary(op="neg", arg=a):
                return f"_l_neg({self.expr(a)})" if self.mu(e) else f"(-{self.expr(a)})"
            case ir.Binary(op="and" | "or", left=a, right=b):
                # Traced runs evaluate both sides (same value), so every condition has a value
                # for explanations and coverage, not only those before a short circuit.
                if self.mu(e) or self.trace:
                    return f"_k_{e.op}({self.expr(a)}, {self.expr(b)})"
                # A constant side of and/or is its identity here (an absorbing one folds the whole).
                kept = [self.expr(s) for s in (a, b) if self.fold(s) is _NOT_CONST]
                return kept[0] if len(kept) == 1 else f"({kept[0]} {e.op} {kept[1]})"
            case ir.Binary(op=op, left=a, right=b):
                if self.mu(e):
                    return f"_l_binops[{op!r}]({self.expr(a)}, {self.expr(b)})"
                return f"({self.expr(a)} {op} {self.expr(b)})"
            case ir.In(item=a, choices=cs):
                if self.mu(e):
                    return f"_k_in({self.expr(a)}, {', '.join(self.expr(c) for c in cs)})"
                values = [self.fold(c) for c in cs]
                if _NOT_CONST not in values and not self.trace:
                    return f"({self.expr(a)} in {self.const(frozenset(values))})"
                tmp = self.tmp()
                first, *rest = [self.expr(c) for c in cs] or ["None"]
                return f"(({tmp} := {self.expr(a)}) == {first}" + "".join(f" or {tmp} == {c}" for c in rest) + ")"
            case ir.Ite(cond=c, then=a, other=b):
                chosen = self.fold(c)
                if chosen is not _NOT_CONST:
                    return self.expr(a if chosen else b)
                if self.mu(e):
                    return f"_k_ite({self.expr(c)}, {self.expr(a)}, {self.expr(b)})"
                return f"({self.expr(a)} if {self.expr(c)} else {self.expr(b)})"
            case ir.Call(fn=fn, args=args):
                inner = ", ".join(self.expr(a) for a in args)
                if self.bounds().may_leave(e):  # the reason names the call and where it is written
                    where = f"{shorten(to_text(e))} at {e.loc}"
                    checked = self.const(lift(on_calendar(_DATE_MAKERS[fn], where)))
                    return f"{checked}({inner})"
                if self.mu(e):
                    return f"_l_builtins[{fn!r}]({inner})"
                if fn in ("year", "month", "day"):
                    return f"{inner}.{fn}"
                return f"_f_{fn}({inner})"
            case ir.Lookup(param=p, keys=keys):
                table = self.const(self.rs.params[p].table())
                return f"_lookup({table}, {p!r}, {', '.join(self.expr(k) for k in keys)})"
        raise TypeError(f"cannot compile {e!r}")  # pragma: no cover

    def kleene(self, op: str, a: str, b: str) -> str:
        """Code of the Kleene `a op b` (op and/or) over two code strings, as k_and / k_or."""
        absorbing, identity = ("False", "True") if op == "and" else ("True", "False")
        ta, tb = (c if c.isidentifier() else self.tmp() for c in (a, b))
        ca, cb = (c if c == t else f"({t} := {c})" for c, t in ((a, ta), (b, tb)))
        return (
            f"({absorbing} if {ca} is {absorbing} else ({tb} if {cb} is {absorbing} or {ta} is {identity} "
            f"else ({ta} if {tb} is {identity} else _merge({ta}, {tb}))))"
        )

    def strict(self, args: Sequence[ir.Expr], build: Callable[[list[str]], str]) -> str:
        """Code of an operation on known values that is unknown when an argument is (the
        unknowns merged, as solver.semantics.lift): only arguments that can be unknown are tested."""
        checks, uses, unknowns = [], [], []
        for a in args:
            if self.mu(a):
                code, local = self.bind(a)
                checks.append(f"({code}).__class__ is _U")
                uses.append(local)
                unknowns.append(local)
            else:
                uses.append(self.expr(a))
        if not checks:
            return f"({build(uses)})"
        if len(checks) == 1:
            return f"({unknowns[0]} if {checks[0]} else {build(uses)})"
        # `|`, not `or`: every argument is evaluated, so that all their unknowns merge.
        return f"(_merge({', '.join(unknowns)}) if {' | '.join(f'({c})' for c in checks)} else {build(uses)})"

    def _kleene(self, e: ir.Expr) -> str | None:
        """Three-valued code for the plain run, the same values as the solver.semantics helpers
        without a call in the common case: an unknown operand is tested by its class, and the
        second side of and/or is skipped once the first decides (expressions are pure)."""

        def unknown(local: str) -> str:
            return f"{local}.__class__ is _U"

        match e:
            case ir.Binary(op="and" | "or", left=a, right=b):
                # A two-valued side decides alone when absorbing, else the other side is the value.
                for plain, other in ((a, b), (b, a)):
                    if not self.mu(plain):
                        if e.op == "and":
                            return f"({self.expr(other)} if {self.expr(plain)} else False)"
                        return f"(True if {self.expr(plain)} else {self.expr(other)})"
                return self.kleene(e.op, self.expr(a), self.expr(b))
            case ir.Unary(op=op, arg=a):
                ca, ta = self.bind(a)
                return f"({ta} if {unknown(ca)} else {'not' if op == 'not' else '-'} {ta})"
            case ir.Binary(op=op, left=a, right=b):
                return self.strict([a, b], lambda x: f"{x[0]} {op} {x[1]}")
            case ir.Call(fn=fn, args=args) if not self.bounds().may_leave(e):
                if fn in ("year", "month", "day"):
                    return self.strict(args, lambda x: f"{x[0]}.{fn}")
                return self.strict(args, lambda x: f"_f_{fn}({', '.join(x)})")
            case ir.Lookup(param=p, keys=keys):
                # A row found is the value; a miss (or an unknown key) is lookup's unknown.
                table = self.const(self.rs.params[p].table())
                found = self.tmp()
                bound = [self.bind(k) for k in keys]
                key = "".join(f"{c}, " for c, _ in bound)
                again = ", ".join(t for _, t in bound)
                hit = f"({found} := {table}.get(({key}), _NONE)) is not _NONE"
                return f"({found} if {hit} else _lookup({table}, {p!r}, {again}))"
            case ir.In(item=a, choices=cs) if not any(self.mu(c) for c in cs):
                values = [self.fold(c) for c in cs]
                if _NOT_CONST not in values:
                    ca, ta = self.bind(a)
                    return f"({ta} if {unknown(ca)} else {ta} in {self.const(frozenset(values))})"
            case ir.Ite(cond=c, then=a, other=b):
                if not self.mu(c):
                    return f"({self.expr(a)} if {self.expr(c)} else {self.expr(b)})"
                cc, tc = self.bind(c)
                return f"({tc} if {unknown(cc)} else ({self.expr(a)} if {tc} else {self.expr(b)}))"
            case ir.Has(output=o, value=v):
                out = self.var("output", o)
                return f"({out} if {unknown(out)} else {v!r} in {out})"
        return None  # the rest (lookups, builtins, `in` with unknown choices) call the helpers

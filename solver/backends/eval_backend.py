"""The reference semantics: the IR compiled once to straight-line Python source.

Code is generated from the typed IR (never from rule text), compiled once per rule set, and
called per person. The generated `run` does only the work of the rules: it computes every rule's
applicability, the values of the rules that apply, and the values of the outputs that other
expressions read; an output's result (status, values, rules) is built from those only when
someone asks for it. Only sub-expressions that can be unknown (parameter lookups, output
references, and inputs when the person may be partial) pay for three-valued logic; the rest is
plain Python. Traced runs are compiled separately and record every evaluated node's value."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, cast

from solver import dates, ir
from solver.backends.base import Decision, OutputResult, Person, Status
from solver.errors import shorten
from solver.passes.calendar import CalendarBounds
from solver.printer import to_text
from solver.semantics.reasons import NOT_EVALUATED, Reason
from solver.semantics.values import (
    BINOPS,
    BUILTINS,
    NO_DEFAULT,
    Unknown,
    finish,
    k_and,
    k_in,
    k_ite,
    k_not,
    k_or,
    lift,
    lookup,
    merge_unknown,
    on_calendar,
)

# ---------------------------------------------------------------- result plans


@dataclass(frozen=True)
class _Target:
    """A rule giving an output a value: its index in the applies tuple, and its value, either a
    constant or a slot of the values tuple."""

    rule: int
    rule_id: str
    slot: int  # -1: the value is `value`
    value: Any = None


@dataclass(frozen=True)
class _Plan:
    """How an output's raw result is built from a run's (applies, values, defaults) tuples, by
    the shared `finish` of solver.semantics (the same code every backend is compared with)."""

    name: str
    cardinality: str
    targets: tuple[_Target, ...]
    default_slot: int  # -1: the default is `default` (NO_DEFAULT when there is none)
    default: Any = NO_DEFAULT

    def result(self, run: tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]) -> OutputResult:
        """The output's result; the common case (one known value, from one applying rule or the
        default) directly, everything else through `finish`."""
        applies, values, defaults = run
        hit: _Target | None = None
        for t in self.targets:
            a = applies[t.rule]
            if a is False:
                continue
            if a is not True or hit is not None:
                break
            hit = t
        else:
            if hit is None:
                v = defaults[self.default_slot] if self.default_slot >= 0 else self.default
                if v is not NO_DEFAULT and not isinstance(v, Unknown):
                    return _ok(self.name, (v,), ())
            else:
                v = values[hit.slot] if hit.slot >= 0 else hit.value
                if not isinstance(v, Unknown):
                    return _ok(self.name, (v,), (hit.rule_id,))
        status, vals, rules, unknown = self.build(run)
        return OutputResult(
            self.name,
            cast(Status, status),
            tuple(vals),
            tuple(rules),
            tuple(sorted(unknown.missing)) if unknown else (),
            unknown.reasons if unknown else (),
        )

    def build(self, run: tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]) -> tuple[Any, ...]:
        applies, values, defaults = run
        applying: list[str] = []
        got: list[Any] = []
        unknown: list[Any] = []
        for t in self.targets:
            a = applies[t.rule]
            if a is True:
                applying.append(t.rule_id)
                got.append(values[t.slot] if t.slot >= 0 else t.value)
            elif a is not False:
                unknown.append(a)
        default = defaults[self.default_slot] if self.default_slot >= 0 else self.default
        return finish(self.cardinality, applying, got, unknown, default, self.name)[1]


def _ok(name: str, values: tuple[Any, ...], rules: tuple[str, ...]) -> OutputResult:
    """OutputResult(name, "ok", values, rules), filled in directly: a frozen dataclass's __init__
    sets each field through object.__setattr__, which cost more than the rules of a small set."""
    r = object.__new__(OutputResult)
    r.__dict__.update(output=name, status="ok", values=values, rules=rules, missing=(), reasons=())
    return r


def _decision(results: Mapping[str, OutputResult], options: Mapping[str, str]) -> Decision:
    """Decision(results, options, "eval"), filled in directly as _ok is."""
    d = object.__new__(Decision)
    d.__dict__.update(results=results, options=options, backend="eval")
    return d


# ---------------------------------------------------------------- code generation

_DATE_MAKERS: dict[str, Callable[..., Any]] = {
    "date": dates.make_date,
    "first_of_next_month": dates.first_of_next_month,
    "add_months": dates.add_months,
}

_NOT_CONST = object()  # fold(): the expression is not a constant
_NONE = object()  # generated code: no rule has given the output a value yet


def _refs(e: ir.Expr) -> Iterator[tuple[str, str]]:
    """(kind, name) of every name an expression reads."""
    match e:
        case ir.Ref(kind=kind, name=n):
            yield kind, n
        case ir.Has(output=o):
            yield "output", o
    for c in ir.children(e):
        yield from _refs(c)


def _definitions_read(rs: ir.RuleSet, roots: Iterable[ir.Expr]) -> tuple[set[str], bool]:
    """The definitions the roots read (transitively) and whether any of them reads an output."""
    todo = list(roots)
    seen: set[str] = set()
    reads_output = False
    while todo:
        for kind, n in _refs(todo.pop()):
            if kind == "output":
                reads_output = True
            elif kind == "definition" and n not in seen:
                seen.add(n)
                todo.append(rs.definitions[n].expr)
    return seen, reads_output


@dataclass
class _Gen:
    rs: ir.RuleSet
    partial: bool
    trace: bool
    consts: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    maybe_unknown: dict[str, bool] = field(default_factory=dict)
    nodes: list[ir.Expr] = field(default_factory=list)
    variables: dict[tuple[str, str], str] = field(default_factory=dict)
    plans: dict[str, _Plan] = field(default_factory=dict)
    value_slots: list[str] = field(default_factory=list)
    default_slots: list[str] = field(default_factory=list)
    windows: dict[tuple[str, Any, Any], str] = field(default_factory=dict)
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

    def emit(self, line: str, indent: int = 1) -> None:
        self.lines.append("    " * indent + line)

    def window(self, v: ir.Validity) -> tuple[list[str], bool]:
        """The test that the rule's validity input lies in [lo, hi]: in plain runs one local per
        distinct interval (many rules share one), in traced runs nodes of their own."""
        on = ir.Ref(v.on, "input", self.rs.inputs[v.on].type)
        ends: tuple[tuple[ir.BinaryOp, Any], ...] = ((">=", v.lo), ("<=", v.hi))
        tests = [
            self.expr(ir.Binary(op, on, ir.Const(bound, on.type), ir.BOOL)) for op, bound in ends if bound is not None
        ]
        if self.trace or not tests:
            return tests, self.partial
        key = (v.on, v.lo, v.hi)
        if key not in self.windows:
            self.windows[key] = f"_w{len(self.windows)}"
            code = (
                tests[0]
                if len(tests) == 1
                else (f"_k_and({tests[0]}, {tests[1]})" if self.partial else f"({tests[0]} and {tests[1]})")
            )
            self.emit(f"{self.windows[key]} = {code}")
        return [self.windows[key]], self.partial

    def rule_applies(self, r: ir.Rule, done: set[str]) -> None:
        """Emit a_<i> for rule r (after its exceptions)."""
        for u in r.unless:
            if u not in done:
                self.rule_applies(self.rs.rule(u), done)
        when = self.fold(r.when)
        parts = [] if when is True else [self.expr(r.when)]
        mu = self.mu(r.when)
        if r.valid:
            tests, window_mu = self.window(r.valid)
            parts += tests
            mu = mu or window_mu
        unless = [f"a_{self.rule_index[u]}" for u in r.unless]
        mu = mu or any(self.rule_mu[u] for u in r.unless)
        if when is False:
            code = "False"
        elif mu:
            code = parts[0] if parts else "True"
            for p in parts[1:]:
                code = f"_k_and({code}, {p})" if self.trace else self.kleene("and", code, p)
            for u in unless:
                negated = f"({u} if {u}.__class__ is _U else not {u})"
                code = f"_k_and({code}, _k_not({u}))" if self.trace else self.kleene("and", code, negated)
        else:
            code = " and ".join([*parts, *(f"not {u}" for u in unless)]) or "True"
        self.rule_mu[r.id] = mu and when is not False
        self.emit(f"a_{self.rule_index[r.id]} = {code}")
        done.add(r.id)

    def slot(self, slots: list[str], code: str, condition: str | None) -> int:
        """A slot of a returned tuple: a local as it is, an expression into a local of its own
        (evaluated only under `condition`)."""
        if not code.isidentifier():
            local = f"_s{len(self.value_slots) + len(self.default_slots)}"
            self.emit(f"{local} = {code}" + (f" if {condition} else None" if condition else ""))
            code = local
        slots.append(code)
        return len(slots) - 1

    def output(self, name: str, read: bool, done: set[str]) -> None:
        """Emit what the output's result needs; its value too when an expression reads it."""
        rs, o = self.rs, self.rs.outputs[name]
        targeting = rs.rules_for(name)
        for r in targeting:
            if r.id not in done:
                self.rule_applies(r, done)
        targets: list[_Target] = []
        codes: list[str] = []  # each target's value as code (a local or a constant)
        value_mus: list[bool] = []  # whether it can be unknown
        for r in targeting:
            i = self.rule_index[r.id]
            v = dict(r.then)[name]
            folded = self.fold(v)
            if folded is not _NOT_CONST:
                targets.append(_Target(i, r.id, -1, folded))
                codes.append(self.const(folded))
                value_mus.append(False)
            else:
                value_mus.append(self.mu(v))
                k = self.slot(self.value_slots, self.expr(v), f"a_{i} is True")
                targets.append(_Target(i, r.id, k))
                codes.append(self.value_slots[k])
        default_slot, default = -1, NO_DEFAULT
        if o.default is not None:
            default = self.fold(o.default)
            if default is _NOT_CONST:
                nothing = f"not ({' or '.join(f'a_{t.rule}' for t in targets)})" if targets else None
                default_slot = self.slot(self.default_slots, self.expr(o.default), nothing)
                default = NO_DEFAULT
        self.plans[name] = _Plan(name, o.cardinality, tuple(targets), default_slot, default)
        if not read:
            return
        self.maybe_unknown[name] = True  # a gap or a conflict is unknown to its readers
        out = self.var("output", name)
        if default_slot >= 0:
            default_code = self.default_slots[default_slot]
        else:
            default_code = "_NO_DEFAULT" if default is NO_DEFAULT else self.const(default)
        if self.trace:
            self.emit("_ap = []; _vs = []; _uk = []")
            for r, t, code in zip(targeting, targets, codes, strict=True):
                self.emit(f"if a_{t.rule} is True:")
                self.emit(f"_ap.append({r.id!r}); _vs.append({code})", 2)
                self.emit(f"elif a_{t.rule} is not False:")
                self.emit(f"_uk.append(a_{t.rule})", 2)
            self.emit(f"{out} = _finish({o.cardinality!r}, _ap, _vs, _uk, {default_code}, {name!r})[0]")
            return
        # Inline, the value `finish` gives: unknown if an applying rule's value or a rule's
        # applicability is (merged in finish's order), else the single value (a conflict when
        # two differ) or the set, else the default, the gap or the empty set.
        single = o.cardinality != "set"
        conflict = self.const(Unknown(reasons=(Reason("conflict", name),)))
        if default is NO_DEFAULT and default_slot < 0:
            default_code = self.const(Unknown(reasons=(Reason("no_value", name),))) if single else "_EMPTY"
        two_valued = not any(value_mus) and not any(self.rule_mu[r.id] for r in targeting)
        self.emit(f"{out} = _NONE" if single else "_vs = []")
        if not two_valued:
            self.emit("_bv = _bu = _NONE")
        for r, t, code, vmu in zip(targeting, targets, codes, value_mus, strict=True):
            a, rmu = f"a_{t.rule}", self.rule_mu[r.id]
            take = (
                f"{out} = {code} if {out} is _NONE or {out} == {code} else {conflict}"
                if single
                else f"_vs.append({code})"
            )
            if vmu:
                self.emit(f"if {a} is True:")
                self.emit(f"if {code}.__class__ is _U: _bv = {code} if _bv is _NONE else _bv | {code}", 2)
                self.emit(f"else: {take}", 2)
            else:
                self.emit(f"if {a} is True: {take}" if rmu else f"if {a}: {take}")
            if rmu:
                self.emit(f"elif {a} is not False: _bu = {a} if _bu is _NONE else _bu | {a}")
        indent = 1
        if not two_valued:
            self.emit("if _bv is not _NONE or _bu is not _NONE:")
            self.emit(f"{out} = _bu if _bv is _NONE else _bv if _bu is _NONE else _bv | _bu", 2)
            self.emit("else:")
            indent = 2
        if single:
            self.emit(f"if {out} is _NONE: {out} = {default_code}", indent)
        else:
            self.emit(f"{out} = frozenset(_vs) if _vs else {default_code}", indent)

    def compile(self, constraints_only: bool = False) -> str:
        """The source of `run(inp, _rec=None)`, returning (applies, values, defaults), or with
        constraints_only that of `run(inp)` returning whether the input constraints hold."""
        rs = self.rs
        self.rule_index = {r.id: i for i, r in enumerate(rs.rules)}
        self.rule_mu: dict[str, bool] = {}
        constraint_exprs = [c.expr for c in rs.constraints]
        rule_exprs = [
            *(r.when for r in rs.rules),
            *(v for r in rs.rules for _, v in r.then),
            *(o.default for o in rs.outputs.values() if o.default is not None),
        ]
        if self.trace:
            needed, full = set(rs.definitions), True
        elif constraints_only:
            needed, reads_output = _definitions_read(rs, constraint_exprs)
            full = reads_output
            if full:
                needed = _definitions_read(rs, rule_exprs + constraint_exprs)[0]
        else:
            needed, full = _definitions_read(rs, rule_exprs)[0], True
        roots = [*rule_exprs, *(rs.definitions[n].expr for n in needed)]
        if self.trace or constraints_only:
            roots += constraint_exprs
        read = {n for e in roots for kind, n in _refs(e) if kind == "output"}
        done: set[str] = set()
        for name in rs.order:
            if name in rs.definitions:
                if name in needed:
                    d = rs.definitions[name]
                    self.maybe_unknown[name] = self.mu(d.expr)
                    self.emit(f"{self.var('definition', name)} = {self.expr(d.expr)}")
            elif full:
                self.output(name, name in read, done)
        if full:
            for r in rs.rules:  # rules that give no output still count as applying or not
                if r.id not in done:
                    self.rule_applies(r, done)
        valid = " and ".join(f"({self.expr(e)} is True)" for e in constraint_exprs) or "True"
        body = self.lines
        self.lines = []
        self.emit("def run(inp):" if constraints_only else "def run(inp, _rec=None):", 0)
        inputs = [(name, local) for (kind, name), local in list(self.variables.items()) if kind == "input"]
        if self.partial:
            for name, local in inputs:
                self.emit(f"{local} = inp.get({name!r}, {self.const(Unknown(frozenset({name})))})")
        elif inputs:  # one C call fetches them all
            get = self.const(operator.itemgetter(*(name for name, _ in inputs)))
            self.emit(f"{', '.join(local for _, local in inputs)} = {get}(inp)")
        names = [f"_n{i}" for i in range(len(self.nodes))]
        if names:
            self.emit(" = ".join(names) + " = _UNSET")
        self.lines += body
        if constraints_only:
            self.emit(f"return {valid}")
            return "\n".join(self.lines)
        if self.trace and names:
            self.emit(f"_valid = {valid}")
            self.emit(f"_rec(({', '.join(names)},))")

        def tup(items: list[str]) -> str:
            return f"({', '.join(items)}{',' if items else ''})"

        applies = [f"a_{i}" for i in range(len(rs.rules))]
        self.emit(f"return {tup(applies)}, {tup(self.value_slots)}, {tup(self.default_slots)}")
        return "\n".join(self.lines)


@dataclass(frozen=True)
class Trace:
    """Values of every evaluated expression node and of every rule's applicability."""

    node_values: Mapping[int, Any]  # id(node) -> value
    applies: Mapping[str, Any]  # rule id -> True / False / Unknown
    env: Mapping[str, Any]  # definitions and output values by name

    def value(self, e: ir.Expr) -> Any:
        return self.node_values.get(id(e), _NOT_EVALUATED)


_NOT_EVALUATED = Unknown(reasons=(NOT_EVALUATED,))
_UNSET = object()  # a traced node's value before (or without) its evaluation


class _NodeValues(Mapping[int, Any]):
    """id(node) -> value, over the tuple of per-node values a traced run returns."""

    def __init__(self, index: Mapping[int, int], values: tuple[Any, ...], nodes: list[ir.Expr]) -> None:
        # Keys are ids, so the nodes must outlive this map: codegen builds some nodes of its own
        # (validity tests, balanced chains), and once freed their ids go to new, unrelated nodes.
        self._index, self._values, self._nodes = index, values, nodes

    def __getitem__(self, key: int) -> Any:
        i = self._index[key]
        v = self._values[i] if i < len(self._values) else _UNSET
        if v is _UNSET:
            raise KeyError(key)
        return v

    def __iter__(self) -> Iterator[int]:
        return (k for k, i in self._index.items() if i < len(self._values) and self._values[i] is not _UNSET)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _merge(*values: Any) -> Unknown:
    """merge_unknown(*values), without rebuilding when the unknowns are equal (the common case:
    one unknown reaching an expression along several paths)."""
    out: Unknown | None = None
    for v in values:
        if v is not out and isinstance(v, Unknown) and v != out:
            out = v if out is None else out | v
    return out if out is not None else merge_unknown()


def _namespace(consts: Mapping[str, Any]) -> dict[str, Any]:
    """What generated code may call: the shared semantics, lifted once (not per call)."""
    return {
        "_k_and": k_and,
        "_k_or": k_or,
        "_k_not": k_not,
        "_k_ite": k_ite,
        "_k_in": k_in,
        "_lookup": lookup,
        "_l_builtins": {n: lift(f) for n, f in BUILTINS.items()},
        "_l_binops": {n: lift(f) for n, f in BINOPS.items()},
        "_l_neg": lift(operator.neg),
        "_l_contains": lift(lambda s, v: v in s),
        "_finish": finish,
        "_merge": _merge,
        "_U": Unknown,
        "_NO_DEFAULT": NO_DEFAULT,
        "_NONE": _NONE,
        "_EMPTY": frozenset(),
        "_UNSET": _UNSET,
        **{f"_f_{n}": f for n, f in BUILTINS.items()},
        **consts,
    }


class _Compiled:
    def __init__(self, rs: ir.RuleSet, *, partial: bool, trace: bool, constraints_only: bool = False) -> None:
        gen = _Gen(rs, partial, trace)
        source = gen.compile(constraints_only)
        namespace = _namespace(gen.consts)
        # The source is generated from the typed IR above, never from rule text: names become
        # indexed locals (i0, d1, o2) and every value from a file is a repr'd constant or a _c<n> table.
        exec(compile(source, f"<elig:{rs.name}>", "exec"), namespace)
        self.run: Callable[..., Any] = namespace["run"]
        self.source = source
        self.plans = gen.plans
        self.nodes = gen.nodes
        self.index = {id(n): i for i, n in enumerate(gen.nodes)}


class EvalBackend:
    """Decides persons with the compiled rule set. Persons must be validated first
    (solver.person.parse_person); missing fields are allowed and give unknown outputs."""

    name = "eval"

    def __init__(self, rs: ir.RuleSet) -> None:
        self.rs = rs
        self._inputs = frozenset(rs.inputs)
        self._options: Mapping[str, str] = MappingProxyType(dict(rs.resolved_options))
        self._full = _Compiled(rs, partial=False, trace=False)
        self._partial: _Compiled | None = None
        self._constraints: _Compiled | None = None
        self._traced: dict[bool, _Compiled] = {}

    def _pick(self, person: Person) -> _Compiled:
        if person.keys() >= self._inputs:
            return self._full
        if self._partial is None:
            self._partial = _Compiled(self.rs, partial=True, trace=False)
        return self._partial

    def satisfies_constraints(self, person: Person) -> bool:
        """Whether a complete person meets every input constraint of the rule set."""
        if self._constraints is None:
            self._constraints = _Compiled(self.rs, partial=False, trace=False, constraints_only=True)
        return bool(self._constraints.run(person))

    def applies(self, person: Person) -> dict[str, Any]:
        """Rule id -> True / False / Unknown for this person."""
        return dict(zip((r.id for r in self.rs.rules), self._pick(person).run(person)[0], strict=True))

    def decide(self, person: Person) -> Decision:
        compiled = self._full if person.keys() >= self._inputs else self._pick(person)
        return _decision(_Results(compiled.plans, compiled.run(person)), self._options)

    def decide_traced(self, person: Person) -> tuple[Decision, Trace]:
        partial = self._pick(person) is not self._full
        if partial not in self._traced:
            self._traced[partial] = _Compiled(self.rs, partial=partial, trace=True)
        compiled = self._traced[partial]
        box: list[tuple[Any, ...]] = []
        run = compiled.run(person, box.append)
        recorded = _NodeValues(compiled.index, box[0] if box else (), compiled.nodes)
        results = _Results(compiled.plans, run)
        env: dict[str, Any] = dict(person)
        env.update({n: recorded.get(id(d.expr)) for n, d in self.rs.definitions.items()})
        for name, r in results.items():
            env[name] = r.values[0] if r.status == "ok" and len(r.values) == 1 else r.values
        trace = Trace(recorded, dict(zip((r.id for r in self.rs.rules), run[0], strict=True)), env)
        return Decision(results, self._options, self.name), trace


class _Results(Mapping[str, OutputResult]):
    """Decision results, each built from the run's tuples the first time it is asked for."""

    __slots__ = ("_built", "_plans", "_run")

    def __init__(self, plans: Mapping[str, _Plan], run: Any) -> None:
        self._plans = plans
        self._run = run
        self._built: dict[str, OutputResult] = {}

    def __getitem__(self, name: str) -> OutputResult:
        built = self._built.get(name)
        if built is None:
            built = self._built[name] = self._plans[name].result(self._run)
        return built

    def __iter__(self) -> Iterator[str]:
        return iter(self._plans)

    def __len__(self) -> int:
        return len(self._plans)

"""The reference semantics: the IR compiled once to straight-line Python source.

Code is generated from the typed IR (never from rule text), compiled once per rule set, and
called per person. Only sub-expressions that can be unknown (parameter lookups, output references,
and inputs when the person may be partial) pay for three-valued logic; the rest is plain Python.
With `trace=True` every evaluated node's value is recorded for explanations."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from solver import dates, ir
from solver.backends.base import Decision, OutputResult, Person, Status
from solver.errors import shorten
from solver.passes.calendar import CalendarBounds
from solver.printer import to_text
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
    on_calendar,
)

# ---------------------------------------------------------------- code generation

_DATE_MAKERS: dict[str, Callable[..., Any]] = {
    "date": dates.make_date,
    "first_of_next_month": dates.first_of_next_month,
    "add_months": dates.add_months,
}


@dataclass
class _Gen:
    rs: ir.RuleSet
    partial: bool
    trace: bool
    consts: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    maybe_unknown: dict[str, bool] = field(default_factory=dict)
    node_ids: dict[int, int] = field(default_factory=dict)  # id(expr node) -> trace id
    nodes: list[ir.Expr] = field(default_factory=list)
    variables: dict[tuple[str, str], str] = field(default_factory=dict)
    calendar: CalendarBounds | None = None

    def var(self, kind: str, name: str) -> str:
        """The local holding an input/definition/output: an index, never the name from the file."""
        key = (kind, name)
        if key not in self.variables:
            self.variables[key] = f"{kind[0]}{len(self.variables)}"
        return self.variables[key]

    def const(self, value: Any) -> str:
        name = f"_c{len(self.consts)}"
        self.consts[name] = value
        return name

    def mu(self, e: ir.Expr) -> bool:
        """Whether e can be unknown (then it is compiled with three-valued helpers)."""
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

    def bounds(self) -> CalendarBounds:
        if self.calendar is None:
            self.calendar = CalendarBounds(self.rs)
        return self.calendar

    def expr(self, e: ir.Expr) -> str:
        code = self._expr(e)
        if self.trace:
            # A walrus into a local per node costs a store, not a call: the traced run hands all
            # of them to _rec once at the end (nodes never reached keep the _UNSET marker).
            self.node_ids[id(e)] = len(self.nodes)
            self.nodes.append(e)
            return f"(_n{len(self.nodes) - 1} := {code})"
        return code

    def _expr(self, e: ir.Expr) -> str:
        mu = self.mu(e)
        match e:
            case ir.Const(value=v):
                return repr(v) if isinstance(v, bool | int | str) else self.const(v)
            case ir.Ref(name=n, kind=kind):
                if kind == "option":
                    raise ValueError(f"option {n} is not resolved; run solver.passes.options.resolve first")
                return self.var(kind, n)
            case ir.Has(output=o, value=v):
                out = self.var("output", o)
                return f"_lift(_contains)({out}, {v!r})" if mu else f"({v!r} in {out})"
            case ir.Unary(op="not", arg=a):
                return f"_k_not({self.expr(a)})" if mu else f"(not {self.expr(a)})"
            case ir.Unary(op="neg", arg=a):
                return f"_lift(_neg)({self.expr(a)})" if mu else f"(-{self.expr(a)})"
            case ir.Binary(op="and" | "or", left=a, right=b):
                # Traced runs evaluate both sides (same value), so every condition has a value
                # for explanations and coverage, not only those before a short circuit.
                if mu or self.trace:
                    return f"_k_{e.op}({self.expr(a)}, {self.expr(b)})"
                return f"({self.expr(a)} {e.op} {self.expr(b)})"
            case ir.Binary(op=op, left=a, right=b):
                if mu:
                    return f"_lift(_binops[{op!r}])({self.expr(a)}, {self.expr(b)})"
                return f"({self.expr(a)} {op} {self.expr(b)})"
            case ir.In(item=a, choices=cs):
                if mu:
                    return f"_k_in({self.expr(a)}, {', '.join(self.expr(c) for c in cs)})"
                if all(isinstance(c, ir.Const) for c in cs) and not self.trace:
                    return f"({self.expr(a)} in {self.const(frozenset(cast(ir.Const, c).value for c in cs))})"
                tmp = f"_t{len(self.consts)}"
                self.consts[tmp] = None
                first, *rest = [self.expr(c) for c in cs] or ["None"]
                return f"(({tmp} := {self.expr(a)}) == {first}" + "".join(f" or {tmp} == {c}" for c in rest) + ")"
            case ir.Ite(cond=c, then=a, other=b):
                if mu:
                    return f"_k_ite({self.expr(c)}, {self.expr(a)}, {self.expr(b)})"
                return f"({self.expr(a)} if {self.expr(c)} else {self.expr(b)})"
            case ir.Call(fn=fn, args=args):
                inner = ", ".join(self.expr(a) for a in args)
                if self.bounds().may_leave(e):  # the reason names the call and where it is written
                    where = f" in {shorten(to_text(e))} at {e.loc}"
                    checked = self.const(lift(on_calendar(_DATE_MAKERS[fn], where)))
                    return f"{checked}({inner})"
                if mu:
                    return f"_lift(_builtins[{fn!r}])({inner})"
                if fn in ("year", "month", "day"):
                    return f"{inner}.{fn}"
                return f"_builtins[{fn!r}]({inner})"
            case ir.Lookup(param=p, keys=keys):
                table = self.const(self.rs.params[p].table())
                return f"_lookup({table}, {p!r}, {', '.join(self.expr(k) for k in keys)})"
        raise TypeError(f"cannot compile {e!r}")  # pragma: no cover

    def emit(self, line: str, indent: int = 1) -> None:
        self.lines.append("    " * indent + line)

    def rule_applies(self, r: ir.Rule, done: set[str]) -> None:
        """Emit a_<i> for rule r (after its exceptions)."""
        for u in r.unless:
            if u not in done:
                self.rule_applies(self.rs.rule(u), done)
        parts = [self.expr(r.when)]
        mu = self.mu(r.when)
        if r.valid:
            v = r.valid
            on = ir.Ref(v.on, "input", self.rs.inputs[v.on].type)
            if v.lo is not None:
                parts.append(self.expr(ir.Binary(">=", on, ir.Const(v.lo, on.type), ir.BOOL)))
            if v.hi is not None:
                parts.append(self.expr(ir.Binary("<=", on, ir.Const(v.hi, on.type), ir.BOOL)))
            mu = mu or self.partial
        unless = [f"a_{self.rule_index[u]}" for u in r.unless]
        mu = mu or any(self.rule_mu[u] for u in r.unless)
        if mu:
            code = parts[0]
            for p in parts[1:]:
                code = f"_k_and({code}, {p})"
            for u in unless:
                code = f"_k_and({code}, _k_not({u}))"
        else:
            code = " and ".join([*parts, *(f"not {u}" for u in unless)])
        self.rule_mu[r.id] = mu
        self.emit(f"a_{self.rule_index[r.id]} = {code}")
        done.add(r.id)

    def compile(self) -> str:
        rs = self.rs
        self.rule_index = {r.id: i for i, r in enumerate(rs.rules)}
        self.rule_mu: dict[str, bool] = {}
        self.emit("def run(inp, _rec=None):", 0)
        for name in rs.inputs:
            if self.partial:
                self.emit(f"{self.var('input', name)} = inp.get({name!r}, {self.const(Unknown(frozenset({name})))})")
            else:
                self.emit(f"{self.var('input', name)} = inp[{name!r}]")
        self.emit("out = {}")
        done: set[str] = set()
        for name in rs.order:
            if name in rs.definitions:
                d = rs.definitions[name]
                self.maybe_unknown[name] = self.mu(d.expr)
                self.emit(f"{self.var('definition', name)} = {self.expr(d.expr)}")
                continue
            o = rs.outputs[name]
            targeting = rs.rules_for(name)
            for r in targeting:
                if r.id not in done:
                    self.rule_applies(r, done)
            self.emit("_ap = []; _vs = []; _uk = []")
            for r in targeting:
                a = f"a_{self.rule_index[r.id]}"
                value = self.expr(dict(r.then)[name])
                self.emit(f"if {a} is True:")
                self.emit(f"_ap.append({r.id!r}); _vs.append({value})", 2)
                if self.rule_mu[r.id]:
                    self.emit(f"elif {a} is not False:")
                    self.emit(f"_uk.append({a})", 2)
            default = self.expr(o.default) if o.default is not None else "_NO_DEFAULT"
            self.emit(
                f"{self.var('output', name)}, out[{name!r}] = _finish({o.cardinality!r}, _ap, _vs, _uk, "
                f"{default} if not _ap and not _uk else None, {name!r})"
            )
            self.maybe_unknown[name] = True
        for r in rs.rules:  # rules that give no output still count as applying or not
            if r.id not in done:
                self.rule_applies(r, done)
        valid = " and ".join(f"({self.expr(c.expr)} is True)" for c in rs.constraints) or "True"
        if self.trace and self.nodes:
            names = [f"_n{i}" for i in range(len(self.nodes))]
            self.lines.insert(1, "    " + " = ".join(names) + " = _UNSET")
            self.emit(f"_valid = {valid}")
            self.emit(f"_rec(({', '.join(names)},))")
            valid = "_valid"
        self.emit(
            f"return out, ({', '.join(f'a_{i}' for i in range(len(rs.rules)))}{',' if rs.rules else ''}), {valid}"
        )
        return "\n".join(self.lines)


@dataclass(frozen=True)
class Trace:
    """Values of every evaluated expression node and of every rule's applicability."""

    node_values: Mapping[int, Any]  # id(node) -> value
    applies: Mapping[str, Any]  # rule id -> True / False / Unknown
    env: Mapping[str, Any]  # definitions and output values by name

    def value(self, e: ir.Expr) -> Any:
        return self.node_values.get(id(e), _NOT_EVALUATED)


_NOT_EVALUATED = Unknown(reasons=("not evaluated",))
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


class _Compiled:
    def __init__(self, rs: ir.RuleSet, *, partial: bool, trace: bool) -> None:
        gen = _Gen(rs, partial, trace)
        source = gen.compile()
        namespace: dict[str, Any] = {
            "_k_and": k_and,
            "_k_or": k_or,
            "_k_not": k_not,
            "_k_ite": k_ite,
            "_k_in": k_in,
            "_lift": lift,
            "_lookup": lookup,
            "_builtins": BUILTINS,
            "_binops": BINOPS,
            "_finish": finish,
            "_NO_DEFAULT": NO_DEFAULT,
            "_UNSET": _UNSET,
            "_neg": operator.neg,
            "_contains": lambda s, v: v in s,
            **gen.consts,
        }
        # The source is generated from the typed IR above, never from rule text: names become
        # indexed locals (i0, d1, o2) and every value from a file is a repr'd constant or a _c<n> table.
        exec(compile(source, f"<elig:{rs.name}>", "exec"), namespace)
        self.run: Callable[..., tuple[dict[str, Any], tuple[Any, ...], bool]] = namespace["run"]
        self.source = source
        self.nodes = gen.nodes
        self.index = {id(n): i for i, n in enumerate(gen.nodes)}


class EvalBackend:
    """Decides persons with the compiled rule set. Persons must be validated first
    (solver.person.parse_person); missing fields are allowed and give unknown outputs."""

    name = "eval"

    def __init__(self, rs: ir.RuleSet) -> None:
        self.rs = rs
        self._full = _Compiled(rs, partial=False, trace=False)
        self._partial: _Compiled | None = None
        self._traced: dict[bool, _Compiled] = {}

    def _pick(self, person: Person) -> _Compiled:
        if len(person) >= len(self.rs.inputs) and all(n in person for n in self.rs.inputs):
            return self._full
        if self._partial is None:
            self._partial = _Compiled(self.rs, partial=True, trace=False)
        return self._partial

    def raw(self, person: Person) -> dict[str, Any]:
        """The fast path: output name -> (status, values, rules, unknown)."""
        return self._pick(person).run(person)[0]

    def satisfies_constraints(self, person: Person) -> bool:
        """Whether a complete person meets every input constraint of the rule set."""
        return self._full.run(person)[2]

    def applies(self, person: Person) -> dict[str, Any]:
        """Rule id -> True / False / Unknown for this person."""
        return dict(zip((r.id for r in self.rs.rules), self._pick(person).run(person)[1], strict=True))

    def decide(self, person: Person) -> Decision:
        return self._decision(self.raw(person))

    def decide_traced(self, person: Person) -> tuple[Decision, Trace]:
        partial = self._pick(person) is not self._full
        if partial not in self._traced:
            self._traced[partial] = _Compiled(self.rs, partial=partial, trace=True)
        compiled = self._traced[partial]
        box: list[tuple[Any, ...]] = []
        raw, applies, _ = compiled.run(person, box.append)
        recorded = _NodeValues(compiled.index, box[0] if box else (), compiled.nodes)
        env: dict[str, Any] = dict(person)
        env.update({n: recorded.get(id(d.expr)) for n, d in self.rs.definitions.items()})
        for name, (status, values, _, _) in raw.items():
            env[name] = values[0] if status == "ok" and len(values) == 1 else values
        trace = Trace(recorded, {r.id: a for r, a in zip(self.rs.rules, applies, strict=True)}, env)
        return self._decision(raw), trace

    def _decision(self, raw: Mapping[str, Any]) -> Decision:
        return Decision(_Results(raw), dict(self.rs.resolved_options), self.name)


class _Results(Mapping[str, OutputResult]):
    """Decision results built lazily from the compiled function's raw tuples."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = raw
        self._built: dict[str, OutputResult] = {}

    def __getitem__(self, name: str) -> OutputResult:
        if name not in self._built:
            status, values, rules, unknown = self._raw[name]
            self._built[name] = OutputResult(
                name,
                cast(Status, status),
                tuple(values),
                tuple(rules),
                tuple(sorted(unknown.missing)) if unknown else (),
                unknown.reasons if unknown else (),
            )
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

"""The IR as SMT terms (z3): the one translation behind every question that needs search
(reachability, overlap, gaps, properties, diffs, counterfactuals, fixtures) and behind the `z3`
backend that decides single persons. Input domains and input constraints are declared here once.

Invariant the z3 decider relies on: once every input is fixed (and every `known` flag of a partial
person), a `known` term evaluates to a constant, and a value whose `known` is true is a constant.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import z3

from solver import dates, ir
from solver.backends.base import Person
from solver.passes.calendar import CalendarBounds
from solver.semantics.terms import (
    FALSE,
    TRUE,
    DateSym,
    Sym,
    Term,
    add_months,
    age_at,
    constants,
    date_const,
    equal,
    first_of_next_month,
    ite,
    k_and,
    k_or,
    less,
    make_date,
    month_length,
)


@dataclass(frozen=True)
class OutputSym:
    """An output's result as terms: its status, its single value (exactly_one / at_most_one),
    per enum value membership (set), and whether each rule that targets it applies."""

    name: str
    status: Mapping[str, z3.BoolRef]  # ok / none / gap / conflict / unknown: exactly one holds
    value: Sym  # known iff status ok and there is one value
    members: Mapping[str, z3.BoolRef]  # set outputs: value -> in the set
    rule_values: Mapping[str, Term]  # rule id -> the value it gives
    applying: Mapping[str, z3.BoolRef]  # rule id -> the rule applies (known and true)


class Encoding:
    """A rule set as z3 terms over symbolic inputs.

    `partial=True` adds a Bool `known` flag per input (a missing field); otherwise every input is
    known. `prefix` names the variables, so two encodings (two persons, two rule sets) can share a
    solver. `domain` holds every input's domain; `valid` adds the rule set's input constraints."""

    def __init__(self, rs: ir.RuleSet, *, partial: bool = False, prefix: str = "") -> None:
        self.rs, self.partial, self.prefix = rs, partial, prefix
        self.enum_index = {t.name: {v: i for i, v in enumerate(t.values)} for t in rs.types.values()}
        for o in rs.options.values():
            self.enum_index[o.type.name] = {v: i for i, v in enumerate(o.type.values)}
        self.enum_index.setdefault(ir.MONTH_END.name, {v: i for i, v in enumerate(ir.MONTH_END.values)})
        self.inputs: dict[str, Sym] = {}
        self.input_vars: dict[str, tuple[z3.ExprRef, ...]] = {}
        self.known_vars: dict[str, z3.BoolRef] = {}
        self.input_domains: dict[str, z3.BoolRef] = {}  # input -> its domain (TRUE for a bool)
        for name, inp in rs.inputs.items():
            self.inputs[name] = self._input(name, inp.type)
            cons = input_domain(inp.type, self.inputs[name].value)
            self.input_domains[name] = z3.And(cons) if cons else TRUE
        domain = [d for d in self.input_domains.values() if d is not TRUE]
        self.domain = z3.And(domain) if domain else TRUE
        self.env: dict[str, Sym] = dict(self.inputs)
        self.applies: dict[str, Sym] = {}
        self.outputs: dict[str, OutputSym] = {}
        self._cache: dict[int, tuple[ir.Expr, Sym]] = {}
        self._person_tuple: z3.ExprRef | None = None
        self._var_input: dict[str, str] | None = None  # variable name -> its input
        self.calendar = CalendarBounds(rs)
        for name in rs.order:
            if name in rs.definitions:
                self.env[name] = self.expr(rs.definitions[name].expr)
            else:
                self._output(rs.outputs[name])
        for r in rs.rules:
            self.rule(r)
        self.constraints = {c.id: self._holds(self.expr(c.expr)) for c in rs.constraints}
        self.valid = z3.And(self.domain, *self.constraints.values())

    # ------------------------------------------------------------ inputs
    def var(self, name: str, sort: str) -> z3.ExprRef:
        full = f"{self.prefix}{name}"
        return z3.Bool(full) if sort == "bool" else z3.Int(full)

    def _input(self, name: str, t: ir.Type) -> Sym:
        known = TRUE
        if self.partial:
            known = cast(z3.BoolRef, self.var(f"known!{name}", "bool"))
            self.known_vars[name] = known
        if isinstance(t, ir.DateT):
            y, m, d = (cast(z3.ArithRef, self.var(f"{name}.{c}", "int")) for c in "ymd")
            self.input_vars[name] = (y, m, d)
            return Sym(DateSym(y, m, d), known)
        v = self.var(name, "bool" if isinstance(t, ir.BoolT) else "int")
        self.input_vars[name] = (v,)
        return Sym(v, known)

    def input_values(self, person: Person) -> list[tuple[z3.ExprRef, z3.ExprRef]]:
        """(variable, value) pairs that fix a person's inputs (and known flags when partial)."""
        pairs: list[tuple[z3.ExprRef, z3.ExprRef]] = []
        for name, inp in self.rs.inputs.items():
            if self.partial:
                pairs.append((self.known_vars[name], z3.BoolVal(name in person)))
            if name not in person:
                continue
            pairs += zip(self.input_vars[name], self.constant(person[name], inp.type), strict=True)
        return pairs

    def inputs_in(self, term: z3.ExprRef) -> set[str]:
        """The inputs a (small) term mentions."""
        if self._var_input is None:
            self._var_input = {v.decl().name(): name for name, vs in self.input_vars.items() for v in vs}
        out: set[str] = set()
        todo, seen = [term], set()
        while todo:
            t = todo.pop()
            if t.get_id() in seen:
                continue
            seen.add(t.get_id())
            if z3.is_const(t) and t.decl().kind() == z3.Z3_OP_UNINTERPRETED:
                if t.decl().name() in self._var_input:
                    out.add(self._var_input[t.decl().name()])
            else:
                todo += t.children()
        return out

    def input_is(self, name: str, value: ir.Value) -> z3.BoolRef:
        """The input NAME has the value."""
        consts = self.constant(value, self.rs.inputs[name].type)
        return z3.And([v == c for v, c in zip(self.input_vars[name], consts, strict=True)])

    def constant(self, v: ir.Value, t: ir.Type) -> tuple[z3.ExprRef, ...]:
        if isinstance(v, bool):
            return (z3.BoolVal(v),)
        if isinstance(v, dt.date):
            return (z3.IntVal(v.year), z3.IntVal(v.month), z3.IntVal(v.day))
        if isinstance(v, str):
            assert isinstance(t, ir.EnumT)
            return (z3.IntVal(self.enum_index[t.name][v]),)
        return (z3.IntVal(v),)

    # ------------------------------------------------------------ expressions
    @staticmethod
    def _holds(s: Sym) -> z3.BoolRef:
        return z3.And(s.known, s.value)

    def const_term(self, v: ir.Value, t: ir.Type) -> Term:
        if isinstance(v, dt.date):
            return date_const(v)
        parts = self.constant(v, t)
        return parts[0]

    def expr(self, e: ir.Expr) -> Sym:
        """e as terms, memoised per node (the node is kept alive with it, so its id stays unique)."""
        hit = self._cache.get(id(e))
        if hit is None:
            hit = self._cache[id(e)] = (e, self._expr(e))
        return hit[1]

    def _expr(self, e: ir.Expr) -> Sym:
        match e:
            case ir.Const(value=v, type=t):
                return Sym(self.const_term(v, t), TRUE)
            case ir.Ref(name=n, kind="input" | "definition"):
                return self.env[n]
            case ir.Ref(name=n, kind="output"):
                return self.outputs[n].value
            case ir.Ref(name=n):
                raise ValueError(f"option {n} is not resolved; run solver.passes.options.resolve first")
            case ir.Has(output=o, value=v):
                out = self.outputs[o]
                return Sym(out.members[v], z3.Not(out.status["unknown"]))
            case ir.Unary(op="not", arg=a):
                s = self.expr(a)
                return Sym(z3.Not(s.value), s.known)
            case ir.Unary(op="neg", arg=a):
                s = self.expr(a)
                return Sym(-s.value, s.known)
            case ir.Binary(op="and", left=a, right=b):
                return k_and(self.expr(a), self.expr(b))
            case ir.Binary(op="or", left=a, right=b):
                return k_or(self.expr(a), self.expr(b))
            case ir.Binary(op=op, left=a, right=b):
                x, y = self.expr(a), self.expr(b)
                return Sym(self._binary(op, x.value, y.value, b), z3.And(x.known, y.known))
            case ir.In(item=a, choices=cs):
                x = self.expr(a)
                opts = [self.expr(c) for c in cs]
                hit = z3.Or([z3.And(c.known, equal(x.value, c.value)) for c in opts]) if opts else FALSE
                all_known = z3.And([c.known for c in opts]) if opts else TRUE
                return Sym(hit, z3.And(x.known, z3.Or(hit, all_known)))
            case ir.Ite(cond=c, then=a, other=b):
                sc, sa, sb = self.expr(c), self.expr(a), self.expr(b)
                return Sym(ite(sc.value, sa.value, sb.value), z3.And(sc.known, z3.If(sc.value, sa.known, sb.known)))
            case ir.Call(fn=fn, args=args):
                syms = [self.expr(x) for x in args]
                value, known = self._call(fn, [s.value for s in syms]), z3.And([s.known for s in syms])
                if self.calendar.may_leave(e):  # a date off the calendar is unknown, as in eval
                    known = z3.And(known, value.y >= dates.FIRST_YEAR, value.y <= dates.LAST_YEAR)
                return Sym(value, known)
            case ir.Lookup(param=p, keys=keys):
                return self._lookup(self.rs.params[p], [self.expr(k) for k in keys])
        raise TypeError(f"cannot encode {e!r}")  # pragma: no cover

    @staticmethod
    def _binary(op: str, x: Term, y: Term, right: ir.Expr) -> Term:
        if op == "==":
            return equal(x, y)
        if op == "!=":
            return z3.Not(equal(x, y))
        if op in ("<", "<="):
            return less(x, y, strict=op == "<")
        if op in (">", ">="):
            return less(y, x, strict=op == ">")
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        # The typer only allows // and % by a positive constant, where z3's div/mod is floor.
        assert isinstance(right, ir.Const) and cast(int, right.value) > 0
        return x / y if op == "//" else x % y

    def _call(self, fn: str, a: list[Term]) -> Term:
        match fn:
            case "year":
                return a[0].y
            case "month":
                return a[0].m
            case "day":
                return a[0].d
            case "date":
                return make_date(a[0], a[1], a[2])
            case "age_at":
                return age_at(a[0], a[1])
            case "year_end_age":
                return a[1] - a[0].y
            case "month_index":
                return 12 * a[0].y + a[0].m - 1
            case "first_of_next_month":
                return first_of_next_month(a[0])
            case "add_months":
                clamp = a[2] == self.enum_index[ir.MONTH_END.name]["clamp"]
                return add_months(a[0], a[1], clamp)
            case "days_between":
                return a[1].dn() - a[0].dn()
            case "min" | "max":
                first = less(a[0], a[1], strict=False)
                return ite(first, a[0], a[1]) if fn == "min" else ite(first, a[1], a[0])
        raise TypeError(f"unknown builtin {fn}")  # pragma: no cover

    def _lookup(self, p: ir.Param, keys: list[Sym]) -> Sym:
        keys_known = z3.And([k.known for k in keys]) if keys else TRUE
        matches = []
        value: Term | None = None
        for row in reversed(p.rows):
            parts = zip(keys, row.key, p.key_types, strict=True)
            hit = z3.And([equal(k.value, self.const_term(v, t)) for k, v, t in parts])
            matches.append(hit)
            rv = self.const_term(row.value, p.type)
            value = rv if value is None else ite(hit, rv, value)
        if value is None:
            return Sym(self.const_term(self._zero(p.type), p.type), FALSE)
        return Sym(value, z3.And(keys_known, z3.Or(matches)))

    @staticmethod
    def _zero(t: ir.Type) -> ir.Value:
        if isinstance(t, ir.BoolT):
            return False
        if isinstance(t, ir.DateT):
            return dt.date(1970, 1, 1)
        if isinstance(t, ir.EnumT):
            return t.values[0]
        return 0

    # ------------------------------------------------------------ rules and outputs
    def rule(self, r: ir.Rule) -> Sym:
        if r.id in self.applies:
            return self.applies[r.id]
        parts = [self.expr(r.when)]
        if r.valid:
            on = self.inputs[r.valid.on]
            t = self.rs.inputs[r.valid.on].type
            for op, bound in ((">=", r.valid.lo), ("<=", r.valid.hi)):
                if bound is not None:
                    b = self.const_term(bound, t)
                    parts.append(Sym(self._binary(op, on.value, b, ir.Const(bound, t)), on.known))
        for u in r.unless:
            s = self.rule(self.rs.rule(u))
            parts.append(Sym(z3.Not(s.value), s.known))
        acc = parts[0]
        for p in parts[1:]:
            acc = k_and(acc, p)
        self.applies[r.id] = acc
        return acc

    def applying(self, rule_id: str) -> z3.BoolRef:
        """The rule applies (known and true)."""
        return self._holds(self.applies[rule_id])

    def _output(self, o: ir.Output) -> None:
        targeting = self.rs.rules_for(o.name)
        values: dict[str, Sym] = {}
        applying: dict[str, z3.BoolRef] = {}
        unknown_parts: list[z3.BoolRef] = []
        for r in targeting:
            a = self.rule(r)
            values[r.id] = self.expr(dict(r.then)[o.name])
            applying[r.id] = z3.And(a.known, a.value)
            unknown_parts.append(z3.Not(a.known))
            unknown_parts.append(z3.And(applying[r.id], z3.Not(values[r.id].known)))
        none_apply = z3.Not(z3.Or(list(applying.values()))) if applying else TRUE
        default = self.expr(o.default) if o.default is not None else None
        if default is not None:
            unknown_parts.append(z3.And(none_apply, z3.Not(default.known)))
        unknown = z3.Or(unknown_parts) if unknown_parts else FALSE
        conflict: z3.BoolRef = FALSE
        members: dict[str, z3.BoolRef] = {}
        if o.cardinality == "set":
            assert isinstance(o.type, ir.EnumT)
            idx = self.enum_index[o.type.name]
            for v in o.type.values:
                given = [z3.And(applying[r], values[r].value == idx[v]) for r in values]
                m = z3.Or(given) if given else FALSE
                if default is not None:
                    m = z3.Or(m, z3.And(none_apply, default.value == idx[v]))
                members[v] = m
        else:
            pairs = [
                z3.And(applying[r], applying[s], z3.Not(equal(values[r].value, values[s].value)))
                for r, s in itertools.combinations(values, 2)
            ]
            conflict = z3.Or(pairs) if pairs else FALSE
        empty = z3.And(none_apply, TRUE if default is None else FALSE)
        known = z3.Not(unknown)
        status: dict[str, z3.BoolRef] = {"unknown": unknown}
        if o.cardinality == "set":
            status.update(ok=known, none=FALSE, gap=FALSE, conflict=FALSE)
        else:
            status["conflict"] = z3.And(known, conflict)
            no_value = z3.And(known, empty)
            status["gap"] = no_value if o.cardinality == "exactly_one" else FALSE
            status["none"] = no_value if o.cardinality == "at_most_one" else FALSE
            status["ok"] = z3.And(known, z3.Not(conflict), z3.Not(empty))
        value: Term = default.value if default is not None else self.const_term(self._zero(o.type), o.type)
        for rid in reversed(list(values)):
            value = ite(applying[rid], values[rid].value, value)
        rule_values = {rid: sym.value for rid, sym in values.items()}
        self.outputs[o.name] = OutputSym(o.name, status, Sym(value, status["ok"]), members, rule_values, applying)

    # ------------------------------------------------------------ reading values back
    def decode(self, v: z3.ExprRef | DateSym | bool | int | tuple[int, int, int], t: ir.Type) -> ir.Value:
        """An evaluated term (a z3 constant, or a constant read back as Python) -> a value of type t."""
        if isinstance(v, DateSym):
            v = (_int(v.y), _int(v.m), _int(v.d))
        if isinstance(v, tuple):
            return dt.date(*v)
        if isinstance(v, z3.ExprRef):
            v = bool(z3.is_true(v)) if isinstance(t, ir.BoolT) else _int(v)
        if isinstance(t, ir.EnumT):
            return t.values[cast(int, v)]
        return v

    def input_from_model(self, model: z3.ModelRef, name: str) -> ir.Value:
        """One input's value in a model (a variable the model leaves free reads as 0 / false)."""
        parts = tuple(model.eval(v, model_completion=True) for v in self.input_vars[name])
        t = self.rs.inputs[name].type
        return self.decode(tuple(_int(p) for p in parts) if len(parts) == 3 else parts[0], t)

    def person_from_model(self, model: z3.ModelRef) -> dict[str, ir.Value]:
        """The person a model describes (partial encodings leave out the fields not known).
        All input variables are read in one evaluation of a packed tuple (as the z3 backend reads a decision)."""
        if self._person_tuple is None:
            flat = [v for name in self.rs.inputs for v in self.input_vars[name]]
            flat += [self.known_vars[name] for name in self.rs.inputs] if self.partial else []
            _, mk, _ = z3.TupleSort(f"person{id(self)}", [v.sort() for v in flat])
            self._person_tuple = mk(*flat)
        values = iter(constants(model.eval(self._person_tuple, model_completion=True).sexpr()))
        raw = {name: tuple(next(values) for _ in self.input_vars[name]) for name in self.rs.inputs}
        known = {name: next(values) for name in self.rs.inputs} if self.partial else {}
        out: dict[str, ir.Value] = {}
        for name, inp in self.rs.inputs.items():
            if self.partial and not known[name]:
                continue
            parts = raw[name]
            out[name] = self.decode(parts if len(parts) == 3 else parts[0], inp.type)
        return out


def input_domain(t: ir.Type, v: Term) -> list[z3.BoolRef]:
    """The values an input of type t may take, as constraints on its term v (the one place an
    input's domain is written). Dates compare as (year, month, day): no division, which keeps
    z3 fast; a range that starts on 1 January or ends on 31 December is a bound on the year."""
    if isinstance(t, ir.IntT):
        i = cast(z3.ArithRef, v)
        return [i >= t.lo, i <= t.hi]
    if isinstance(t, ir.EnumT):
        e = cast(z3.ArithRef, v)
        return [e >= 0, e < len(t.values)]
    if not isinstance(t, ir.DateT):
        return []
    assert isinstance(v, DateSym)
    cons = [v.m >= 1, v.m <= 12, v.d >= 1, v.d <= month_length(v.y, v.m), v.y >= t.lo.year, v.y <= t.hi.year]
    if (t.lo.month, t.lo.day) != (1, 1):
        cons.append(less(date_const(t.lo), v, strict=False))
    if (t.hi.month, t.hi.day) != (12, 31):
        cons.append(less(v, date_const(t.hi), strict=False))
    return cons


def _int(v: Any) -> int:
    return cast(int, v.as_long())

"""The eval backend's code generator for a rule set: the IR to the Python source of `run`."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from solver import ir
from solver.backends.eval_expressions import _NOT_CONST, _ExprGen
from solver.backends.eval_results import _Plan, _Target
from solver.semantics.reasons import Reason
from solver.semantics.values import NO_DEFAULT, Unknown


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
class _Gen(_ExprGen):
    """Compiles a rule set to the source of `run`: definitions, rule applicability, the values
    of outputs that expressions read, and each output's result plan."""

    lines: list[str] = field(default_factory=list)
    plans: dict[str, _Plan] = field(default_factory=dict)
    value_slots: list[str] = field(default_factory=list)
    default_slots: list[str] = field(default_factory=list)
    windows: dict[tuple[str, Any, Any], str] = field(default_factory=dict)

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

"""The clingo backend's translation: a resolved rule set to one ASP program."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from solver import dates, ir
from solver.backends.clingo_asp import _BASE, _const, _day_number, _dpat, _floor_div, _floor_mod, _month_length, _q
from solver.backends.clingo_nodes import _FALSE, _H, _TRUE, _Nodes
from solver.errors import shorten
from solver.printer import to_text


class _Translator(_Nodes):
    """Translates one resolved rule set to the rules of one part (complete or partial persons).
    Structurally equal sub-expressions share one node, so each is grounded once per person."""

    # -- expressions

    def expr(self, e: ir.Expr) -> _H:
        if e not in self.memo:
            self.memo[e] = self._expr(e)
        return self.memo[e]

    def _expr(self, e: ir.Expr) -> _H:
        match e:
            case ir.Const(value=value):
                if isinstance(value, dt.date):
                    self.base.append(f"cdate({value.year},{value.month},{value.day}).")
                    return _H(const=_const(value), ymd=(value.year, value.month, value.day))
                return _H(const=_const(value))
            case ir.Ref(kind="definition", name=name):
                return self.expr(self.rs.definitions[name].expr)
            case ir.Ref(kind="input", name=name):
                return self.input(name)
            case ir.Ref(kind="output", name=name):
                return self.output_ref(name)
            case ir.Ref(kind="option", name=name):
                raise ValueError(f"option {name} is not resolved; run solver.passes.options.resolve first")
            case ir.Unary(op="not", arg=a):
                return self.negate(self.expr(a))
            case ir.Unary(op="neg", arg=a):
                return self.strict([self.expr(a)], "-X0")
            case ir.Binary(op="and" | "or", left=a, right=b):
                return self.kleene(e.op, [self.expr(x) for x in self.flatten(e.op, e)])
            case ir.Binary(op=op, left=a, right=b):
                return self.binary(op, self.expr(a), self.expr(b), a.type)
            case ir.In(item=item, choices=choices):
                return self.member(self.expr(item), [self.expr(c) for c in choices])
            case ir.Has(output=o, value=value):
                return self.has(o, value)
            case ir.Ite(cond=cond, then=then, other=other):
                return self.ite(self.expr(cond), self.expr(then), self.expr(other))
            case ir.Call(fn=fn, args=args):
                h = self.call(fn, [self.expr(a) for a in args], args[0].type if args else ir.BOOL)
                return self.on_calendar(h, e) if self.calendar.may_leave(e) else h
            case ir.Lookup(param=p, keys=keys):
                return self.lookup(p, [self.expr(k) for k in keys])
        raise TypeError(f"cannot translate {e!r}")  # pragma: no cover

    @staticmethod
    def flatten(op: str, e: ir.Expr) -> list[ir.Expr]:
        """Operands of a chain of one Kleene operator (associative, causes are unions)."""
        if isinstance(e, ir.Binary) and e.op == op:
            return _Translator.flatten(op, e.left) + _Translator.flatten(op, e.right)
        return [e]

    def input(self, name: str) -> _H:
        """Bool, int and enum inputs are read from their facts; a date gets a node that adds
        its day number."""
        t, q, mu = self.rs.inputs[name].type, _q(name), self.partial
        if not isinstance(t, ir.DateT):
            pred = "in_bool" if isinstance(t, ir.BoolT) else "in_int" if isinstance(t, ir.IntT) else "in_enum"
            return _H(inp=q, pred=pred, mu=mu)
        n = self.new(mu, f"input {name}")
        lits, num = _day_number("Y", "M", "D", "0")
        self.emit(f"v{n.node}(K,d(Y,M,D,N))", f"in_date(K,{q},Y,M,D)", *lits, f"N={num}")
        if mu:
            self.emit(f"unk{n.node}(K,miss({q}))", f"not given(K,{q})")
        return n

    def strict(self, args: list[_H], term: str, *extra: str, pats: Sequence[str] = ()) -> _H:
        """An operator on known operands (X0, X1, ... or the given patterns); unknown otherwise."""
        n = self.new(any(a.mu for a in args), "operator")
        body = [lit for i, a in enumerate(args) for lit in self.val(a, pats[i] if pats else f"X{i}")]
        self.emit(f"v{n.node}(K,{term})", *body, *extra)
        self.inherit(n, args)
        return n

    def test(self, args: list[_H], body: list[str], otherwise: list[str], what: str) -> _H:
        """A bool that holds when `body` does: one atom if no operand can be unknown, else a
        node that is false when `otherwise` holds and unknown with its operands' causes."""
        if not any(a.mu for a in args):
            _, atom = self.atom(what)
            self.emit(atom, *body)
            return _H(atom=atom)
        n = self.new(True, what)
        self.emit(f"v{n.node}(K,true)", *body)
        self.emit(f"v{n.node}(K,false)", *otherwise)
        self.inherit(n, args)
        return n

    def kleene(self, op: str, parts: Sequence[_H]) -> _H:
        """Kleene and/or: decided by any dominating operand, else unknown with the causes of the
        unknown operands. Without unknown operands, `and` is one atom and `or` a negated one."""
        dom = op == "or"  # the truth value that decides
        kept: list[_H] = []
        for p in dict.fromkeys(parts):
            if p.const:
                if (p.const == "true") == dom:
                    return _TRUE if dom else _FALSE
                continue
            kept.append(p)
        if not kept:
            return _FALSE if dom else _TRUE
        if len(kept) == 1:
            return kept[0]
        key = (op, tuple(kept))
        if key in self.memo:
            return self.memo[key]
        if not any(p.mu for p in kept):
            _, atom = self.atom(op)
            self.emit(atom, *(lit for p in kept for lit in self.truth(p, not dom)))
            h = _H(atom=atom, neg=dom)
        else:
            h = self.new(True, op)
            d, o = ("true", "false") if dom else ("false", "true")
            self.emit(f"v{h.node}(K,{o})", *(lit for p in kept for lit in self.truth(p, not dom)))
            for p in kept:
                self.emit(f"v{h.node}(K,{d})", *self.truth(p, dom))
            self.inherit(h, kept, f"not v{h.node}(K,{d})")
        self.memo[key] = h
        return h

    def binary(self, op: str, a: _H, b: _H, t: ir.Type) -> _H:
        if op in ("==", "!="):
            return self.equal(a, b, t) if op == "==" else self.negate(self.equal(a, b, t))
        if op in ("<", "<=", ">", ">="):
            neg = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}[op]
            read = self.day if isinstance(t, ir.DateT) else self.val
            body = [*read(a, "X"), *read(b, "Y")]
            return self.test([a, b], [*body, f"X{op}Y"], [*body, f"X{neg}Y"], op)
        if isinstance(t, ir.DateT):
            raise TypeError(f"'{op}' on dates is not part of the language")
        term = {"+": "X0+X1", "-": "X0-X1", "*": "X0*X1", "//": _floor_div("X0", "X1"), "%": _floor_mod("X0", "X1")}
        return self.strict([a, b], term[op])

    def equal(self, a: _H, b: _H, t: ir.Type) -> _H:
        """a == b. Constants are ASP terms, so equal constants are equal strings; x == 'c' on a
        fact or node that cannot be unknown is the atom of that value itself."""
        if a.const and b.const:
            return _TRUE if a.const == b.const else _FALSE
        if a.const:
            a, b = b, a
        if b.const and isinstance(t, ir.BoolT):
            return a if b.const == "true" else self.negate(a)
        if b.const and not a.mu and not isinstance(t, ir.DateT) and (a.inp or (a.node >= 0 and not a.neg)):
            return _H(atom=self.val(a, b.const)[0])
        same, other = [*self.val(a, "X"), *self.val(b, "X")], [*self.val(a, "X"), *self.val(b, "Y"), "X!=Y"]
        return self.test([a, b], same, other, "==")

    def member(self, item: _H, choices: list[_H]) -> _H:
        """x in [c...]: true when a known choice equals x; else unknown when some choice is
        unknown (with those causes), false otherwise; x unknown gives x's causes only."""
        if item.const:
            item = self.strict([item], "X0")
        consts = [c.const for c in choices if c.const]
        nodes = [c for c in choices if not c.const]
        if not any(c.mu for c in [item, *choices]):
            n, atom = self.atom("in")
            if consts:
                self.base.append(f"inset({n},({';'.join(consts)})).")
                self.emit(atom, *self.val(item, "X"), f"inset({n},X)")
            for c in nodes:
                self.emit(atom, *self.val(item, "X"), *self.val(c, "X"))
            return _H(atom=atom)
        h = self.new(True, "in")
        if consts:
            self.base.append(f"inset({h.node},({';'.join(consts)})).")
            self.emit(f"v{h.node}(K,true)", *self.val(item, "X"), f"inset({h.node},X)")
        for c in nodes:
            self.emit(f"v{h.node}(K,true)", *self.val(item, "X"), *self.val(c, "X"))
        known = [*self.val(item, "X"), f"not v{h.node}(K,true)"]
        unknown = [c for c in choices if c.mu]
        for c in unknown:
            self.emit(f"uc{h.node}(K)", *self.unk(c, "W"))
            self.emit(f"unk{h.node}(K,W)", *known, *self.unk(c, "W"))
        self.emit(f"v{h.node}(K,false)", *known, *([f"not uc{h.node}(K)"] if unknown else []))
        self.inherit(h, [item])
        return h

    def ite(self, c: _H, a: _H, b: _H) -> _H:
        if c.const:
            return a if c.const == "true" else b
        n = self.new(c.mu or a.mu or b.mu, "if")
        for branch, t in ((a, True), (b, False)):
            self.emit(f"v{n.node}(K,X)", *self.truth(c, t), *self.val(branch, "X"))
            self.inherit(n, [branch], *self.truth(c, t))
        self.inherit(n, [c])
        return n

    def call(self, fn: str, a: list[_H], t: ir.Type) -> _H:
        """The builtins of solver.dates in clingo integer arithmetic; dates are built as
        d(Y,M,D,N) with N from the month table."""
        lits, num = _day_number("Y", "M", "D", "9")
        date = ("d(Y,M,D,N)", *lits, f"N={num}")  # head term and the literals it needs
        match fn:
            case "year" | "month" | "day":
                pat = {"year": _dpat(y="X"), "month": _dpat(m="X"), "day": _dpat(d="X")}[fn]
                return self.strict(a, "X", pats=[pat])
            case "date":
                # the month clamped to 1..12, then the day to 1..length; min(p,q) = (p+q-|p-q|)/2
                return self.strict(a, date[0], "M1=(X1+12-|X1-12|)/2", "M=(M1+1+|M1-1|)/2",
                                   *_month_length("X0", "M", "L", "1"), "D1=(X2+L-|X2-L|)/2",
                                   "D=(D1+1+|D1-1|)/2", "Y=X0", *date[1:])  # fmt: skip
            case "age_at":
                n = self.new(a[0].mu or a[1].mu, "age_at")
                body = [*self.val(a[0], _dpat("Y0", "M0", "D0")), *self.val(a[1], _dpat("Y1", "M1", "D1"))]
                self.emit(f"v{n.node}(K,Y1-Y0-1)", *body, "100*M1+D1<100*M0+D0")
                self.emit(f"v{n.node}(K,Y1-Y0)", *body, "100*M1+D1>=100*M0+D0")
                self.inherit(n, a)
                return n
            case "year_end_age":
                return self.strict(a, "X1-Y0", pats=[_dpat(y="Y0"), "X1"])
            case "month_index":
                return self.strict(a, "12*Y0+M0-1", pats=[_dpat("Y0", "M0")])
            case "first_of_next_month":
                return self.strict(a, date[0], "Y=Y0+M0/12", "M=M0\\12+1", "D=1", *date[1:],
                                   pats=[_dpat("Y0", "M0")])  # fmt: skip
            case "add_months":
                n = self.new(any(x.mu for x in a), "add_months")
                body = [
                    *self.val(a[0], _dpat("Y0", "M0", "D0")), *self.val(a[1], "Nm"), "T=12*Y0+M0-1+Nm",
                    f"Y1={_floor_div('T', '12')}", f"M1={_floor_mod('T', '12')}+1",
                    *_month_length("Y1", "M1", "L", "1"),
                ]  # fmt: skip
                head = f"v{n.node}(K,d(Y,M,D,N))"
                # strict in the rule too: a day that exists still needs a known rule
                self.emit(head, *body, "D0<=L", *self.val(a[2], "R"), "Y=Y1", "M=M1", "D=D0", *date[1:])
                self.emit(head, *body, "D0>L", *self.val(a[2], '"clamp"'), "Y=Y1", "M=M1", "D=L", *date[1:])
                self.emit(head, *body, "D0>L", *self.val(a[2], "R"), 'R!="clamp"',
                          "Y=Y1+M1/12", "M=M1\\12+1", "D=1", *date[1:])  # fmt: skip
                self.inherit(n, a)
                return n
            case "days_between":
                n = self.new(a[0].mu or a[1].mu, "days_between")
                self.emit(f"v{n.node}(K,Y-X)", *self.day(a[0], "X"), *self.day(a[1], "Y"))
                self.inherit(n, a)
                return n
            case "min" | "max":
                n = self.new(a[0].mu or a[1].mu, fn)
                le, gt = ("<=", ">") if fn == "min" else (">=", "<")
                p, q = ("X", "Y")
                if isinstance(t, ir.DateT):
                    p, q = _dpat("Y0", "M0", "D0", "X"), _dpat("Y1", "M1", "D1", "Y")
                body = [*self.val(a[0], p), *self.val(a[1], q)]
                self.emit(f"v{n.node}(K,{p})", *body, f"X{le}Y")
                self.emit(f"v{n.node}(K,{q})", *body, f"X{gt}Y")
                self.inherit(n, a)
                return n
        raise TypeError(f"unknown builtin {fn}")  # pragma: no cover

    def on_calendar(self, h: _H, call: ir.Call) -> _H:
        """The date h when its year is on the calendar, else unknown (as solver.dates raises)."""
        n = self.new(True, "on the calendar")
        where = _q(f"{shorten(to_text(call))} at {call.loc}")
        got = self.val(h, _dpat("Y", "M", "D", "N"))
        self.emit(f"v{n.node}(K,d(Y,M,D,N))", *got, f"Y>={dates.FIRST_YEAR}", f"Y<={dates.LAST_YEAR}")
        self.emit(f"unk{n.node}(K,offcal({where},Y))", *got, f"Y<{dates.FIRST_YEAR}")
        self.emit(f"unk{n.node}(K,offcal({where},Y))", *got, f"Y>{dates.LAST_YEAR}")
        self.inherit(n, [h])
        return n

    def lookup(self, param: str, keys: list[_H]) -> _H:
        """A parameter row; known keys without a row make it unknown with a reason."""
        n = self.new(True, f"{param}[...]")
        body = [lit for i, k in enumerate(keys) for lit in self.val(k, f"K{i}")]
        key, qp = "(" + "".join(f"K{i}," for i in range(len(keys))) + ")", _q(param)
        self.emit(f"v{n.node}(K,V)", *body, f"prow({qp},{key},V)")
        self.emit(f"unk{n.node}(K,noparam({qp},{key}))", *body, f"not pkey({qp},{key})")
        self.inherit(n, keys)
        return n

    # -- outputs and rules

    def output_ref(self, name: str) -> _H:
        """An exactly_one output in an expression: its value when ok, else unknown."""
        key = ("output", name)
        if key not in self.memo:
            self.output(name)
            fails, qo = self.out_fails[name], _q(name)
            n = self.new(fails, f"output {name}")
            self.emit(f"v{n.node}(K,X)", f"ostat(K,{qo},ok)", f"oval(K,{qo},X)")
            if fails:
                self.emit(f"unk{n.node}(K,W)", f"ocause(K,{qo},W)")
                self.emit(f"unk{n.node}(K,novalue({qo}))", f"ostat(K,{qo},gap)")
                self.emit(f"unk{n.node}(K,conflict({qo}))", f"ostat(K,{qo},conflict)")
            self.memo[key] = n
        return self.memo[key]

    def has(self, name: str, value: str) -> _H:
        """'v' in a set output: membership when the set is known."""
        self.output(name)
        qo, qv = _q(name), _q(value)
        if not self.out_mu[name]:
            return _H(atom=f"oval(K,{qo},{qv})")
        n = self.new(True, f"{value} in {name}")
        self.emit(f"v{n.node}(K,true)", f"oval(K,{qo},{qv})")
        self.emit(f"v{n.node}(K,false)", f"ostat(K,{qo},ok)", f"not oval(K,{qo},{qv})")
        self.emit(f"unk{n.node}(K,W)", f"ocause(K,{qo},W)")
        return n

    def applies(self, rule_id: str) -> _H:
        """A rule applies when `when` and `valid` hold and no exception applies (Kleene)."""
        key = ("rule", rule_id)
        if key not in self.memo:
            r = self.rs.rule(rule_id)
            parts = [self.expr(x) for x in self.flatten("and", r.when)]
            if r.valid:
                on = ir.Ref(r.valid.on, "input", self.rs.inputs[r.valid.on].type)
                if r.valid.lo is not None:
                    parts.append(self.expr(ir.Binary(">=", on, ir.Const(r.valid.lo, on.type), ir.BOOL)))
                if r.valid.hi is not None:
                    parts.append(self.expr(ir.Binary("<=", on, ir.Const(r.valid.hi, on.type), ir.BOOL)))
            parts += [self.negate(self.applies(u)) for u in r.unless]
            self.memo[key] = self.kleene("and", parts)
        return self.memo[key]

    def output(self, name: str) -> None:
        """An output's status, values, rules and causes, as solver/backends/base.py documents:
        unknown if a rule's applicability or an applying rule's value is; else the values of the
        applying rules (two or more distinct: conflict); none applying: default, gap or none."""
        if name in self.out_mu:
            return
        decl, o, qo = self.rs.outputs[name], f"o{list(self.rs.outputs).index(name)}_", _q(name)
        targets = [(r.id, self.applies(r.id), self.expr(dict(r.then)[name])) for r in self.rs.rules_for(name)]
        targets = [(rid, a, x) for rid, a, x in targets if a.const != "false"]
        default = self.expr(decl.default) if decl.default is not None else None
        rules_mu = any(a.mu or x.mu for _, a, x in targets)
        single = decl.cardinality != "set"
        conflicts = single and len({x.const or f"node{x}" for _, _, x in targets}) > 1
        self.out_mu[name] = rules_mu or bool(default and default.mu)
        self.out_fails[name] = self.out_mu[name] or conflicts or (default is None and single)
        self.lines.append(f"% output {name} ({decl.cardinality})")
        for rid, a, x in targets:
            if x.const:
                self.emit(f"{o}app(K,{_q(rid)},{x.const})", *self.truth(a, True))
            else:
                self.emit(f"{o}app(K,{_q(rid)},X)", *self.truth(a, True), *self.val(x, "X"))
            if a.mu:
                self.emit(f"{o}rc(K,W)", *self.unk(a, "W"))
            if x.mu:
                self.emit(f"{o}rc(K,W)", *self.truth(a, True), *self.unk(x, "W"))
        known = [f"not {o}unk(K)"] if rules_mu else []
        if rules_mu:
            self.emit(f"{o}unk(K)", f"{o}rc(K,_)")
            self.emit(f"ostat(K,{qo},unknown)", f"{o}unk(K)")
            self.emit(f"ocause(K,{qo},W)", f"{o}rc(K,W)")
        if targets:
            self.emit(f"oval(K,{qo},X)", f"{o}app(K,_,X)", *known)
            self.emit(f"orule(K,{qo},R)", f"{o}app(K,R,_)", *known)
        if not single and default is None:
            self.emit(f"ostat(K,{qo},ok)", *known)
            return
        self.emit(f"{o}any(K)", f"{o}app(K,_,_)")
        if conflicts:
            self.emit(f"{o}many(K)", f"{o}app(K,_,X)", f"{o}app(K,_,Y)", "X<Y")
            self.emit(f"ostat(K,{qo},conflict)", f"{o}many(K)", *known)
            self.emit(f"ostat(K,{qo},ok)", f"{o}any(K)", f"not {o}many(K)", *known)
        else:
            self.emit(f"ostat(K,{qo},ok)", f"{o}any(K)", *known)
        none = [f"not {o}any(K)", *known]
        if default is None:
            self.emit(f"ostat(K,{qo},{'gap' if decl.cardinality == 'exactly_one' else 'none'})", *none)
            return
        self.emit(f"oval(K,{qo},X)", *none, *self.val(default, "X"))
        self.emit(f"ostat(K,{qo},ok)", *none, *self.val(default, "X"))
        if default.mu:
            self.emit(f"ostat(K,{qo},unknown)", *none, *self.unk(default, "W"))
            self.emit(f"ocause(K,{qo},W)", *none, *self.unk(default, "W"))

    def run(self) -> list[str]:
        for name in self.rs.outputs:
            self.output(name)
        return self.lines


def _params(rs: ir.RuleSet) -> list[str]:
    """Every parameter row as a fact prow(Name, (Key,...), Value)."""
    return [
        f"prow({_q(p.name)},({''.join(_const(k) + ',' for k in row.key)}),{_const(row.value)})."
        for p in rs.params.values()
        for row in p.rows
    ]


def translate(rs: ir.RuleSet) -> str:
    """The ASP program of a resolved rule set: part `base` (calendar and parameter facts, the
    persons) and parts `complete` and `partial` deciding every person K (the latter for persons
    with missing inputs; the former leaves out the rules that only missing inputs need)."""
    counter, base = [0], [_BASE, *_params(rs)]
    complete = _Translator(rs, False, counter, base).run()
    partial = _Translator(rs, True, counter, base).run()
    return "\n".join(
        [f"% elig rule set {rs.name}", "#program base.", *dict.fromkeys(base), "#program complete.", *complete,
         "#program partial.", *partial, ""]
    )  # fmt: skip

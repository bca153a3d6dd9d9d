"""The SQL backend's expressions: an IR expression to SQL, its value beside its why-unknown masks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from solver import dates, ir
from solver.backends.sql_dialects import Dialect
from solver.passes.calendar import CalendarBounds

WORD_BITS = 62  # bits used per BIGINT mask word (keeps clear of the sign bit)
Masks = dict[int, str]  # mask word index -> SQL of that word (words absent are 0)


@dataclass
class _Column:
    name: str
    value: str
    masks: Masks
    deps: set[str]
    level: int = 0


@dataclass
class _ExprCompiler:
    """IR expressions to SQL values with their why-unknown masks, as columns of one query."""

    rs: ir.RuleSet
    d: Dialect
    track: bool  # compute why-unknown masks (off: values and statuses only)
    columns: dict[str, _Column] = field(default_factory=dict)
    bits: dict[str, int] = field(default_factory=dict)  # input / param:P / output:O -> bit index
    deps: set[str] = field(default_factory=set)  # columns read by the expression being compiled
    hoisted: dict[tuple[str, tuple[tuple[int, str], ...]], str] = field(default_factory=dict)
    calendar: CalendarBounds = field(init=False)

    def __post_init__(self) -> None:
        self.calendar = CalendarBounds(self.rs)
        names = [*self.rs.inputs, *(f"param:{p}" for p in self.rs.params), *(f"output:{o}" for o in self.rs.outputs)]
        names.append("calendar")  # a date left the calendar
        self.bits = {n: i for i, n in enumerate(names)}
        self.words = (len(names) + WORD_BITS - 1) // WORD_BITS

    # -- masks
    def bit(self, key: str) -> Masks:
        if not self.track:
            return {}
        i = self.bits[key]
        return {i // WORD_BITS: str(1 << (i % WORD_BITS))}

    @staticmethod
    def union(*ms: Masks) -> Masks:
        out: dict[int, list[str]] = {}
        for m in ms:
            for w, sql in m.items():
                out.setdefault(w, []).append(sql)
        return {w: parts[0] if len(parts) == 1 else "(" + " | ".join(parts) + ")" for w, parts in out.items()}

    @staticmethod
    def gate(cond: str, m: Masks) -> Masks:
        return {w: f"CASE WHEN {cond} THEN {sql} ELSE 0 END" for w, sql in m.items()}

    def col(self, name: str) -> tuple[str, Masks]:
        """A column read by an expression: its value and its (already gated) mask columns."""
        self.deps.add(name)
        c = self.columns.get(name)
        if c is None:  # an input
            i = self.bits[name]
            w, b = i // WORD_BITS, 1 << (i % WORD_BITS)
            if self.track:
                self.deps.add(f"_m{w}")
            return self.d.ident(name), ({w: f"({self.d.ident(f'_m{w}')} & {b})"} if self.track else {})
        return self.d.ident(name), {w: self.d.ident(f"{name}__m{w}") for w in c.masks}

    # -- expressions: (value SQL, gated masks)
    def expr(self, e: ir.Expr) -> tuple[str, Masks]:
        if (
            not self.track
            or not isinstance(e, ir.Binary | ir.In | ir.Ite | ir.Lookup)
            or (isinstance(e, ir.Binary) and e.op not in ("and", "or"))
        ):
            return self._expr(e)
        # A node whose masks repeat its value becomes a column of its own (the same SQL once), so
        # the query grows linearly with the rules instead of with their nesting depth.
        outer, self.deps = self.deps, set()
        value, masks = self._expr(e)
        key = (value, tuple(sorted(masks.items())))
        name = self.hoisted.get(key)
        if name is None:
            name = self.hoisted[key] = f"h_{len(self.hoisted)}"
            self.add(name, value, masks)
        self.deps = outer
        return self.col(name)

    def _expr(self, e: ir.Expr) -> tuple[str, Masks]:
        match e:
            case ir.Const(value=v):
                return self.const(v), {}
            case ir.Ref(name=n, kind="input"):
                return self.col(n)
            case ir.Ref(name=n, kind="definition"):
                return self.col(f"d_{n}")
            case ir.Ref(name=n, kind="output"):
                return self.col(f"o_{n}")
            case ir.Ref(name=n):
                raise ValueError(f"option {n} is not resolved; run solver.passes.options.resolve first")
            case ir.Has(output=o, value=v):
                val, m = self.col(f"o_{o}")
                return f"{self.d.contains(val, self.const(v))}", m
            case ir.Unary(op="not", arg=a):
                val, m = self.expr(a)
                return f"(NOT {val})", m
            case ir.Unary(op="neg", arg=a):
                val, m = self.expr(a)
                return f"(-{val})", m
            case ir.Binary(op="and" | "or"):
                parts = [self.expr(p) for p in self._chain(e, e.op)]
                val = "(" + f" {e.op.upper()} ".join(v for v, _ in parts) + ")"
                return val, self.gate(f"{val} IS NULL", self.union(*(m for _, m in parts)))
            case ir.Binary(op=op, left=a, right=b):
                (va, ma), (vb, mb) = self.expr(a), self.expr(b)
                if op == "//":
                    val = self.d.floor_div(va, vb)
                elif op == "%":
                    val = f"(({va}) - ({vb}) * {self.d.floor_div(va, vb)})"
                else:
                    val = f"({va} {'<>' if op == '!=' else op} {vb})"
                return val, self.union(ma, mb)
            case ir.In(item=a, choices=cs):
                va, ma = self.expr(a)
                if not cs:
                    return f"CASE WHEN {va} IS NULL THEN NULL ELSE FALSE END", ma
                parts = [self.expr(c) for c in cs]
                val = f"({va} IN ({', '.join(v for v, _ in parts)}))"
                masks = self.union(
                    self.gate(f"{va} IS NULL", ma), self.gate(f"{val} IS NULL", self.union(*(m for _, m in parts)))
                )
                return val, masks if ma or any(m for _, m in parts) else {}
            case ir.Ite(cond=c, then=a, other=b):
                (vc, mc), (va, ma), (vb, mb) = self.expr(c), self.expr(a), self.expr(b)
                val = f"CASE WHEN {vc} THEN {va} WHEN NOT {vc} THEN {vb} END"
                words = set(mc) | set(ma) | set(mb)
                masks = {
                    w: f"CASE WHEN {vc} IS NULL THEN {mc.get(w, '0')} WHEN {vc} THEN {ma.get(w, '0')} "
                    f"ELSE {mb.get(w, '0')} END"
                    for w in words
                }
                return val, masks
            case ir.Call(fn=fn, args=args):
                parts = [self.expr(a) for a in args]
                vals, masks = [v for v, _ in parts], self.union(*(m for _, m in parts))
                if not self.calendar.may_leave(e):
                    return self.call(fn, vals), masks
                val, on = self.on_calendar(fn, vals)
                known = " AND ".join(f"{v} IS NOT NULL" for v in vals)
                return f"CASE WHEN {on} THEN {val} END", self.union(
                    masks, self.gate(f"{known} AND NOT ({on})", self.bit("calendar"))
                )
            case ir.Lookup(param=p, keys=keys):
                parts = [self.expr(k) for k in keys]
                vals = [v for v, _ in parts]
                rows = " ".join(
                    "WHEN "
                    + " AND ".join(f"{v} = {self.const(k)}" for v, k in zip(vals, row.key, strict=True))
                    + f" THEN {self.const(row.value)}"
                    for row in self.rs.params[p].rows
                )
                val = f"CASE {rows} END" if rows else "NULL"
                known = " AND ".join(f"{v} IS NOT NULL" for v in vals) or "TRUE"
                masks = self.union(
                    *(m for _, m in parts), self.gate(f"{known} AND {val} IS NULL", self.bit(f"param:{p}"))
                )
                return val, masks
        raise TypeError(f"cannot compile {e!r}")  # pragma: no cover

    @staticmethod
    def _chain(e: ir.Expr, op: str) -> list[ir.Expr]:
        if isinstance(e, ir.Binary) and e.op == op:
            return [*_ExprCompiler._chain(e.left, op), *_ExprCompiler._chain(e.right, op)]
        return [e]

    def const(self, v: ir.Value) -> str:
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, int):
            return f"CAST({v} AS BIGINT)"
        if isinstance(v, dt.date):
            return f"DATE '{v.isoformat()}'"
        return self.d.string(v)

    def call(self, fn: str, a: list[str]) -> str:
        d = self.d
        if fn in ("year", "month", "day"):
            return f"{'dayofmonth' if fn == 'day' and d.name == 'spark' else fn}({a[0]})"
        if fn in ("min", "max"):
            nulls = " OR ".join(f"{x} IS NULL" for x in a)
            return f"CASE WHEN {nulls} THEN NULL ELSE {'LEAST' if fn == 'min' else 'GREATEST'}({', '.join(a)}) END"
        if fn == "date":
            m = f"LEAST(GREATEST({a[1]}, 1), 12)"
            last = f"dayofmonth(last_day({d.make_date(a[0], m, '1')}))"
            return d.make_date(a[0], m, f"LEAST(GREATEST({a[2]}, 1), {last})")
        if fn == "age_at":
            b, on = a
            before = f"(month({on}) * 100 + dayofmonth({on}) < month({b}) * 100 + dayofmonth({b}))"
            return f"(year({on}) - year({b}) - CASE WHEN {before} THEN 1 ELSE 0 END)"
        if fn == "year_end_age":
            return f"({a[1]} - year({a[0]}))"
        if fn == "month_index":
            return f"(12 * year({a[0]}) + month({a[0]}) - 1)"
        if fn == "first_of_next_month":
            return self._from_month_index(f"(12 * year({a[0]}) + month({a[0]}))", "1")
        if fn == "add_months":
            src, n, rule = a
            total = f"(12 * year({src}) + month({src}) - 1 + {n})"
            first = self._from_month_index(total, "1")
            last = f"dayofmonth(last_day({first}))"
            day = f"dayofmonth({src})"
            after = self._from_month_index(f"({total} + 1)", "1")
            clamp = f"CASE WHEN {rule} = 'clamp' THEN last_day({first}) WHEN {rule} = 'roll' THEN {after} END"
            return f"CASE WHEN {day} <= {last} THEN {self._from_month_index(total, day)} ELSE {clamp} END"
        if fn == "days_between":
            return d.days_between(a[0], a[1])
        raise TypeError(f"no SQL for builtin {fn}")  # pragma: no cover

    def on_calendar(self, fn: str, a: list[str]) -> tuple[str, str]:
        """A date builtin computed with its year kept on the calendar (so SQL never fails on
        it), and the condition that the true result is on the calendar (solver/dates.py)."""
        first, last = dates.FIRST_YEAR, dates.LAST_YEAR
        if fn == "date":
            kept = f"LEAST(GREATEST({a[0]}, {first}), {last})"
            return self.call(fn, [kept, *a[1:]]), f"{a[0]} BETWEEN {first} AND {last}"
        if fn == "first_of_next_month":
            return self.call(fn, a), f"(year({a[0]}) < {last} OR month({a[0]}) < 12)"
        src, n, rule = a
        index = f"(12 * year({src}) + month({src}) - 1)"
        lo, hi = 12 * first, 12 * last + 11
        kept = f"LEAST(GREATEST({n}, {lo} - {index}), {hi} - {index})"
        val = self.call(fn, [src, kept, rule])
        return val, f"({index} + {n} BETWEEN {lo} AND {hi})"

    def _from_month_index(self, index: str, day: str) -> str:
        y = self.d.floor_div(index, "12")
        m = f"(({index}) - 12 * {y} + 1)"
        return self.d.make_date(y, m, day)

    # -- columns
    def add(self, name: str, value: str, masks: Masks) -> None:
        deps, self.deps = self.deps, set()
        self.columns[name] = _Column(name, value, masks, deps)

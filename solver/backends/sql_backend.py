"""The IR compiled to one SQL query: a population decided in one pass, on DuckDB (embedded) or Spark.

Semantics are eval's (solver/backends/base.py), translated directly:

* Unknown is SQL NULL. SQL's AND / OR / NOT and `x IN (...)` are already Kleene; every other
  operator is strict, as SQL's are, except LEAST / GREATEST (guarded) and `if` (a CASE that gives
  NULL when its condition is NULL).
* Why a value is unknown travels beside it as bit masks (BIGINT words, 62 bits each) over the
  inputs, the parameter tables and the referenced outputs: a mask is non-zero only where its value
  is NULL, and merges exactly where eval merges `Unknown`s (strict operators: every operand; AND /
  OR / IN: the unknown operands, only when the result is unknown; `if`: the branch taken).
* Definitions, rule applicabilities and outputs are columns, stacked in layers (a column's layer
  is one more than the deepest column it reads), so no expression is repeated across columns.
* Parameter tables are CASE lookups over their rows (they have a few rows each); dates are DATE.

Each output O gives the columns O (its value when ok: a scalar, or a sorted list for sets),
O__status, O__rules (sorted ids of the applying rules), O__missing (the missing inputs when
unknown), O__reason (other causes of unknown), and O__values for outputs that can conflict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from solver import dates, ir
from solver.backends.base import Decision, OutputResult, Person, Status
from solver.passes.calendar import CalendarBounds
from solver.semantics.reasons import Reason, no_parameter, off_calendar

WORD_BITS = 62  # bits used per BIGINT mask word (keeps clear of the sign bit)
# Statuses are small integers inside the query (compared at every layer; named in the last select).
STATUS_CODE = {"ok": 0, "unknown": 1, "conflict": 2, "gap": 3, "none": 4}
OK, UNKNOWN, CONFLICT = STATUS_CODE["ok"], STATUS_CODE["unknown"], STATUS_CODE["conflict"]  # >= CONFLICT: no value
Masks = dict[int, str]  # mask word index -> SQL of that word (words absent are 0)


# ---------------------------------------------------------------- dialects


@dataclass(frozen=True)
class Dialect:
    name: Literal["duckdb", "spark"]

    def ident(self, name: str) -> str:
        if self.name == "spark":
            return "`" + name.replace("`", "``") + "`"
        return '"' + name.replace('"', '""') + '"'

    def string(self, s: str) -> str:
        if self.name == "spark":
            return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + s.replace("'", "''") + "'"

    def array(self, items: Sequence[str]) -> str:
        return ("array(" if self.name == "spark" else "list_value(") + ", ".join(items) + ")"

    def array_type(self, sql_type: str) -> str:
        return f"array<{sql_type}>" if self.name == "spark" else f"{sql_type}[]"

    def non_null(self, arr: str) -> str:
        """The array without its NULL elements, order kept."""
        if self.name == "spark":
            return f"filter({arr}, x -> x IS NOT NULL)"
        return f"list_filter({arr}, lambda x: x IS NOT NULL)"

    def sorted_distinct(self, arr: str) -> str:
        if self.name == "spark":
            return f"array_sort(array_distinct({self.non_null(arr)}))"
        return f"list_sort(list_distinct({arr}))"  # list_distinct drops NULLs

    def contains(self, arr: str, item: str) -> str:
        return f"{'array_contains' if self.name == 'spark' else 'list_contains'}({arr}, {item})"

    def bits_named(self, names: str, mask: str) -> str:
        """The elements of `names` whose position is a set bit of `mask` (NULL names dropped)."""
        if self.name == "spark":
            return f"filter({names}, (x, i) -> x IS NOT NULL AND shiftright({mask}, i) & 1 = 1)"
        return f"list_filter({names}, lambda x, i: x IS NOT NULL AND ({mask} >> (i - 1)) & 1 = 1)"

    def concat(self, arrays: Sequence[str]) -> str:
        if self.name == "spark":
            return f"concat({', '.join(arrays)})"
        out = arrays[0]
        for a in arrays[1:]:
            out = f"list_concat({out}, {a})"
        return out

    def floor_div(self, a: str, b: str) -> str:
        # Python's // floors; SQL integer division truncates toward zero.
        return f"CAST(floor(({a}) / ({b})) AS BIGINT)"

    def make_date(self, y: str, m: str, d: str) -> str:
        return f"make_date(CAST({y} AS INT), CAST({m} AS INT), CAST({d} AS INT))"

    def days_between(self, a: str, b: str) -> str:
        return f"datediff({b}, {a})" if self.name == "spark" else f"date_diff('day', {a}, {b})"

    def sql_type(self, t: ir.Type) -> str:
        if isinstance(t, ir.BoolT):
            return "BOOLEAN"
        if isinstance(t, ir.IntT):
            return "BIGINT"
        if isinstance(t, ir.DateT):
            return "DATE"
        return "STRING" if self.name == "spark" else "VARCHAR"


DUCKDB = Dialect("duckdb")
SPARK = Dialect("spark")
DIALECTS = {"duckdb": DUCKDB, "spark": SPARK}


# ---------------------------------------------------------------- the compiler


@dataclass
class _Column:
    name: str
    value: str
    masks: Masks
    deps: set[str]
    level: int = 0


@dataclass
class _Compiler:
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
            or (isinstance(e, ir.Binary)
            and e.op not in ("and", "or"))
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
            return [*_Compiler._chain(e.left, op), *_Compiler._chain(e.right, op)]
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

    def rule(self, i: int, r: ir.Rule) -> None:
        parts = [self.expr(r.when)]
        if r.valid:
            on = self.col(r.valid.on)
            if r.valid.lo is not None:
                parts.append((f"({on[0]} >= {self.const(r.valid.lo)})", on[1]))
            if r.valid.hi is not None:
                parts.append((f"({on[0]} <= {self.const(r.valid.hi)})", on[1]))
        for u in r.unless:
            v, m = self.col(f"a_{self.rule_index[u]}")
            parts.append((f"(NOT {v})", m))
        val = "(" + " AND ".join(v for v, _ in parts) + ")"
        self.add(f"a_{i}", val, self.gate(f"{val} IS NULL", self.union(*(m for _, m in parts))))
        for o, then in r.then:
            v, m = self.expr(then)
            if isinstance(then, ir.Const):
                self.then_sql[(i, o)] = (v, {})
            else:
                self.add(f"t_{i}_{o}", v, m)
                self.then_sql[(i, o)] = self.col(f"t_{i}_{o}")
            self.deps = set()

    def output(self, o: ir.Output) -> None:
        d = self.d
        targeting = sorted(((self.rule_index[r.id], r.id) for r in self.rs.rules_for(o.name)), key=lambda p: p[1])
        apps = [(rid, *self.col(f"a_{i}"), *self.then_sql[(i, o.name)]) for i, rid in targeting]
        self.deps |= {f"t_{i}_{o.name}" for i, _ in targeting if f"t_{i}_{o.name}" in self.columns}
        # apps: (rule id, applies SQL, applies masks, value SQL, value masks)
        unknown = " OR ".join(f"{a} IS NULL OR ({a} AND {v} IS NULL)" for _, a, _, v, _ in apps) or "FALSE"
        any_applies = " OR ".join(a for _, a, _, _, _ in apps) or "FALSE"
        default_v, default_m = self.expr(o.default) if o.default is not None else ("NULL", {})
        if o.default is not None:
            none = f"CASE WHEN {default_v} IS NULL THEN {UNKNOWN} ELSE {OK} END"
        else:
            none = str(STATUS_CODE[{"set": "ok", "exactly_one": "gap", "at_most_one": "none"}[o.cardinality]])
        conflict = " OR ".join(
            f"({a1} AND {a2} AND {v1} <> {v2})"
            for k, (_, a1, _, v1, _) in enumerate(apps)
            for (_, a2, _, v2, _) in apps[k + 1 :]
            if v1 != v2
        )
        status = f"CASE WHEN {unknown} THEN {UNKNOWN} WHEN NOT ({any_applies}) THEN {none} "
        if o.cardinality != "set" and conflict:
            status += f"WHEN {conflict} THEN {CONFLICT} "
        status += f"ELSE {OK} END"
        masks = self.union(
            *(
                {
                    w: f"CASE WHEN {a} IS NULL THEN {am.get(w, '0')} WHEN {a} THEN {vm.get(w, '0')} ELSE 0 END"
                    for w in set(am) | set(vm)
                }
                for _, a, am, _, vm in apps
            ),
            self.gate(f"NOT ({any_applies})", default_m) if apps else default_m,
        )
        s_name = f"s_{o.name}"
        deps_first = set(self.deps)
        self.add(s_name, status, {})
        s = self.d.ident(s_name)
        # The next layer reads the status: the value for references, the masks, rules, conflicts.
        self.deps = deps_first | {s_name}
        values = d.sorted_distinct(d.array([f"CASE WHEN {a} THEN {v} END" for _, a, _, v, _ in apps])) if apps else None
        if o.cardinality == "set":
            empty = f"CAST({d.array([])} AS {d.array_type(d.sql_type(o.type))})"
            value = f"CASE WHEN {s} = {OK} THEN {values or empty} END"
        else:
            picks = " ".join(f"WHEN {a} THEN {v}" for _, a, _, v, _ in apps)
            value = (
                f"CASE WHEN {s} = {OK} THEN CASE {picks} ELSE {default_v} END END"
                if apps
                else (f"CASE WHEN {s} = {OK} THEN {default_v} END")
            )
        own = self.bit(f"output:{o.name}")
        ref_masks = self.union(
            self.gate(f"{s} = {UNKNOWN}", masks), self.gate(f"{s} >= {CONFLICT}", own)
        )
        self.add(f"o_{o.name}", value, ref_masks)
        self.deps = deps_first | {s_name}
        rule_ids = d.non_null(d.array([f"CASE WHEN {a} THEN {d.string(rid)} END" for rid, a, _, _, _ in apps]))
        empty_ids = f"CAST({d.array([])} AS {d.array_type(d.sql_type(ir.EnumT('', ())))})"
        self.add(
            f"r_{o.name}",
            f"CASE WHEN {s} IN ({OK}, {CONFLICT}) AND ({any_applies}) THEN {rule_ids} ELSE {empty_ids} END"
            if apps
            else empty_ids,
            {},
        )
        if o.cardinality != "set" and conflict and values:
            self.deps = deps_first | {s_name}
            self.add(f"v_{o.name}", f"CASE WHEN {s} = {CONFLICT} THEN {values} END", {})

    def compile(self) -> None:
        rs = self.rs
        self.rule_index = {r.id: i for i, r in enumerate(rs.rules)}
        self.then_sql: dict[tuple[int, str], tuple[str, Masks]] = {}
        if self.track:
            for w in range(self.words):
                terms = [
                    f"CASE WHEN {self.d.ident(n)} IS NULL THEN {1 << (i % WORD_BITS)} ELSE 0 END"
                    for n, i in self.bits.items()
                    if n in rs.inputs and i // WORD_BITS == w
                ]
                if terms:
                    self.add(f"_m{w}", "CAST(" + " + ".join(terms) + " AS BIGINT)", {})
        done: set[str] = set()

        def rule(r: ir.Rule) -> None:
            for u in r.unless:
                if u not in done:
                    rule(rs.rule(u))
            self.rule(self.rule_index[r.id], r)
            done.add(r.id)

        for name in rs.order:
            if name in rs.definitions:
                v, m = self.expr(rs.definitions[name].expr)
                self.add(f"d_{name}", v, m)
                continue
            for r in rs.rules_for(name):
                if r.id not in done:
                    rule(r)
            self.output(rs.outputs[name])
        for r in rs.rules:
            if r.id not in done:
                rule(r)
        # Whether a person meets every input constraint (unknown counts as not, as in eval).
        self.deps = set()
        parts = [f"COALESCE({self.expr(k.expr)[0]}, FALSE)" for k in rs.constraints]
        self.add("_valid", " AND ".join(parts) or "TRUE", {})
        self._levels()

    def _levels(self) -> None:
        for c in self.columns.values():  # insertion order is a topological order
            c.level = 1 + max((self._level_of(n) for n in c.deps), default=0)

    def _level_of(self, name: str) -> int:
        c = self.columns.get(name)
        return c.level if c else 0

    def query(
        self, source: str, outputs: Sequence[str], keep: Sequence[str], valid: bool = False, rules: bool = True
    ) -> str:
        """SELECT over `source` (a table or subquery with one typed column per input, NULL when
        missing): `keep` columns passed through, then the result columns of `outputs`."""
        d = self.d
        kinds = "osrv" if rules else "osv"
        needed = self._needed_of([f"{k}_{n}" for n in outputs for k in kinds])
        needed |= self._needed_of(["_valid"]) if valid else set()
        levels: dict[int, list[_Column]] = {}
        for c in self.columns.values():
            if c.name in needed:
                levels.setdefault(c.level, []).append(c)
        # Each layer passes on only the columns a later layer or the final select reads: a narrow
        # plan is what keeps planning time down on a rule set of hundreds of rules.
        final_reads = {*keep, *(["_valid"] if valid else []), *(f"{k}_{n}" for n in outputs for k in kinds)}
        last_use: dict[str, float] = {}
        for c in self.columns.values():
            if c.name in needed:
                for dep in c.deps:
                    last_use[dep] = max(last_use.get(dep, 0), c.level)
        for name in final_reads:
            last_use[name] = float("inf")

        def physical(name: str) -> list[str]:
            c = self.columns.get(name)
            return [name] + ([f"{name}__m{w}" for w in sorted(c.masks)] if c else [])

        live = [n for n in [*self.rs.inputs, *keep] if n in last_use and n not in self.columns]
        sql = source
        for level in sorted(levels):
            items = [d.ident(p) for n in dict.fromkeys(live) if last_use[n] >= level for p in physical(n)]
            live = [n for n in live if last_use[n] > level] + [c.name for c in levels[level] if c.name in last_use]
            for c in levels[level]:
                items.append(f"{c.value} AS {d.ident(c.name)}")
                items += [f"CAST({m} AS BIGINT) AS {d.ident(f'{c.name}__m{w}')}" for w, m in sorted(c.masks.items())]
            sql = f"SELECT {', '.join(items)} FROM ({sql}) AS l{level}"
        final = [d.ident(k) for k in keep] + ([d.ident("_valid")] if valid else [])
        for name in outputs:
            o = self.rs.outputs[name]
            s = d.ident(f"s_{name}")
            final.append(f"{d.ident(f'o_{name}')} AS {d.ident(name)}")
            named = " ".join(f"WHEN {c} THEN {d.string(st)}" for st, c in STATUS_CODE.items())
            final.append(f"CASE {s} {named} END AS {d.ident(name + '__status')}")
            if rules:
                final.append(f"{d.ident(f'r_{name}')} AS {d.ident(name + '__rules')}")
            if f"v_{name}" in self.columns:
                final.append(f"{d.ident(f'v_{name}')} AS {d.ident(name + '__values')}")
            masks = self.columns[f"o_{name}"].masks
            unknown = f"{s} = {UNKNOWN}"
            strings = d.array_type(d.sql_type(ir.EnumT("", ())))
            empty = f"CAST({d.array([])} AS {strings})"
            for label in ("missing", "reason"):
                parts = [d.bits_named(d.ident(f"_{label}{w}"), d.ident(f"o_{name}__m{w}")) for w in sorted(masks)]
                joined = parts[0] if len(parts) == 1 else d.concat(parts) if parts else empty
                col = f"CASE WHEN {unknown} THEN {joined} ELSE {empty} END" if parts else empty
                final.append(f"{col} AS {d.ident(f'{name}__{label}')}")
            del o
        # One row of name arrays, bit i of word w at index i: what a why-unknown mask spells out.
        names = []
        for w in range(self.words):
            missing: list[str] = ["NULL"] * WORD_BITS
            reasons: list[str] = ["NULL"] * WORD_BITS
            for key, i in self.bits.items():
                if i // WORD_BITS != w:
                    continue
                if key in self.rs.inputs:
                    missing[i % WORD_BITS] = d.string(key)
                else:  # the bit's key ("param:P", "calendar", "output:O"); result_from_row types it
                    reasons[i % WORD_BITS] = d.string(key)
            strings = d.array_type(d.sql_type(ir.EnumT("", ())))
            names.append(f"CAST({d.array(missing)} AS {strings}) AS {d.ident(f'_missing{w}')}")
            names.append(f"CAST({d.array(reasons)} AS {strings}) AS {d.ident(f'_reason{w}')}")
        return f"SELECT {', '.join(final)} FROM ({sql}) AS decided, (SELECT {', '.join(names)}) AS names"

    def _needed_of(self, todo: list[str]) -> set[str]:
        seen: set[str] = set()
        while todo:
            n = todo.pop()
            if n in seen or n not in self.columns:
                continue
            seen.add(n)
            todo += self.columns[n].deps
        return seen


@dataclass(frozen=True)
class Compiled:
    rs: ir.RuleSet
    dialect: Dialect
    compiler: _Compiler

    def query(
        self,
        source: str,
        outputs: Sequence[str] | None = None,
        keep: Sequence[str] = (),
        *,
        valid: bool = False,
        rules: bool = True,
    ) -> str:
        """SELECT over `source` (one typed column per input, NULL when missing): the `keep` columns,
        `_valid` (the input constraints hold) when asked, then the result columns of `outputs`
        (with O__rules, the applying rules, when `rules`)."""
        names = list(outputs if outputs is not None else self.rs.outputs)
        return self.compiler.query(source, names, keep, valid, rules)

    def input_schema(self) -> dict[str, str]:
        return {n: self.dialect.sql_type(i.type) for n, i in self.rs.inputs.items()}


def compile_ruleset(rs: ir.RuleSet, dialect: Dialect | str = DUCKDB, *, track: bool = True) -> Compiled:
    """The resolved rule set as SQL in a dialect; `track=False` drops the why-unknown columns' masks."""
    d = DIALECTS[dialect] if isinstance(dialect, str) else dialect
    c = _Compiler(rs, d, track)
    c.compile()
    return Compiled(rs, d, c)


# ---------------------------------------------------------------- results back to Decisions


def result_from_row(rs: ir.RuleSet, name: str, row: Mapping[str, Any]) -> OutputResult:
    status = cast(Status, row[f"{name}__status"])
    card = rs.outputs[name].cardinality
    value = row[name]
    if status == "ok":
        values: tuple[Any, ...] = tuple(value) if card == "set" else (value,)
    elif status == "conflict":
        values = tuple(row[f"{name}__values"])
    else:
        values = ()
    return OutputResult(
        name,
        status,
        values,
        tuple(row[f"{name}__rules"] or ()),
        tuple(sorted(row[f"{name}__missing"] or ())),
        tuple(_reason(key) for key in row[f"{name}__reason"] or ()),
    )


def _reason(key: str) -> Reason:
    """The typed reason of a why-unknown bit (the query knows the table, not its key)."""
    kind, _, name = key.partition(":")
    if kind == "param":
        return no_parameter(name)
    if kind == "output":
        return Reason("no_single_value", name)
    return off_calendar()


def input_table_sql(rs: ir.RuleSet, d: Dialect, persons: Sequence[Person]) -> str:
    """A VALUES table of persons (for a handful; files go through batch)."""
    c = _Compiler(rs, d, False)
    names = list(rs.inputs)
    rows = []
    for p in persons:
        cells = []
        for n in names:
            t = d.sql_type(rs.inputs[n].type)
            cells.append(f"CAST({c.const(p[n]) if n in p else 'NULL'} AS {t})")
        rows.append("(" + ", ".join(cells) + ")")
    cols = ", ".join(d.ident(n) for n in names)
    return f"SELECT * FROM (VALUES {', '.join(rows)}) AS persons({cols})"


def connect() -> Any:
    """A DuckDB connection tuned for these wide queries: two optimizer passes whose planning time
    grows fastest with query size (measured: 14 s -> 1.7 s on the Shanghai set) are off."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET disabled_optimizers = 'statistics_propagation,common_subexpressions'")
    return con


class SqlBackend:
    """The Backend Protocol over DuckDB: each decide() is a one-row query (slow per person; the
    point of this backend is `decide_many` and `elig batch`, one pass over a whole population)."""

    name = "sql"

    def __init__(self, rs: ir.RuleSet) -> None:
        self.rs = rs
        self.compiled = compile_ruleset(rs, DUCKDB)
        self.con = connect()

    def decide(self, person: Person) -> Decision:
        return self.decide_many([person])[0]

    def decide_many(self, persons: Sequence[Person]) -> list[Decision]:
        if not persons:
            return []
        src = input_table_sql(self.rs, DUCKDB, persons)
        cur = self.con.execute(self.compiled.query(src))
        cols = [c[0] for c in cur.description]
        out = []
        for values in cur.fetchall():
            row = dict(zip(cols, values, strict=True))
            results = {n: result_from_row(self.rs, n, row) for n in self.rs.outputs}
            out.append(Decision(results, dict(self.rs.resolved_options), self.name))
        return out

"""The SQL backend's compiler: a resolved rule set to one layered SELECT."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from solver import ir
from solver.backends.sql_dialects import DIALECTS, DUCKDB, Dialect
from solver.backends.sql_expressions import WORD_BITS, Masks, _Column, _ExprCompiler

# Statuses are small integers inside the query (compared at every layer; named in the last select).
STATUS_CODE = {"ok": 0, "unknown": 1, "conflict": 2, "gap": 3, "none": 4}
OK, UNKNOWN, CONFLICT = STATUS_CODE["ok"], STATUS_CODE["unknown"], STATUS_CODE["conflict"]  # >= CONFLICT: no value


class _Compiler(_ExprCompiler):
    """A resolved rule set to SQL: definitions, rule applicabilities and outputs as columns in
    layers, and the query over them."""

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
        ref_masks = self.union(self.gate(f"{s} = {UNKNOWN}", masks), self.gate(f"{s} >= {CONFLICT}", own))
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

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

from collections.abc import Mapping, Sequence
from typing import Any, cast

from solver import ir
from solver.backends.base import Decision, OutputResult, Person, Status
from solver.backends.sql_compiler import _Compiler, compile_ruleset
from solver.backends.sql_dialects import DUCKDB, SPARK, Dialect
from solver.semantics.reasons import Reason, no_parameter, off_calendar

# The names other modules import from here: the dialects and the compiler, beside the backend.
__all__ = ["DUCKDB", "SPARK", "SqlBackend", "compile_ruleset", "connect", "input_table_sql", "result_from_row"]


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

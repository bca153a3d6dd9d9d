"""The SQL backend's dialects: how DuckDB and Spark spell identifiers, strings, arrays and dates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from solver import ir


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

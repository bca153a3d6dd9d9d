"""The sql backend against eval on whole populations, and `elig batch` on files with bad rows.

Populations are made in bulk (z3-repaired pool, recombined in DuckDB, then fields blanked at
random for partial persons), decided in one SQL pass and compared with eval person by person on
every output: status, values, rules, and the missing fields of unknowns."""

from __future__ import annotations

import csv
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solver import ir
from solver.backends.eval_backend import EvalBackend
from solver.backends.sql_backend import DUCKDB, compile_ruleset, connect, result_from_row
from solver.batch import run_batch, sample_population
from solver.language.loader import load_ruleset
from solver.passes.options import resolve

ROOT = Path(__file__).resolve().parents[1]
SETS = {"mini": ROOT / "tests" / "data" / "mini", "shanghai": ROOT / "rules" / "shanghai"}
# Persons per rule set (>= 100,000 in all); ELIG_BATCH_SCALE shrinks or grows the run.
SCALE = float(os.environ.get("ELIG_BATCH_SCALE", "1"))
PLAN = {"mini": 80_000, "shanghai": 20_000}


@cache
def _rs(name: str) -> ir.RuleSet:
    return resolve(load_ruleset(SETS[name]))


def _population(rs: ir.RuleSet, n: int, seed: int, blank: float, tmp: Path) -> tuple[Any, str]:
    """A table of n persons: half complete, half with each field blanked with probability `blank`."""
    con = connect()
    path = tmp / f"pop{seed}.parquet"
    sample_population(rs, n, seed, path, con=con)
    con.execute("SET threads = 2")
    cols = ", ".join(
        f"CASE WHEN _i % 2 = 1 AND random() < {blank} THEN NULL ELSE {DUCKDB.ident(k)} END AS {DUCKDB.ident(k)}"
        for k in rs.inputs
    )
    con.execute(
        f"CREATE TABLE persons AS SELECT _i, {cols} FROM "
        f"(SELECT row_number() OVER () AS _i, * FROM read_parquet('{path}'))"
    )
    return con, "SELECT * FROM persons"


def _agree(rs: ir.RuleSet, con: Any, source: str, rows: list[dict[str, Any]] | None = None) -> int:
    ev = EvalBackend(rs)
    if rows is None:
        cur = con.execute(compile_ruleset(rs, DUCKDB).query(source, keep=["_i", *rs.inputs]))
        names = [c[0] for c in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    compared = 0
    for row in rows:
        person = {k: row[k] for k in rs.inputs if row[k] is not None}
        want = ev.decide(person)
        for name in rs.outputs:
            got = result_from_row(rs, name, row)
            assert got.key() == want[name].key(), (name, person, want[name], got)
            assert got.missing == want[name].missing, (name, person, want[name], got)
        compared += 1
    return compared


@pytest.mark.parametrize("name", list(PLAN))
def test_duckdb_agrees_with_eval_on_a_population(name: str, tmp_path: Path) -> None:
    rs = _rs(name)
    n = max(100, int(PLAN[name] * SCALE))
    con, source = _population(rs, n, seed=7, blank=0.3, tmp=tmp_path)
    assert _agree(rs, con, source) == n
    assert sum(PLAN.values()) >= 100_000


@settings(max_examples=5, deadline=None, database=None)
@given(seed=st.integers(0, 2**16), blank=st.sampled_from([0.05, 0.3, 0.9]))
def test_duckdb_agrees_with_eval_hypothesis(seed: int, blank: float, tmp_path_factory: Any) -> None:
    """Hypothesis picks the population (seed, how partial); each example is 2,000 persons."""
    rs = _rs("mini")
    con, source = _population(rs, 2000, seed, blank, tmp_path_factory.mktemp("h"))
    assert _agree(rs, con, source) == 2000


@pytest.mark.skipif(os.environ.get("ELIG_SKIP_SPARK") == "1", reason="ELIG_SKIP_SPARK=1")
def test_spark_agrees_with_eval(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    rs = _rs("mini")
    n = max(100, int(10_000 * SCALE))
    con, _ = _population(rs, n, seed=11, blank=0.3, tmp=tmp_path)
    src = tmp_path / "persons.parquet"
    con.execute(f"COPY (SELECT * EXCLUDE (_i) FROM persons ORDER BY _i) TO '{src}' (FORMAT parquet)")
    out = tmp_path / "out.parquet"
    report = run_batch(rs, src, out, engine="spark", con=connect(), rules=True)
    assert report.results == n and report.error_rows == 0
    res = connect().execute(
        f"SELECT r.*, p.* EXCLUDE (file_row_number) FROM read_parquet('{out}') r "
        f"JOIN read_parquet('{src}', file_row_number = true) p ON r._row = p.file_row_number + 1"
    )
    names = [c[0] for c in res.description]
    rows = [dict(zip(names, r, strict=True)) for r in res.fetchall()]
    assert _agree(rs, con, "", rows) == n


def test_bad_rows_go_to_the_errors_file(tmp_path: Path) -> None:
    rs = _rs("shanghai")
    sample = tmp_path / "good.csv"
    sample_population(rs, 5, 1, sample, con=connect())
    with sample.open(encoding="utf-8") as f:
        good = list(csv.DictReader(f))
    enum_field = next(n for n, i in rs.inputs.items() if isinstance(i.type, ir.EnumT))
    int_field, int_type = next((n, i.type) for n, i in rs.inputs.items() if isinstance(i.type, ir.IntT))
    date_field = next(n for n, i in rs.inputs.items() if isinstance(i.type, ir.DateT))
    bool_field = next(n for n, i in rs.inputs.items() if isinstance(i.type, ir.BoolT))
    assert isinstance(int_type, ir.IntT)
    bad_cells = [
        (enum_field, "no_such_value"),
        (int_field, str(int_type.hi + 1)),
        (int_field, "1.5"),
        (date_field, "2024-02-30"),
        (date_field, "yesterday"),
        (bool_field, "maybe"),
        ("no_such_field", "x"),
    ]
    rows = []
    for k, (field, value) in enumerate(bad_cells):
        row = dict(good[k % len(good)], no_such_field="")
        row[field] = value
        rows.append(row)
    rows += [dict(g, no_such_field="") for g in good]  # 5 good rows after 7 bad ones
    rows.append(dict(good[0], no_such_field="", **{date_field: ""}))  # a missing field is no error
    path = tmp_path / "persons.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    report = run_batch(rs, path, tmp_path / "out.parquet")
    assert report.rows_in == len(rows) == report.results + report.error_rows
    assert (report.results, report.error_rows) == (6, 7)
    with report.errors_file.open(encoding="utf-8") as f:
        errors = list(csv.DictReader(f))
    by_row = {int(e["row"]): e for e in errors}
    assert sorted(by_row) == list(range(1, 8))
    for k, (field, value) in enumerate(bad_cells, start=1):
        e = by_row[k]
        assert e["field"] == field and e["value"] == value, e
        assert e["allowed"], e
    assert "true or false" in by_row[6]["allowed"]
    assert rs.inputs[enum_field].type.values[0] in by_row[1]["allowed"]  # type: ignore[union-attr]
    assert "unknown field" in by_row[7]["reason"] and enum_field in by_row[7]["allowed"]
    assert "not a date" in by_row[5]["reason"] and "not a date" in by_row[4]["reason"]

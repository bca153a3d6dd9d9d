"""Populations: files of persons checked and decided in SQL (DuckDB, or Spark for the deciding),
and synthetic populations that meet the input constraints.

Every row of an input file ends up in exactly one of two places: the results (one row per valid
person, `_row` = its 1-based data row) or the errors (one line per bad field: row, field, value,
reason, allowed values). Checking is one vectorised SQL pass, as is deciding."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solver import ir
from solver.backends.sql_backend import DUCKDB, SPARK, compile_ruleset, connect
from solver.errors import InputError
from solver.passes.deps import deps
from solver.person import domain

q = DUCKDB.ident
s = DUCKDB.string
Progress = Callable[[str], None]


@dataclass(frozen=True)
class BatchReport:
    rows_in: int
    results: int
    error_rows: int
    errors: int  # error lines (a row may have several bad fields)
    output: Path
    errors_file: Path


def _source(con: Any, path: Path) -> str:
    """A table `raw` with the file's columns and `_row` (1-based data row)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        con.execute(
            "CREATE OR REPLACE TEMP VIEW raw AS SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS _row "
            f"FROM read_parquet({s(str(path))}, file_row_number = true)"
        )
    elif suffix == ".csv":
        # A table keeps insertion order, so rowid is the data row (the CSV reader has no row number).
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE raw_csv AS SELECT * FROM read_csv({s(str(path))}, all_varchar = true, "
            "header = true, auto_detect = true)"
        )
        con.execute("CREATE OR REPLACE TEMP VIEW raw AS SELECT *, rowid + 1 AS _row FROM raw_csv")
    else:
        raise InputError("--input", f"'{path}' is neither .csv nor .parquet", allowed=".csv, .parquet")
    return "raw"


def _check(name: str, t: ir.Type, col_type: str) -> tuple[str, str]:
    """(SQL of the typed value, SQL of the reason the raw value is bad or NULL) for one column."""
    x = q(name)
    text = f"trim(CAST({x} AS VARCHAR))"
    shown = f"'''' || {text} || ''''"
    if isinstance(t, ir.BoolT):
        if col_type == "BOOLEAN":
            return x, "NULL"
        ok = f"lower({text}) IN ('true', 'false')"
        return (
            f"CASE WHEN {ok} THEN lower({text}) = 'true' END",
            f"CASE WHEN NOT ({ok}) THEN {shown} || ' is not a boolean' END",
        )
    if isinstance(t, ir.IntT):
        inside = f"BETWEEN {t.lo} AND {t.hi}"
        if col_type in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"):
            return f"CAST({x} AS BIGINT)", f"CASE WHEN NOT ({x} {inside}) THEN {text} || ' is outside the domain' END"
        ok = f"regexp_full_match({text}, '-?[0-9]{{1,18}}')"
        val = f"CASE WHEN {ok} THEN CAST({text} AS BIGINT) END"
        return val, (
            f"CASE WHEN NOT ({ok}) THEN {shown} || ' is not a whole number' "
            f"WHEN NOT ({val} {inside}) THEN {text} || ' is outside the domain' END"
        )
    if isinstance(t, ir.DateT):
        inside = f"BETWEEN DATE '{t.lo}' AND DATE '{t.hi}'"
        if col_type == "DATE":
            return x, f"CASE WHEN NOT ({x} {inside}) THEN {text} || ' is outside the domain' END"
        ok = f"regexp_full_match({text}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') AND TRY_CAST({text} AS DATE) IS NOT NULL"
        val = f"CASE WHEN {ok} THEN TRY_CAST({text} AS DATE) END"
        return val, (
            f"CASE WHEN NOT ({ok}) THEN {shown} || ' is not a date' "
            f"WHEN NOT ({val} {inside}) THEN {text} || ' is outside the domain' END"
        )
    assert isinstance(t, ir.EnumT)
    values = ", ".join(s(v) for v in t.values)
    return f"CASE WHEN {text} IN ({values}) THEN {text} END", (
        f"CASE WHEN {text} NOT IN ({values}) THEN {shown} || ' is not one of the values' END"
    )


def check_sql(rs: ir.RuleSet, columns: Mapping[str, str], table: str) -> tuple[str, str]:
    """(typed persons query, errors query) over `table` with the given column types.
    A NULL (or empty CSV cell) is a missing field, never an error."""
    typed = [q("_row")]
    problems = []  # (field, reason SQL, allowed)
    for name, col_type in columns.items():
        if name == "_row":
            continue
        if name not in rs.inputs:
            problems.append((name, "'unknown field'", ", ".join(sorted(rs.inputs))))
            continue
        value, reason = _check(name, rs.inputs[name].type, col_type)
        typed.append(f"{value} AS {q(name)}")
        problems.append((name, reason, domain(rs.inputs[name].type)))
    for name, i in rs.inputs.items():
        if name not in columns:
            typed.append(f"CAST(NULL AS {DUCKDB.sql_type(i.type)}) AS {q(name)}")
    guarded = [(f, f"CASE WHEN {q(f)} IS NOT NULL THEN {r} END", a) for f, r, a in problems]
    bad = " OR ".join(f"({r}) IS NOT NULL" for _, r, _ in guarded) or "FALSE"
    persons = f"SELECT {', '.join(typed)} FROM {table} WHERE NOT ({bad})"
    structs = ", ".join(
        f"CASE WHEN ({r}) IS NOT NULL THEN struct_pack(field := {s(f)}, value := CAST({q(f)} AS VARCHAR), "
        f"reason := {r}, allowed := {s(a)}) END"
        for f, r, a in guarded
    )
    errors = (
        "SELECT _row AS row, e.field, e.value, e.reason, e.allowed FROM ("
        f"SELECT _row, unnest(list_filter(list_value({structs}), lambda x: x IS NOT NULL)) AS e FROM {table} "
        f"WHERE {bad}) ORDER BY row, e.field"
        if guarded
        else "SELECT NULL AS row, NULL AS field, NULL AS value, NULL AS reason, NULL AS allowed WHERE FALSE"
    )
    return persons, errors


def _spark_session() -> Any:
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .appName("elig-batch")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )


def run_batch(
    rs: ir.RuleSet,
    input_path: Path,
    output: Path,
    *,
    errors_file: Path | None = None,
    engine: str = "duckdb",
    outputs: Sequence[str] | None = None,
    progress: Progress = lambda _: None,
    con: Any = None,
    rules: bool = False,
) -> BatchReport:
    """Check and decide every row of a CSV/Parquet file; results and errors to files. The list
    columns O__rules (the applying rules) are written when `rules` (they cost a third of the time)."""
    names = list(outputs or rs.outputs)
    for n in names:
        if n not in rs.outputs:
            raise InputError("--outputs", f"'{n}' is not an output", allowed=", ".join(rs.outputs))
    errors_file = errors_file or output.with_name(output.stem + ".errors.csv")
    con = con or connect()
    progress("reading and checking rows")
    table = _source(con, input_path)
    columns = {r[0]: str(r[1]) for r in con.execute(f"DESCRIBE {table}").fetchall()}
    persons_sql, errors_sql = check_sql(rs, columns, table)
    con.execute(f"COPY ({errors_sql}) TO {s(str(errors_file))} (HEADER, DELIMITER ',')")
    rows_in = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    error_rows, errors = con.execute(
        f"SELECT count(DISTINCT row), count(*) FROM read_csv({s(str(errors_file))}, header = true, all_varchar = true)"
    ).fetchone()
    progress(f"deciding {rows_in - error_rows:,} persons on {engine}")
    if engine == "duckdb":
        query = compile_ruleset(rs, DUCKDB).query(f"({persons_sql})", names, keep=["_row"], rules=rules)
        con.execute(f"COPY ({query}) TO {s(str(output))} (FORMAT parquet)")
    elif engine == "spark":
        with tempfile.TemporaryDirectory(prefix="elig-spark-") as tmp:
            typed = Path(tmp) / "persons.parquet"
            con.execute(f"COPY ({persons_sql}) TO {s(str(typed))} (FORMAT parquet)")
            spark = _spark_session()
            spark.read.parquet(str(typed)).createOrReplaceTempView("persons")
            query = compile_ruleset(rs, SPARK).query("SELECT * FROM persons", names, keep=["_row"], rules=rules)
            spark.sql(query).write.mode("overwrite").parquet(str(Path(tmp) / "out"))
            con.execute(
                f"COPY (SELECT * FROM read_parquet({s(str(Path(tmp) / 'out' / '*.parquet'))}) ORDER BY _row) "
                f"TO {s(str(output))} (FORMAT parquet)"
            )
    else:
        raise InputError("--engine", f"'{engine}' is not an engine", allowed="duckdb, spark")
    results = con.execute(f"SELECT count(*) FROM read_parquet({s(str(output))})").fetchone()[0]
    if results + error_rows != rows_in:  # the promise of this module; a breach is a bug, never data
        raise RuntimeError(f"rows in {rows_in} != results {results} + error rows {error_rows}")
    return BatchReport(rows_in, results, error_rows, errors, output, errors_file)


def decide_population(
    rs: ir.RuleSet,
    population: Path,
    con: Any,
    outputs: Sequence[str] | None = None,
    pinned: Mapping[str, ir.Value] | None = None,
) -> Any:
    """A DuckDB relation: every row of a population file (CSV/Parquet) decided under `rs`
    (resolved), with `_row` and the applying rules; `pinned` inputs replace the file's values.
    A bad row is an InputError naming its row, field and allowed values (a count must not
    silently leave persons out)."""
    if not population.is_file():
        raise InputError("--population", f"no file {population}")
    table = _source(con, population)
    columns = {r[0]: str(r[1]) for r in con.execute(f"DESCRIBE {table}").fetchall()}
    persons_sql, errors_sql = check_sql(rs, columns, table)
    bad = con.execute(f"{errors_sql} LIMIT 1").fetchone()
    if bad:
        row, field, _, reason, allowed = bad
        raise InputError(f"--population row {row}", f"{field}: {reason}", allowed=allowed)
    if pinned:
        fixed = ", ".join(f"{_lit(v)} AS {q(n)}" for n, v in pinned.items())
        persons_sql = f"SELECT * REPLACE ({fixed}) FROM ({persons_sql})"
    query = compile_ruleset(rs, DUCKDB).query(f"({persons_sql})", list(outputs or rs.outputs), keep=["_row"])
    return con.sql(query)


# ---------------------------------------------------------------- synthetic populations


def sample_population(
    rs: ir.RuleSet,
    n: int,
    seed: int,
    output: Path,
    *,
    pool_size: int = 200,
    marginals: Mapping[str, Mapping[Any, float]] | None = None,
    progress: Progress = lambda _: None,
    con: Any = None,
) -> int:
    """n complete persons that meet the input constraints: a pool of valid persons from z3 repair,
    recombined field by field in DuckDB (each field from a random pool person, or drawn from the
    given marginals) and re-checked against the constraints in SQL; rejected rows are drawn again."""
    import random

    from solver.backends.sql_backend import input_table_sql
    from solver.testing.strategies import random_persons

    con = con or connect()
    progress(f"drawing a pool of {pool_size} valid persons (z3 repair)")
    pool = random_persons(rs, pool_size, seed)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE pool AS SELECT row_number() OVER () - 1 AS _i, * FROM ("
        + input_table_sql(rs, DUCKDB, pool)
        + ")"
    )
    con.execute("SET threads = 1")  # random() is reproducible from setseed on one thread only
    con.execute(f"SELECT setseed({random.Random(seed).random() * 2 - 1})")
    for name in marginals or {}:
        if name not in rs.inputs:
            raise InputError(name, "unknown field in marginals", allowed=", ".join(sorted(rs.inputs)))
    # The pool as one row of lists (a field of a random pool person is a list index, vectorised).
    lists = ", ".join(f"list({q(n)} ORDER BY _i) AS {q(n)}" for n in rs.inputs)
    con.execute(f"CREATE OR REPLACE TEMP TABLE pool_lists AS SELECT {lists} FROM pool")
    # Fields tied by a constraint come from the same pool person, so every constraint still holds
    # unless marginals pull a tied field apart (the SQL check below then rejects and redraws).
    groups = _constraint_groups(rs)
    fields: list[str] = []
    for name, i in rs.inputs.items():
        if marginals and name in marginals:
            fields.append(f"{_marginal(name, i.type, marginals[name], f'm_{len(fields)}')} AS {q(name)}")
        else:
            fields.append(
                f"pool_lists.{q(name)}[1 + CAST(floor(u_{groups[name]} * {pool_size}) AS BIGINT)] AS {q(name)}"
            )
    draws = ", ".join(
        [f"random() AS u_{g}" for g in sorted(set(groups.values()))]
        + [f"random() AS m_{k}" for k in range(len(fields))]
    )
    check = compile_ruleset(rs, DUCKDB, track=False)
    con.execute("CREATE OR REPLACE TEMP TABLE sample AS SELECT * EXCLUDE (_i) FROM pool WHERE FALSE")
    have, rounds, rate = 0, 0, 1.0
    while have < n:
        rounds += 1
        if rounds > 50:
            raise InputError(
                "sample",
                f"only {have} of {n} persons meet the input constraints after 50 rounds",
                allowed="marginals that the input constraints can meet",
            )
        want = max(1000, int((n - have) * 1.1 / rate))
        progress(f"recombining {want:,} persons (round {rounds}, {have:,} kept)")
        drawn = f"SELECT {', '.join(fields)} FROM (SELECT {draws} FROM range({want})) AS d, pool_lists"
        decided = check.query(f"({drawn})", outputs=[], keep=list(rs.inputs), valid=True)
        con.execute(f"INSERT INTO sample SELECT * EXCLUDE (_valid) FROM ({decided}) WHERE _valid LIMIT {n - have}")
        now = con.execute("SELECT count(*) FROM sample").fetchone()[0]
        rate = max((now - have) / want, 0.01)
        have = now
    fmt = "(FORMAT parquet)" if output.suffix.lower() == ".parquet" else "(HEADER, DELIMITER ',')"
    con.execute(f"COPY sample TO {s(str(output))} {fmt}")
    return have


def _constraint_groups(rs: ir.RuleSet) -> dict[str, int]:
    """Input name -> group id; inputs read by one constraint (through definitions) share a group."""
    parent = {n: n for n in rs.inputs}

    def find(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for c in rs.constraints:
        names = deps(rs).constraints[c.id]
        first, *rest = sorted(names) or [""]
        for n in rest:
            parent[find(n)] = find(first)
    roots = sorted({find(n) for n in rs.inputs})
    return {n: roots.index(find(n)) for n in rs.inputs}


def _marginal(name: str, t: ir.Type, weights: Mapping[Any, float], u: str) -> str:
    """A value drawn from weighted values with the uniform draw `u`."""
    from solver.person import parse_value

    total = float(sum(weights.values()))
    if not weights or total <= 0 or any(w < 0 for w in weights.values()):
        raise InputError(name, "marginal weights must be non-negative with a positive sum", allowed="weights >= 0")
    cases, acc, last = [], 0.0, ""
    for value, w in weights.items():
        acc += w / total
        last = _lit(parse_value(name, t, _from_key(t, value)))
        cases.append(f"WHEN {u} < {acc!r} THEN {last}")
    return f"CAST(CASE {' '.join(cases)} ELSE {last} END AS {DUCKDB.sql_type(t)})"


def _from_key(t: ir.Type, key: Any) -> Any:
    """A YAML mapping key (always text) as a value of type t; parse_value judges the result."""
    text = str(key)
    if isinstance(t, ir.BoolT) and text in ("true", "false"):
        return text == "true"
    if isinstance(t, ir.IntT) and text.lstrip("-").isdigit():
        return int(text)
    return text


def _lit(v: ir.Value) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return f"CAST({v} AS BIGINT)"
    if isinstance(v, dt.date):
        return f"DATE '{v.isoformat()}'"
    return s(v)

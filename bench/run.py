"""One run of every figure: decide per person, batch per second, check seconds, with ratios.

    python bench/run.py [RULES] [--persons N] [--batch N] [--no-spark]

Figures on a shared machine move between runs; each is printed with a ratio against an
in-process baseline measured in the same run (eval without trace for deciding, the eval loop
for batches). `elig diff` is not measured here: solver/diff had not landed when this was written."""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from decide import per_person_us

from solver.backends import make
from solver.backends.eval_backend import EvalBackend
from solver.batch import sample_population
from solver.checks.engine import Checker
from solver.language.loader import load_ruleset
from solver.passes.options import resolve
from solver.testing.strategies import random_persons

ROOT = Path(__file__).resolve().parents[1]


def batch_seconds(rules: str, population: Path, out: Path, engine: str) -> tuple[float, float]:
    """Wall seconds of the whole `elig batch` command and its peak memory (GB)."""
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "solver.cli",
            "batch",
            rules,
            "--input",
            str(population),
            "--output",
            str(out),
            "--engine",
            engine,
            "--quiet",
        ],
        check=True,
    )
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6
    return seconds, peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("rules", nargs="?", default=str(ROOT / "rules" / "shanghai"))
    ap.add_argument("--persons", type=int, default=500, help="persons for the per-person figures")
    ap.add_argument("--batch", type=int, default=1_000_000, help="persons in the batch population")
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--work", default="/tmp/elig-bench")
    args = ap.parse_args()
    rs = resolve(load_ruleset(args.rules))
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    persons = random_persons(rs, args.persons, seed=1)
    few = persons[: max(20, args.persons // 10)]
    ev = EvalBackend(rs)
    base = per_person_us(ev.decide, persons, 3)
    rows = [
        ("decide eval", base, "us/person", 1.0),
        ("decide eval+trace", per_person_us(ev.decide_traced, persons, 3), "us/person", None),
        ("decide z3", per_person_us(make("z3", rs).decide, few, 1), "us/person", None),
        ("decide clingo", per_person_us(make("clingo", rs).decide, few, 1), "us/person", None),
    ]
    rows = [(n, v, u, v / base) for n, v, u, _ in rows]
    population = work / f"population-{args.batch}.parquet"
    if not population.exists():
        sample_population(rs, args.batch, 1, population)
    loop_rate = 1e6 / base  # the eval loop, persons/s, same persons as above
    rows.append(("batch eval loop", loop_rate, "persons/s", 1.0))
    seconds, peak = batch_seconds(args.rules, population, work / "out-duckdb.parquet", "duckdb")
    rows.append(
        (
            f"batch DuckDB ({args.batch:,}, peak {peak:.1f} GB)",
            args.batch / seconds,
            "persons/s",
            args.batch / seconds / loop_rate,
        )
    )
    if not args.no_spark:
        seconds, peak = batch_seconds(args.rules, population, work / "out-spark.parquet", "spark")
        rows.append(
            (f"batch Spark ({args.batch:,})", args.batch / seconds, "persons/s", args.batch / seconds / loop_rate)
        )
    t0 = time.perf_counter()
    Checker(rs).run()
    rows.append(("check (all kinds)", time.perf_counter() - t0, "s", None))
    rows.append(("diff", float("nan"), "s", None))
    print(f"rule set {rs.name}: {len(rs.rules)} rules, {len(rs.outputs)} outputs, {len(rs.inputs)} inputs")
    print(f"{'what':<44}{'measured':>16}  {'unit':<10}{'ratio':>10}")
    for name, value, unit, ratio in rows:
        shown = "not measured (solver/diff not on main)" if value != value else f"{value:,.1f}"
        print(f"{name:<44}{shown:>16}  {unit:<10}{'' if ratio is None else f'{ratio:,.2f}x':>10}")


if __name__ == "__main__":
    main()

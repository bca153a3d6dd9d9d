"""One run of every figure: decide per person, batch per second, check seconds, with ratios.

    python bench/run.py [RULES] [--persons N] [--batch N,N,...] [--spark N] [--no-spark]

Figures on a shared machine move between runs; each is printed with a ratio against an
in-process baseline measured in the same run (eval without trace for deciding, the eval loop
for batches, check for diff). A batch figure is the whole `elig batch` command (start-up, rule
loading, SQL planning, Parquet in and out) on a sampled population of that size."""

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
from solver.diff.engine import Version, diff
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
    ap.add_argument("--batch", default="200000,1000000", help="persons in the batch populations, comma-separated")
    ap.add_argument("--spark", type=int, default=200_000, help="persons in the Spark batch")
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
    loop_rate = 1e6 / base  # the eval loop, persons/s, same persons as above
    rows.append(("batch eval loop", loop_rate, "persons/s", 1.0))
    sizes = [int(n) for n in args.batch.split(",") if n]
    engines = [(n, "duckdb") for n in sizes] + ([] if args.no_spark else [(args.spark, "spark")])
    for n, engine in engines:
        population = work / f"population-{n}.parquet"
        if not population.exists():
            sample_population(rs, n, 1, population)
        seconds, peak = batch_seconds(args.rules, population, work / f"out-{engine}.parquet", engine)
        name = f"batch {'DuckDB' if engine == 'duckdb' else 'Spark'} ({n:,}, peak {peak:.1f} GB)"
        rows.append((name, n / seconds, "persons/s", n / seconds / loop_rate))
    t0 = time.perf_counter()
    Checker(rs).run()
    check_s = time.perf_counter() - t0
    rows.append(("check (all kinds)", check_s, "s", 1.0))
    t0 = time.perf_counter()
    rep = diff(Version(rs, "2023", {"insurance_year": 2023}), Version(rs, "2025", {"insurance_year": 2025}))
    diff_s = time.perf_counter() - t0
    rows.append((f"diff 2023 -> 2025 ({len(rep.regions)} regions)", diff_s, "s", diff_s / check_s))
    print(f"rule set {rs.name}: {len(rs.rules)} rules, {len(rs.outputs)} outputs, {len(rs.inputs)} inputs")
    print(f"{'what':<44}{'measured':>16}  {'unit':<10}{'ratio':>10}")
    for name, value, unit, ratio in rows:
        print(f"{name:<44}{value:>16,.1f}  {unit:<10}{'' if ratio is None else f'{ratio:,.2f}x':>10}")


if __name__ == "__main__":
    main()

"""Median microseconds per person to decide, per backend, on the same persons, with ratios.

    python bench/decide.py [RULES] [--persons N]

Wall clock is noisy on a shared 2-core machine, so every figure is printed next to a ratio
against eval without trace measured in the same process on the same persons."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from solver.backends import make
from solver.backends.eval_backend import EvalBackend
from solver.language.loader import load_ruleset
from solver.passes.options import resolve
from solver.testing.strategies import random_persons

ROOT = Path(__file__).resolve().parents[1]


def per_person_us(fn: Callable[[dict[str, Any]], object], persons: list[dict[str, Any]], rounds: int) -> float:
    """Median over rounds of the mean time per person in a round."""
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for p in persons:
            fn(p)
        samples.append((time.perf_counter() - t0) / len(persons) * 1e6)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("rules", nargs="?", default=str(ROOT / "rules" / "shanghai"))
    ap.add_argument("--persons", type=int, default=2000)
    args = ap.parse_args()
    rs = resolve(load_ruleset(args.rules))
    persons = random_persons(rs, args.persons, seed=1)
    solver_persons = persons[: max(50, args.persons // 10)]
    ev = EvalBackend(rs)
    print(f"rule set {rs.name}: {len(rs.rules)} rules, {len(rs.outputs)} outputs, {len(rs.inputs)} inputs")
    rows = [
        ("eval (no trace)", per_person_us(ev.decide, persons, 7), len(persons)),
        ("eval (trace)", per_person_us(ev.decide_traced, persons, 5), len(persons)),
        ("z3", per_person_us(make("z3", rs).decide, solver_persons, 3), len(solver_persons)),
        ("clingo", per_person_us(make("clingo", rs).decide, solver_persons, 3), len(solver_persons)),
    ]
    base = rows[0][1]
    print(f"{'backend':<18}{'median us/person':>18}{'x eval':>10}{'persons':>9}")
    for name, us, n in rows:
        print(f"{name:<18}{us:>18.1f}{us / base:>10.1f}{n:>9}")
    z3_ratio = rows[2][1] / base
    print(
        f"target: eval <= 50 us/person: {'met' if base <= 50 else 'NOT met'} ({base:.1f}); "
        f"eval >= 10x faster than z3: {'met' if z3_ratio >= 10 else 'NOT met'} ({z3_ratio:.0f}x)"
    )


if __name__ == "__main__":
    main()

"""The four-rule toy job (bench/toy/vocabulary.yaml): eval against its hand-written Python twin
on the same persons, in one process, with the ratio (the target: eval within 5x).

    python bench/toy.py [--persons N]

Both sides answer every output; eval's decision is read output by output (its results are built
on demand), and its generated `run()` alone is timed too."""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from solver.backends.eval_backend import EvalBackend
from solver.language.loader import load_ruleset
from solver.passes.options import resolve
from solver.testing.strategies import random_persons

TOY = Path(__file__).resolve().parent / "toy"


def by_hand(p: dict[str, Any]) -> tuple[str, bool]:
    """The same four rules written directly: 未满18 (<), 年满18不满60 (>= and <), 以上 (>=)."""
    birth: dt.date = p["birth"]
    age = p["year"] - birth.year
    band = "minor" if age < 18 else "adult" if age < 60 else "senior"
    return band, p["low_income"] or age >= 70


def per_person_us(fn: Callable[[dict[str, Any]], object], persons: list[dict[str, Any]], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for p in persons:
            fn(p)
        samples.append((time.perf_counter() - t0) / len(persons) * 1e6)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=100_000)
    args = ap.parse_args()
    rs = resolve(load_ruleset(TOY))
    persons = random_persons(rs, min(args.persons, 2000), seed=1)
    persons = (persons * (args.persons // len(persons) + 1))[: args.persons]
    ev = EvalBackend(rs)
    for p in persons[:2000]:  # the twin is the same function, or the ratio means nothing
        d = ev.decide(p)
        assert (d["band"].value, d["subsidy"].value) == by_hand(p), p

    def eval_decide(p: dict[str, Any]) -> tuple[object, object]:
        d = ev.decide(p)
        return d["band"].value, d["subsidy"].value

    hand = per_person_us(by_hand, persons, 5)
    rows = [
        ("hand-written", hand),
        ("eval decide", per_person_us(eval_decide, persons, 5)),
        ("eval run() alone", per_person_us(ev._full.run, persons, 5)),
    ]
    print(f"toy job: {len(rs.rules)} rules, {len(persons)} persons, median of 5 rounds")
    print(f"{'':<18}{'us/person':>12}{'x hand':>9}")
    for name, us in rows:
        print(f"{name:<18}{us:>12.2f}{us / hand:>9.1f}")
    ratio = rows[1][1] / hand
    print(f"target: eval decide within 5x of hand-written: {'met' if ratio <= 5 else 'NOT met'} ({ratio:.1f}x)")


if __name__ == "__main__":
    main()

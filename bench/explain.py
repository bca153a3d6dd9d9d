"""Explanation costs on a rule set, each printed with a ratio against an in-process baseline.

    python bench/explain.py [RULES] [--persons N] [--queries N] [--timeout MS]

* decide+trace: eval with a trace, per person (the input of every derivation), against plain
  eval decide on the same persons; also the derivation trees of every output built from it.
* why-not and counterfactual: per query, over worked cases x a value each expected output does
  not have, against one z3 satisfiability check of the same output's slice (the cheapest query
  the solver can be asked about that output).
* consultant: per output of a person with missing fields (the worked cases are such persons).

Wall clock is noisy on a shared 2-core machine: compare the ratios, and rerun before believing
a single figure. Targets: decide+trace <= 1 ms per person, counterfactual <= 1 s per query."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path, and this file is named like the
# `explain` package it measures: drop the folder so that `import explain` finds the package.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import z3  # noqa: E402

from explain.consult import Consultant  # noqa: E402
from explain.counterfactual import counterfactual  # noqa: E402
from explain.derivation import explain  # noqa: E402
from explain.symbolic import Symbolic  # noqa: E402
from explain.why_not import why_not  # noqa: E402
from solver import ir  # noqa: E402
from solver.backends.eval_backend import EvalBackend  # noqa: E402
from solver.cases import collect  # noqa: E402
from solver.language.loader import load_ruleset  # noqa: E402
from solver.passes.options import resolve  # noqa: E402
from solver.person import parse_person  # noqa: E402
from solver.testing.strategies import random_persons  # noqa: E402

ROOT = HERE.parent


def per_item_us(fn: Callable[[Any], object], items: list[Any], rounds: int) -> float:
    """Median over rounds of the mean time per item in a round."""
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for x in items:
            fn(x)
        samples.append((time.perf_counter() - t0) / len(items) * 1e6)
    return statistics.median(samples)


def other_value(rs: ir.RuleSet, output: str, result_values: tuple[Any, ...]) -> Any | None:
    """A value of the output's type that it does not have now (None for ints, money, dates)."""
    t = rs.outputs[output].type
    if isinstance(t, ir.BoolT):
        return not result_values[0] if result_values else True
    if isinstance(t, ir.EnumT):
        return next((v for v in t.values if v not in result_values), None)
    return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("rules", nargs="?", default=str(ROOT / "rules" / "shanghai"))
    ap.add_argument("--persons", type=int, default=300)
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--timeout", type=int, default=20000, help="ms per solver query")
    args = ap.parse_args()
    source = load_ruleset(args.rules)
    rs = resolve(source)
    ev = EvalBackend(rs)
    print(f"rule set {rs.name}: {len(rs.rules)} rules, {len(rs.outputs)} outputs, {len(rs.inputs)} inputs")
    persons = random_persons(rs, args.persons, seed=1)
    cases = [c for _, c in collect([Path(args.rules) / "cases"]) if not c.options]
    case_persons = [parse_person(rs, c.person) for c in cases]
    ev.decide(persons[0]), ev.decide_traced(persons[0]), ev.decide_traced(case_persons[0])  # compile

    def trace_and_explain(p: dict[str, Any]) -> object:
        decision, trace = ev.decide_traced(p)
        return explain(rs, decision, trace, lang="zh", source=source)

    print(f"\n{'per person':<44}{'us':>12}{'x decide':>10}{'n':>7}")
    for label, group in (("random complete persons", persons), ("worked cases (partial persons)", case_persons)):
        base = per_item_us(ev.decide, group, 5)
        traced = per_item_us(ev.decide_traced, group, 5)
        few = group[: max(20, len(group) // 10)]
        full = per_item_us(trace_and_explain, few, 3)
        print(f"{label}")
        print(f"{'  eval decide (baseline)':<44}{base:>12.1f}{1.0:>10.1f}{len(group):>7}")
        print(f"{'  eval decide+trace':<44}{traced:>12.1f}{traced / base:>10.1f}{len(group):>7}")
        print(f"{'  decide+trace+derivation of every output':<44}{full:>12.1f}{full / base:>10.1f}{len(few):>7}")
        ok = "met" if traced <= 1000 else "NOT met"
        print(f"  target decide+trace <= 1 ms per person: {ok} ({traced / 1000:.2f} ms)")

    t0 = time.perf_counter()
    sym = Symbolic(rs)
    build = time.perf_counter() - t0
    print(f"\nz3 encoding built once per rule set: {build * 1000:.0f} ms")

    queries: list[tuple[dict[str, Any], str, Any]] = []
    for case, p in zip(cases, case_persons, strict=True):
        decision = ev.decide(p)
        for out in case.expect:
            r = decision[out]
            value = other_value(rs, out, r.values)
            if value is not None and r.status == "ok":
                queries.append((p, out, value))
                break
        if len(queries) >= args.queries:
            break

    def slice_check(q: tuple[dict[str, Any], str, Any]) -> object:
        s = z3.Solver()
        s.add(*sym.hard(sym.slice([q[1]])))
        return s.check()

    def why(q: tuple[dict[str, Any], str, Any]) -> object:
        decision, trace = ev.decide_traced(q[0])
        return why_not(rs, decision, trace, q[1], q[2], symbolic=sym, timeout_ms=args.timeout)

    statuses: dict[str, int] = {}
    times: list[float] = []
    for q in queries:
        t0 = time.perf_counter()
        cf = counterfactual(sym, ev, q[0], q[1], q[2], (), args.timeout)
        times.append((time.perf_counter() - t0) * 1000)
        statuses[cf.status] = statuses.get(cf.status, 0) + 1
    base_ms = per_item_us(slice_check, queries, 1) / 1000
    why_ms = per_item_us(why, queries, 1) / 1000
    cf_ms = statistics.mean(times)
    print(f"\n{'per query':<44}{'ms':>12}{'x z3 check':>12}{'n':>7}")
    print(f"{'  z3 satisfiability of the slice (baseline)':<44}{base_ms:>12.1f}{1.0:>12.1f}{len(queries):>7}")
    print(f"{'  why-not (minimal failed conditions)':<44}{why_ms:>12.1f}{why_ms / base_ms:>12.1f}{len(queries):>7}")
    print(f"{'  counterfactual (mean)':<44}{cf_ms:>12.1f}{cf_ms / base_ms:>12.1f}{len(queries):>7}")
    print(f"{'  counterfactual (median)':<44}{statistics.median(times):>12.1f}{'':>12}{len(queries):>7}")
    print(f"{'  counterfactual (max)':<44}{max(times):>12.1f}{'':>12}{len(queries):>7}")
    print(f"  outcomes: {', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}")
    few_q = queries[: max(1, len(queries) // 4)]
    opt_times = []
    for q in few_q:
        t0 = time.perf_counter()
        counterfactual(sym, ev, q[0], q[1], q[2], (), args.timeout, engine="optimize")
        opt_times.append((time.perf_counter() - t0) * 1000)
    same = statistics.mean(times[: len(few_q)])
    opt_ms = statistics.mean(opt_times)
    print(f"{'  counterfactual, z3 Optimize engine (mean)':<44}{opt_ms:>12.1f}{opt_ms / base_ms:>12.1f}{len(few_q):>7}")
    print(f"  (default search engine on the same {len(few_q)} queries: {same:.1f} ms, {opt_ms / same:.1f}x faster)")
    ok = "met" if cf_ms <= 1000 else "NOT met"
    print(f"  target counterfactual <= 1 s per query: {ok} (mean {cf_ms:.0f} ms, max {max(times):.0f} ms)")

    consultant = Consultant(rs, ev, sym)
    sample = cases[:: max(1, len(cases) // 5)][:5]
    n_outputs = 0
    t0 = time.perf_counter()
    for case in sample:
        n_outputs += len(case.expect)
        consultant.consult(parse_person(rs, case.person), list(case.expect), args.timeout)
    per_output = (time.perf_counter() - t0) / max(1, n_outputs) * 1000
    print(f"\nconsultant: {per_output:.0f} ms per output ({n_outputs} expected outputs of {len(sample)} worked cases)")


if __name__ == "__main__":
    main()

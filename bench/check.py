"""Benchmark of `elig check`: the full check of the Shanghai rule set (every kind, every timeline
interval, the properties), then synthetic rule sets k times its size (k renamed copies of every
rule, definition and output over the same inputs). Prints seconds and the growth factor against
the 1x run made in the same process (wall clock is noisy on a shared machine; ratios less so).

    .venv/bin/python bench/check.py            # 1x, 10x, 100x
    .venv/bin/python bench/check.py 1 10       # chosen sizes
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

from solver import ir
from solver.checks.engine import Checker, SpanCheck
from solver.checks.properties import check_properties, load_properties
from solver.language.loader import load_ruleset
from solver.passes.options import map_expr, resolve

ROOT = Path(__file__).resolve().parents[1] / "rules" / "shanghai"


def replicate(rs: ir.RuleSet, k: int) -> ir.RuleSet:
    """k copies of every rule, definition and output (suffix __i), sharing the inputs."""
    if k == 1:
        return rs
    derived = set(rs.definitions) | set(rs.outputs)
    rules: list[ir.Rule] = []
    definitions: dict[str, ir.Definition] = {}
    outputs: dict[str, ir.Output] = {}
    order: list[str] = []
    for i in range(k):

        def ren(name: str, i: int = i) -> str:
            return f"{name}__{i}" if name in derived else name

        def rx(e: ir.Expr, i: int = i) -> ir.Expr:
            def sub(node: ir.Expr) -> ir.Expr | None:
                if isinstance(node, ir.Ref) and node.kind in ("definition", "output"):
                    return dataclasses.replace(node, name=ren(node.name, i))
                if isinstance(node, ir.Has):
                    return dataclasses.replace(node, output=ren(node.output, i))
                return None

            return map_expr(e, sub)

        for n, d in rs.definitions.items():
            definitions[ren(n)] = dataclasses.replace(d, name=ren(n), expr=rx(d.expr))
        for n, o in rs.outputs.items():
            outputs[ren(n)] = dataclasses.replace(o, name=ren(n), default=rx(o.default) if o.default else None)
        for r in rs.rules:
            rules.append(
                dataclasses.replace(
                    r,
                    id=f"{r.id}__{i}",
                    when=rx(r.when),
                    then=tuple((ren(o), rx(v)) for o, v in r.then),
                    unless=tuple(f"{u}__{i}" for u in r.unless),
                )
            )
        order += [ren(n) for n in rs.order]
    return dataclasses.replace(rs, rules=tuple(rules), definitions=definitions, outputs=outputs, order=tuple(order))


def run(rs: ir.RuleSet, with_properties: bool) -> tuple[float, int]:
    start = time.perf_counter()
    extra: list[SpanCheck] = [check_properties(load_properties(rs, ROOT))] if with_properties else []
    findings = Checker(rs).run(extra)
    return time.perf_counter() - start, len(findings)


def main(sizes: list[int]) -> None:
    base = resolve(load_ruleset(ROOT))
    print(f"rules/shanghai: {len(base.rules)} rules, {len(base.outputs)} outputs, {len(base.inputs)} inputs")
    seconds, n = run(base, with_properties=True)
    print(f"full check (all kinds, all intervals, properties): {seconds:.2f} s, {n} findings (target < 5 s)")
    baseline = None
    for k in sizes:
        rs = replicate(base, k)
        seconds, n = run(rs, with_properties=False)
        baseline = baseline or seconds
        growth = seconds / baseline
        print(f"{k:>4}x  {len(rs.rules):>6} rules  {seconds:8.2f} s  {n:>5} findings  growth {growth:6.1f}x")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1, 10, 100])

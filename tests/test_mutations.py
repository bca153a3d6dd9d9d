"""The mutation suite: defects planted into copies of the Shanghai rule set must each be reported
by `elig check` as the right kind of finding naming the right rule. Prints the kill rate and the
survivors; fails below 95%."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import z3

from solver import ir
from solver.backends.eval_backend import EvalBackend
from solver.checks.engine import Checker, SpanCheck
from solver.checks.findings import Finding
from solver.checks.properties import check_properties, load_properties
from solver.language.loader import load_ruleset
from solver.passes.options import resolve
from solver.semantics.symbolic import Encoding
from solver.testing.mutants import Mutant, mutants

ROOT = Path(__file__).resolve().parents[1] / "rules" / "shanghai"


@cache
def _base() -> tuple[ir.RuleSet, frozenset[str]]:
    rs = resolve(load_ruleset(ROOT))
    return rs, frozenset(f.id for f in _check(rs))


def _check(rs: ir.RuleSet) -> list[Finding]:
    extra: list[SpanCheck] = [check_properties(load_properties(rs, ROOT))]
    return Checker(rs).run(extra)


def _exposes(m: Mutant, f: Finding, original: ir.RuleSet) -> bool:
    if f.kind not in m.kinds:
        return False
    if any(n in f.rules or f.subject.split(":")[0] == n for n in m.names):
        return True
    if f.kind == "property_violation" and m.rule and f.witness is not None:
        # The counterexample must turn on the changed rule: it applies differently before and after.
        before = EvalBackend(original).applies(dict(f.witness))[m.rule]
        after = EvalBackend(m.rs).applies(dict(f.witness))[m.rule]
        return bool(before != after)
    return False


def _equivalent(m: Mutant, original: ir.RuleSet) -> bool:
    """A changed rule that applies to exactly the same persons is no defect (an equivalent mutant:
    e.g. a dropped condition that the options in force make true anyway)."""
    if not m.rule:
        return False
    before, after = Encoding(original), Encoding(m.rs)  # same variable names: one person for both
    s = z3.Solver()
    s.add(before.valid, before.applying(m.rule) != after.applying(m.rule))
    return bool(s.check() == z3.unsat)


def test_planted_defects_are_reported(capsys: pytest.CaptureFixture[str]) -> None:
    original, baseline = _base()
    generated = list(mutants(original))
    equivalent = [m.id for m in generated if _equivalent(m, original)]
    planted = [m for m in generated if m.id not in equivalent]
    kinds = {m.operator for m in planted}
    assert len(planted) >= 30, f"only {len(planted)} mutants"
    assert kinds >= {"unreachable", "clash", "dead_exception", "delete_category", "break_sum", "duplicate",
                     "boundary", "drop", "flip"}
    survivors = []
    for m in planted:
        new = [f for f in _check(m.rs) if f.id not in baseline]
        if not any(_exposes(m, f, original) for f in new):
            survivors.append(f"{m.id} (new findings: {', '.join(f'{f.kind}:{f.subject}' for f in new) or 'none'})")
    killed = len(planted) - len(survivors)
    with capsys.disabled():
        print(f"\nmutation kill rate: {killed}/{len(planted)} = {killed / len(planted):.0%}")
        print(f"  equivalent mutants left out: {', '.join(equivalent) or 'none'}")
        for s in survivors:
            print(f"  survivor: {s}")
    assert killed / len(planted) >= 0.95, survivors

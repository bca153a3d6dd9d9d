"""Every backend agrees with eval, the reference, on every output of persons drawn from the
vocabulary (complete and partial). The test counts what it compared, so a filter that starves
the generator fails loudly instead of passing on few examples."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from solver import ir
from solver.backends import make
from solver.backends.eval_backend import EvalBackend
from solver.language.loader import load_ruleset
from solver.passes.options import resolve
from solver.testing.strategies import persons

ROOT = Path(__file__).resolve().parents[1]
# Persons per (rule set, backend, completeness); the plan below sums to >= 10,000 per backend.
SCALE = float(os.environ.get("ELIG_AGREE_SCALE", "1"))
# Most persons come from the mini set (every construct, fast); the Shanghai set gets 2,000 per
# backend because clingo grounds each Shanghai person in about 0.1-0.3 s.
PLAN = {
    ("mini", False): 6000,
    ("mini", True): 2000,
    ("shanghai", False): 1500,
    ("shanghai", True): 500,
}
SETS = {"mini": ROOT / "tests" / "data" / "mini", "shanghai": ROOT / "rules" / "shanghai"}


@cache
def _rs(name: str) -> ir.RuleSet:
    return resolve(load_ruleset(SETS[name]))


def _draw(rs: ir.RuleSet, partial: bool, n: int) -> list[dict[str, Any]]:
    """n persons from the vocabulary, drawn by hypothesis (derandomized, so reruns agree)."""
    drawn: list[dict[str, Any]] = []

    @settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(persons(rs, partial=partial))
    def collect(person: dict[str, Any]) -> None:
        drawn.append(person)

    collect()
    return drawn


# clingo grounds a batch in one go; one grounding per person is what made this test slow.
BATCH = 250


def _compare(rs: ir.RuleSet, backend_name: str, partial: bool, n: int) -> int:
    ref = EvalBackend(rs)
    other = make(backend_name, rs)
    drawn = _draw(rs, partial, n)
    decide_many = getattr(other, "decide_many", None)
    got_all = []
    for start in range(0, len(drawn), BATCH):
        chunk = drawn[start : start + BATCH]
        got_all.extend(decide_many(chunk) if decide_many else [other.decide(p) for p in chunk])
    assert len(got_all) == len(drawn)
    for person, got in zip(drawn, got_all, strict=True):
        want = ref.decide(person)
        for name in rs.outputs:
            assert got[name].key() == want[name].key(), (name, person, want[name], got[name])
    return len(drawn)


@pytest.mark.parametrize("backend", ["z3", "clingo"])
@pytest.mark.parametrize(("ruleset", "partial"), list(PLAN))
def test_backend_agrees_with_eval(backend: str, ruleset: str, partial: bool) -> None:
    n = max(1, int(PLAN[(ruleset, partial)] * SCALE))
    seen = _compare(_rs(ruleset), backend, partial, n)
    # Hypothesis may stop early only when it has exhausted a tiny space; ours are not tiny.
    assert seen >= n * 0.9, f"compared only {seen} of {n} persons"


def test_plan_covers_ten_thousand_persons_per_backend() -> None:
    assert sum(PLAN.values()) >= 10_000

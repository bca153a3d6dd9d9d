"""Planted defects: copies of a rule set (as loaded, before options are resolved) with one
drafting mistake each. The mutation suite (tests/test_mutations.py) runs `elig check` on each and
counts it killed when the gate fails (a finding neither accepted nor known-open), and runs
`check --against` the unmutated set; a survivor is a mistake the checker cannot see.

Two families of classes:
- the checker's own operators (unreachable, clash, dead_exception, delete_category, break_sum,
  duplicate, boundary, drop, flip), each planting what one check looks for;
- the mistakes drafters make (issue 12): a comparison changed inside a definition, a date constant
  shifted by one day, a number in a formula changed, the conditions of two sibling rules swapped,
  `or` turned into `and`, an exception removed, a table cell mistyped, a validity interval
  shortened, an input enum value no rule names, a rule switched off by an option test, a citation
  of a document not in force in the rule's years. Placement is random (seeded) and spread over the
  three programmes (resident, employee, college) where the class has candidates there.

`semantic` says whether what the check must see is a change of decisions: those mutants, when
z3 proves them equivalent to the original (no decision differs), are left out. The others plant
a defect in the rules themselves that the check reports whatever the decisions (a rule that can
never apply, a dead exception, a duplicate, a rule switched off, a value no rule names, a
citation of a document not in force): an equivalent one is still a defect and still counts
for `check` (only `check --against`, which compares decisions, cannot see an equivalent one)."""

from __future__ import annotations

import random
from collections.abc import Iterator

from solver import ir
from solver.testing.drafting import DRAFTING, citation_out_of_force, drafting_mutants, new_enum_value
from solver.testing.own_operators import OWN_OPERATORS, own_mutants
from solver.testing.planting import PROGRAMMES, Mutant

__all__ = [
    "DRAFTING",
    "OWN_OPERATORS",
    "PROGRAMMES",
    "Mutant",
    "citation_out_of_force",
    "mutants",
    "new_enum_value",
    "spread_sample",
]


def mutants(rs: ir.RuleSet, *, per_operator: int = 4, per_class: int | None = 10, seed: int = 12) -> Iterator[Mutant]:
    """Every planted defect: the checker's own operators, then the drafting mistakes."""
    yield from own_mutants(rs, per_operator=per_operator)
    yield from drafting_mutants(rs, per_class, seed)


def spread_sample(rs: ir.RuleSet, n: int, seed: int = 12) -> list[Mutant]:
    """N mutants of N different classes (every class in turn, from a seeded offset), the k-th from
    the k-th programme in turn where its class has a candidate there: a small sample that is the
    same on every run and not weighted to any class or programme."""
    rng = random.Random(seed)
    by_class: dict[str, list[Mutant]] = {}
    for m in mutants(rs, per_operator=len(rs.rules), per_class=None, seed=seed):
        by_class.setdefault(m.operator, []).append(m)
    classes = [c for c in (*OWN_OPERATORS, *DRAFTING) if by_class.get(c)]
    start, step = rng.randrange(len(classes)), 7  # 7 is prime to 20: n < 20 picks n classes
    out: list[Mutant] = []
    for k in range(min(n, len(classes))):
        pool = by_class[classes[(start + k * step) % len(classes)]]
        there = [m for m in pool if m.programme == PROGRAMMES[k % len(PROGRAMMES)]] or pool
        out.append(there[rng.randrange(len(there))])
    return out

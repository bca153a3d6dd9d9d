"""Every worked case in rules/*/cases/ decided by eval, z3 and clingo: the three agree on every
output (status, values, applying rules), eval and clingo name the same causes of unknown, and
eval meets the case's expectations. Cases are grouped by their options, so each backend is built
once per set of options and clingo grounds a group in one go (decide_many)."""

from __future__ import annotations

from pathlib import Path

import pytest

from solver.backends.clingo_backend import ClingoBackend
from solver.backends.eval_backend import EvalBackend
from solver.backends.z3_backend import Z3Backend
from solver.cases import Case, collect, mismatches
from solver.language.loader import load_ruleset
from solver.passes.options import resolve
from solver.person import parse_person

ROOT = Path(__file__).resolve().parents[1]
RULE_SETS = sorted(p.parent for p in (ROOT / "rules").glob("*/cases"))


@pytest.mark.parametrize("folder", RULE_SETS, ids=lambda p: p.name)
def test_every_worked_case_is_decided_alike_by_eval_z3_and_clingo(folder: Path) -> None:
    source = load_ruleset(folder)
    cases = [case for _, case in collect([folder / "cases"])]
    groups: dict[tuple[tuple[str, str], ...], list[Case]] = {}
    for case in cases:
        groups.setdefault(tuple(sorted(case.options.items())), []).append(case)
    decided = 0
    for options, group in groups.items():
        rs = resolve(source, dict(options))
        persons = [parse_person(rs, c.person) for c in group]
        ref, z3b = EvalBackend(rs), Z3Backend(rs)
        by_clingo = ClingoBackend(rs).decide_many(persons)
        for case, person, cl in zip(group, persons, by_clingo, strict=True):
            ev, z = ref.decide(person), z3b.decide(person)
            assert mismatches(rs, case, ev.results) == [], case.id
            for name in rs.outputs:
                e, c = ev[name], cl[name]
                assert e.key() == z[name].key() == c.key(), (case.id, name, e, z[name], c)
                assert (e.missing, set(e.reasons)) == (c.missing, set(c.reasons)), (case.id, name, e, c)
            decided += 1
    assert decided == len(cases) > 0

"""eval, z3 and clingo reach the same decision on every worked case: every output's status,
values and the rules that gave them (OutputResult.key), not only the outputs a case expects.

Cheap by construction: each rule set is compiled once per backend with the options as inputs
(passes.options.options_as_inputs), each case's person carries its option assignment, and
clingo decides all of a rule set's cases in one grounding (decide_many)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from solver.backends import make
from solver.backends.base import Decision
from solver.cases import load_cases
from solver.language.loader import load_ruleset
from solver.passes.options import options_as_inputs, with_options
from solver.person import parse_person

ROOT = Path(__file__).resolve().parents[1]
SETS = {"shanghai": ROOT / "rules" / "shanghai", "mini": ROOT / "tests" / "data" / "mini"}


@cache
def _cases(name: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Every worked case of the rule set: its id and its person with the case's option
    assignment, for the options-as-inputs rule set (a person the vocabulary refuses raises)."""
    rs = load_ruleset(SETS[name])
    ids, persons = [], []
    for path in sorted((SETS[name] / "cases").glob("*.yaml")):
        for case in load_cases(path):
            persons.append(with_options(rs, parse_person(rs, case.person), case.options))
            ids.append(f"{path.name}:{case.id}")
    return ids, persons


@cache
def _decisions(name: str, backend: str) -> list[Decision]:
    """One compile for all the rule set's cases; one batch where the backend takes batches."""
    decider = make(backend, options_as_inputs(load_ruleset(SETS[name])))
    _, persons = _cases(name)
    many = getattr(decider, "decide_many", None)
    return list(many(persons)) if many else [decider.decide(p) for p in persons]


@pytest.mark.parametrize("name", list(SETS))
@pytest.mark.parametrize("backend", ["z3", "clingo"])
def test_backend_decides_every_worked_case_as_eval(name: str, backend: str) -> None:
    ids, persons = _cases(name)
    assert persons
    want, got = _decisions(name, "eval"), _decisions(name, backend)
    assert len(want) == len(got) == len(persons)
    differ = [
        f"{case} {out}: eval {w[out].key()} != {backend} {g[out].key()}"
        for case, w, g in zip(ids, want, got, strict=True)
        for out in w.results
        if w[out].key() != g[out].key()
    ]
    assert not differ, "\n".join(differ[:20])
    assert all(set(w.results) == set(g.results) for w, g in zip(want, got, strict=True))

"""citation_out_of_force and the in-force dates of sources.yaml; the strict model of accepted.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from solver.backends.eval_backend import EvalBackend
from solver.checks import run_checks
from solver.checks.findings import load_accepted
from solver.errors import RuleErrors
from solver.language.loader import load_ruleset
from solver.passes.options import resolve

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "data" / "mini"
SEEDS = Path("/work/shared/seeds")


def test_every_shanghai_source_states_when_it_is_in_force_in_its_own_words() -> None:
    rs = load_ruleset(ROOT / "rules" / "shanghai")
    for src in rs.sources.values():
        assert src.in_force is not None, src.id
        assert src.in_force.hi is None or src.in_force.lo <= src.in_force.hi
        seed = SEEDS / src.file
        if seed.exists():
            assert src.in_force.quote in seed.read_text(encoding="utf-8"), src.id
    assert rs.sources["000"].in_force and str(rs.sources["000"].in_force.hi) == "2030-12-31"


def _mini(tmp_path: Path) -> Path:
    rules = tmp_path / "mini"
    shutil.copytree(MINI, rules)
    text = (rules / "vocabulary.yaml").read_text(encoding="utf-8")
    text = text.replace(
        '"M": {title: a made-up regulation for tests, status: draft}',
        '"M": {title: a made-up regulation, status: draft, in_force: {from: 2025-01-01, quote: "可以参保"}}\n'
        '  "N": {title: an old notice, status: notice, in_force: {from: 2023-01-01, to: 2023-12-31, quote: "x"}}',
    )
    text = text.replace('clauses:\n', 'clauses:\n  "N:1": {source: "N", where: "1", text: "x"}\n')
    # fee.poor is valid from 2025 and now also cites the 2023 notice: in force nowhere it applies
    text = text.replace('{id: fee.poor, cites: ["M:2"]', '{id: fee.poor, cites: ["M:2", "N:1"]')
    (rules / "vocabulary.yaml").write_text(text, encoding="utf-8")
    return rules


def test_a_rule_applied_where_its_documents_are_not_in_force_is_reported(tmp_path: Path) -> None:
    rules = _mini(tmp_path)
    report = run_checks(load_ruleset(rules))
    found = {f.subject: f for f in report.findings if f.kind == "citation_out_of_force"}
    # every rule citing only M (in force from 2025) but undated applies in 2023 and 2024 too
    early = found["citing M: applied in year 2023..2024"]
    assert "g.child" in early.rules and "fee.poor" not in early.rules
    assert early.witness is not None and early.witness["year"] in (2023, 2024)
    assert any(EvalBackend(resolve(load_ruleset(rules))).applies(dict(early.witness))[r] is True for r in early.rules)
    wrong = found["citing N: applies only while N is not in force"]
    assert wrong.rules == ("fee.poor",) and "N:1" in wrong.clauses
    assert report.exit_code() == 1


def test_a_switched_off_rule_citing_a_document_never_in_force_in_its_years_is_reported(tmp_path: Path) -> None:
    """Another reading switches it on with that citation; its validity alone shows the mistake."""
    rules = _mini(tmp_path)
    voc = rules / "vocabulary.yaml"
    voc.write_text(
        voc.read_text(encoding="utf-8").replace(
            "when: \"poor and group == 'adult'\"", "when: \"poor and group == 'adult' and gap_rule == 'extra'\""
        ),
        encoding="utf-8",
    )
    report = run_checks(load_ruleset(rules))
    assert any(f.kind == "switched_off" and f.subject == "fee.poor" for f in report.findings)
    found = {f.subject: f for f in report.findings if f.kind == "citation_out_of_force"}
    off = found["citing N: valid only while N is not in force (rule switched off)"]
    assert off.rules == ("fee.poor",) and "N:1" in off.clauses
    # under the reading that switches it on, z3 asks where it applies, as for any rule
    on = run_checks(load_ruleset(rules), {"gap_rule": "extra"})
    assert "citing N: applies only while N is not in force" in {
        f.subject for f in on.findings if f.kind == "citation_out_of_force"
    }


def test_an_in_force_period_that_ends_before_it_starts_is_a_rule_error(tmp_path: Path) -> None:
    rules = _mini(tmp_path)
    path = rules / "vocabulary.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("to: 2023-12-31", "to: 2022-12-31"), encoding="utf-8")
    with pytest.raises(RuleErrors, match="in force until a day before it starts"):
        load_ruleset(rules)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('- {id: "gap:0123456789", reasn: "x"}', "did you mean 'reason'"),
        ('- {id: "gap:0123456789", reason: "x", status: closed}', "'accepted' or 'open'"),
        ('- {id: "gap1", reason: "x"}', "not a finding id"),
        ('- {id: "gap:0123456789", reason: "  "}', "the reason is empty"),
        ('- {id: "gap:0123456789", reason: 3}', "valid string"),
        ('- {id: "gap:0123456789", reason: a}\n- {id: "gap:0123456789", reason: b}', "listed twice"),
    ],
)
def test_accepted_yaml_is_read_through_a_strict_model(tmp_path: Path, entry: str, message: str) -> None:
    (tmp_path / "accepted.yaml").write_text(entry + "\n", encoding="utf-8")
    with pytest.raises(Exception, match=message) as e:
        load_accepted(tmp_path)
    assert "accepted.yaml:" in str(e.value)  # positioned: file:line:col


def test_against_sees_a_value_or_a_citation_only_one_version_names() -> None:
    """The diff pairs persons valid in both versions: an added enum value and a changed citation
    change no paired decision, so --against reports them by name (solver/diff/vocabulary.py)."""
    import random

    from solver.diff.vocabulary import vocabulary_changes
    from solver.testing.mutants import citation_out_of_force, new_enum_value

    rs = load_ruleset(ROOT / "rules" / "shanghai")
    assert vocabulary_changes(resolve(rs), resolve(rs)) == []
    enum = new_enum_value(rs)[0]
    found = vocabulary_changes(resolve(rs), resolve(enum.rs))
    assert [f.subject.endswith("=added_value: only in new") for f in found] == [True], found
    cite = citation_out_of_force(rs, random.Random(1))[0]
    found = vocabulary_changes(resolve(cite.rs), resolve(rs))  # the citation dropped again
    assert len(found) == 1 and found[0].kind == "unintended_change" and "no longer" in found[0].explanation

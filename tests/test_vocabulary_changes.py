"""changes.yaml's `vocabulary`: an input value or a citation only one version names is declared
there as intended; a declaration that does not happen is stale; an undeclared one stays
unintended (solver/diff/vocabulary.py, solver/language/changes.py)."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from solver.cli import main
from solver.diff.gate import check_against
from solver.errors import EligError
from solver.language.changes import load_changes

BASE = Path(__file__).resolve().parent / "data" / "diff" / "base"
SCHOOL = "  school: {values: [primary, secondary]}\n"
FEE = '{id: fee.table, cites: ["D:2"]'


def _version(root: Path, name: str, school: str, fee: str) -> str:
    """base with an input `school` of the given values (no rule reads it) and fee.table's citations."""
    out = root / name
    shutil.copytree(BASE, out)
    text = (out / "vocabulary.yaml").read_text(encoding="utf-8")
    assert FEE in text
    text = text.replace("types:\n", "types:\n" + school, 1)
    text = text.replace("inputs:\n", "inputs:\n  school: {type: school}\n", 1)
    (out / "vocabulary.yaml").write_text(text.replace(FEE, fee), encoding="utf-8")
    return str(out)


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, Path]:
    root = tmp_path_factory.mktemp("vocabulary")
    old = _version(root, "old", SCHOOL, FEE)
    more = SCHOOL.replace("secondary]", "secondary, college]")
    new = _version(root, "new", more, '{id: fee.table, cites: ["D:2", "D:1"]')
    return old, new, root


def _changes(root: Path, name: str, text: str) -> str:
    path = root / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


VALUE = "  - {input: school, values: {new: [college]}, reason: colleges join, clauses: ['D:1']}\n"
CITE = "  - {rule: fee.table, cites: {new: ['D:1']}, reason: the fee follows the age groups, clauses: ['D:1']}\n"


def test_undeclared_vocabulary_changes_are_unintended(versions: tuple[str, str, Path]) -> None:
    old, new, _ = versions
    report, findings = check_against(old, new, None, {}, 20_000)
    assert not report.regions  # no decision of a person valid in both versions changes
    assert sorted(f.subject for f in findings if f.kind == "unintended_change") == [
        "fee.table: citations",
        "school=college: only in new",
    ]
    assert main(["check", new, "--against", old, "--quiet"]) == 1


def test_declared_vocabulary_changes_are_intended(versions: tuple[str, str, Path]) -> None:
    old, new, root = versions
    path = _changes(root, "both", "vocabulary:\n" + VALUE + CITE)
    _, findings = check_against(old, new, path, {}, 20_000)
    assert Counter(f.kind for f in findings) == {"intended_change": 2}
    cite = next(f for f in findings if f.subject == "fee.table: citations")
    assert cite.accepted == "the fee follows the age groups" and cite.rules == ("fee.table",)
    assert main(["check", new, "--against", old, "--changes", path, "--quiet"]) == 0
    # Declaring one leaves the other unintended.
    path = _changes(root, "value_only", "vocabulary:\n" + VALUE)
    _, findings = check_against(old, new, path, {}, 20_000)
    kinds = {f.subject: f.kind for f in findings}
    assert kinds == {"school=college: only in new": "intended_change", "fee.table: citations": "unintended_change"}


def test_a_declared_vocabulary_change_that_does_not_happen_is_stale(versions: tuple[str, str, Path]) -> None:
    old, new, root = versions
    stale = (
        "  - {input: school, values: {old: [primary]}, reason: primary schools leave, clauses: ['D:1']}\n"
        "  - {rule: g.child, cites: {new: ['D:3']}, reason: a new clause, clauses: ['D:3']}\n"
    )
    path = _changes(root, "stale", "vocabulary:\n" + VALUE + CITE + stale)
    _, findings = check_against(old, new, path, {}, 20_000)
    assert Counter(f.kind for f in findings) == {"intended_change": 2, "stale_change": 2}
    subjects = sorted(f.subject for f in findings if f.kind == "stale_change")
    assert subjects == ["g.child: D:3 only in new", "school: primary only in old"]
    assert main(["check", new, "--against", old, "--changes", path, "--quiet"]) == 1
    # The same declarations against the unchanged version: nothing happens, every one is stale.
    _, findings = check_against(old, old, path, {}, 20_000)
    assert Counter(f.kind for f in findings) == {"stale_change": 4}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{input: school, reason: r, clauses: ['D:1']}", "`input` goes with `values"),
        ("{input: school, values: {new: [a]}, rule: g.child, reason: r, clauses: ['D:1']}", "either an `input`"),
        ("{rule: g.child, values: {new: ['D:1']}, reason: r, clauses: ['D:1']}", "`rule` with `cites"),
        ("{rule: g.child, cites: {}, reason: r, clauses: ['D:1']}", "names nothing"),
        ("{rule: g.child, cites: {added: ['D:1']}, reason: r, clauses: ['D:1']}", "unknown key 'added'"),
        ("{input: school, values: {new: [a]}, reason: r, clauses: []}", "at least 1"),
    ],
)
def test_vocabulary_declarations_are_read_through_a_strict_model(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "changes.yaml"
    path.write_text(f"vocabulary:\n  - {entry}\n", encoding="utf-8")
    with pytest.raises(EligError, match=message) as e:
        load_changes(path)
    assert "changes.yaml:2:" in str(e.value)  # positioned: file:line:col

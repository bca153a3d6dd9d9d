"""`elig diff`: golden regions on small rule pairs, self-diff, symmetry, mutants, reports current."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

import pytest

from solver import ir
from solver.backends.base import Decision
from solver.diff.engine import DiffReport, Version, diff
from solver.language.loader import load_ruleset
from solver.passes.deps import Deps, deps
from solver.passes.options import resolve
from solver.testing.mutants import mutants

# Per z3 query of the mutant diffs; a long run on a loaded machine may raise it.
DIFF_TIMEOUT_MS = int(os.environ.get("ELIG_DIFF_TIMEOUT_MS", "20000"))

DATA = Path(__file__).parent / "data" / "diff"
ROOT = Path(__file__).resolve().parents[1]


@cache
def _rs(name: str) -> ir.RuleSet:
    return resolve(load_ruleset(DATA / name))


def _diff(a: str, b: str) -> DiffReport:
    return diff(Version(_rs(a), a), Version(_rs(b), b))


def _keys(rep: DiffReport) -> set[tuple[object, ...]]:
    return {(r.output, r.old.value, r.old.rules, r.new.value, r.new.rules) for r in rep.regions}


GOLDEN = {
    "boundary": {
        ("group", "child", ("g.child",), "adult", ("g.adult",)),
        ("fee", "100", ("fee.table",), "300", ("fee.table",)),
    },
    "category": {
        ("group", "adult", ("g.adult",), "elder", ("g.elder",)),
        ("fee", "300", ("fee.table",), "200", ("fee.table",)),
    },
    "exception": {
        ("group", "student", ("g.student",), "conflict", ("g.adult", "g.student")),
        ("fee", "100", ("fee.table",), "unknown", ("fee.table",)),
    },
    "parameter": {("fee", "300", ("fee.table",), "350", ("fee.table",))},
    "validity": {("eligible", "true", ("e.yes",), "false", ())},
}


@pytest.mark.parametrize("variant", sorted(GOLDEN))
def test_golden_regions(variant: str) -> None:
    rep = _diff("base", variant)
    assert rep.complete and not rep.equivalent
    assert _keys(rep) == GOLDEN[variant]
    assert all(r.confirmed for r in rep.regions)


def test_golden_witnesses_lie_in_the_known_regions() -> None:
    (g,) = [r for r in _diff("base", "boundary").regions if r.output == "group"]
    assert 16 <= int(g.witness_old["age"]) <= 17 and g.witness_old["student"] is False  # type: ignore[arg-type]
    assert g.condition == ("age < 18", "not g.student", "age >= 16")
    (v,) = _diff("base", "validity").regions
    assert v.witness_old["year"] in (2026, 2027) and v.condition == ("2024 <= year",)


@pytest.mark.parametrize("name", ["base", "category"])
def test_self_diff_is_equivalent_with_proof(name: str) -> None:
    rep = _diff(name, name)
    assert rep.equivalent and rep.complete and not rep.regions
    assert all(o.proof == "complete" for o in rep.outputs)


@pytest.mark.parametrize("variant", sorted(GOLDEN))
def test_diff_is_symmetric(variant: str) -> None:
    ab, ba = _diff("base", variant), _diff(variant, "base")
    assert {r.key for r in ab.regions} == {r.swapped() for r in ba.regions}


def test_shanghai_year_diff_names_the_contribution_change() -> None:
    rs = resolve(load_ruleset(ROOT / "rules" / "shanghai"))
    outputs = ["standard_individual_contribution", "mutual_aid_circle"]
    rep = diff(
        Version(rs, "2023", {"insurance_year": 2023}), Version(rs, "2025", {"insurance_year": 2025}), outputs=outputs
    )
    assert rep.complete and rep.regions and all(r.confirmed for r in rep.regions)
    members = {r.member for r in rep.regions if r.output == "mutual_aid_circle"}
    assert "sibling" in members
    v2025 = Version(rs, "2025", {"insurance_year": 2025})
    same = diff(v2025, v2025, outputs=[*outputs, "resident_category"])
    assert same.equivalent


@cache
def _shanghai_persons(n: int = 800, seed: int = 5) -> list[dict[str, object]]:
    """Complete valid persons of the Shanghai set (z3-repaired pool recombined in DuckDB)."""
    import tempfile

    from solver.backends.sql_backend import connect
    from solver.batch import sample_population

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.parquet"
        con = connect()
        sample_population(resolve(load_ruleset(ROOT / "rules" / "shanghai")), n, seed, path, con=con)
        cur = con.execute("SELECT * FROM read_parquet(?)", [str(path)])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def _mutated(rs: ir.RuleSet, m: object) -> tuple[set[str], set[str]]:
    """(rules the mutant changed or that read a changed definition or parameter, in their
    conditions or values, directly or through other definitions; the outputs those rules give or
    whose default reads such a name)."""
    mrs: ir.RuleSet = m.rs  # type: ignore[attr-defined]
    original = {r.id: r for r in rs.rules}
    changed = {r.id for r in mrs.rules if original.get(r.id) != r} | (set(original) - {r.id for r in mrs.rules})
    params = {p for p in {*rs.params, *mrs.params} if mrs.params.get(p) != rs.params.get(p)}
    definitions = {d for d in {*rs.definitions, *mrs.definitions} if mrs.definitions.get(d) != rs.definitions.get(d)}
    touched: set[str] = set()
    for side in (rs, mrs):  # what reads what on either side (a mutant may change a definition's reads)
        d = deps(side)

        def reads_change(names: set[str], used: set[str], d: Deps = d) -> bool:
            through = d.definitions_read(names)
            used = used | {p for n in through for p in d.definitions[n].params}
            return bool(through & definitions or used & params)

        changed |= {rid for rid, r in d.rules.items() if reads_change(set(r.definitions), set(r.params))}
        for o in side.outputs.values():
            if o.default is not None and reads_change(ir.refs(o.default), ir.params_used(o.default)):
                touched.add(o.name)
    rules = {**original, **{r.id: r for r in mrs.rules}}
    return changed, touched | {o for rid in changed for o in rules[rid].outputs()}


def _decider(status: str, rules: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """What places a result in a region: its status and applying rules (an unknown names none)."""
    return status, () if status == "unknown" else rules


def test_every_non_equivalent_mutant_is_found_by_diff() -> None:
    """Each planted mutant of the mutation suite, diffed against the unmutated set over every
    output. Independently of diff, eval decides a sample population under both: every person whose
    result differs must lie in a region of the diff (so no mutant eval tells apart is missed), each
    region's witness is confirmed by eval, and a non-empty diff names the mutated rule or an output
    it gives. A mutant with an empty, complete diff is equivalent (proved per output); eval must not
    tell it apart either. Default: a seeded sample of mutants; ELIG_DIFF_MUTANTS=all runs them all,
    ELIG_DIFF_MUTANT_IDS='id;id' the ones named."""
    import dataclasses
    import random

    from solver.backends.eval_backend import EvalBackend

    unresolved = load_ruleset(ROOT / "rules" / "shanghai")
    rs = resolve(unresolved)
    # Mutants are planted in the files' rule set (options still references), then resolved like it.
    generated = [dataclasses.replace(m, rs=resolve(m.rs)) for m in mutants(unresolved)]
    if os.environ.get("ELIG_DIFF_MUTANT_IDS"):  # ';'-separated ids (an id may hold a comma)
        wanted = set(os.environ["ELIG_DIFF_MUTANT_IDS"].split(";"))
        generated = [m for m in generated if m.id in wanted]
        assert {m.id for m in generated} == wanted, wanted - {m.id for m in generated}
    elif os.environ.get("ELIG_DIFF_MUTANTS") != "all":
        generated = random.Random(int(os.environ.get("ELIG_DIFF_SEED", "15"))).sample(generated, 3)
    persons = _shanghai_persons()
    base = EvalBackend(rs)
    before = [base.decide(p) for p in persons]
    found: list[str] = []
    equivalent: list[str] = []
    failed: list[str] = []  # every mutant is tried, so a long run reports all its failures at once
    for m in generated:
        try:
            (found if _diff_finds(rs, m, persons, before) else equivalent).append(m.id)
        except AssertionError as e:
            failed.append(f"{m.id}: {e}")
        if os.environ.get("ELIG_DIFF_MUTANTS") == "all":  # progress of the long run (-s shows it)
            print(f"{len(found)} found, {len(equivalent)} equivalent, {len(failed)} failed: {m.id}", flush=True)
    print(f"\ndiff found {len(found)} of {len(generated)} mutants; equivalent: {', '.join(equivalent) or 'none'}")
    assert not failed, "\n".join(failed)
    assert found


def _diff_finds(rs: ir.RuleSet, m: object, persons: list[dict[str, object]], before: list[Decision]) -> bool:
    """True when diff finds regions for the mutant m; False when it proves m equivalent. Fails when
    a person eval tells apart lies in no region, or a region's rules and outputs miss the mutation."""
    from solver.backends.eval_backend import EvalBackend

    mrs: ir.RuleSet = m.rs  # type: ignore[attr-defined]
    mid: str = m.id  # type: ignore[attr-defined]
    changed, touched = _mutated(rs, m)
    rep = diff(Version(rs, "original"), Version(mrs, mid), timeout_ms=DIFF_TIMEOUT_MS)
    assert rep.complete, "the completeness proof did not finish"
    assert all(r.confirmed for r in rep.regions), "a witness eval does not confirm"
    keys = {(r.output, *_decider(r.old.status, r.old.rules), *_decider(r.new.status, r.new.rules)) for r in rep.regions}
    mutant_eval = EvalBackend(mrs)
    told_apart = 0
    for p, old in zip(persons, before, strict=True):
        new = mutant_eval.decide(p)
        for name in rs.outputs:
            a, b = old[name], new[name]
            if (a.status, a.values) == (b.status, b.values):
                continue
            told_apart += 1
            if rs.outputs[name].cardinality != "set" or a.status != b.status:  # set members: per-member regions
                assert (name, *_decider(a.status, a.rules), *_decider(b.status, b.rules)) in keys, (name, p)
            else:
                assert any(r.output == name for r in rep.regions), name
    if rep.regions:
        named = {x for r in rep.regions for x in (*r.old.rules, *r.new.rules, r.output)}
        assert named & (changed | touched), "no region names the mutated rule or its output"
        return True
    assert rep.equivalent and told_apart == 0, "an empty diff, but eval tells the mutant apart"
    return False


def test_reports_are_current() -> None:
    """The region tables of reports/diff-*.md match a fresh run (witness columns left out: z3 may
    pick other witnesses)."""
    from solver.cli import build_parser, run_diff
    from solver.diff import render

    every = os.environ.get("ELIG_DIFF_REPORTS") == "all"  # the option reports take minutes
    for path in sorted((ROOT / "reports").glob("diff-*.md")):
        if not every and path.name.startswith("diff-option-"):
            continue
        head = path.read_text(encoding="utf-8").splitlines()[1]
        m = re.fullmatch(r"<!-- elig diff (.*) -->", head)
        assert m, f"{path} has no command line"
        args = build_parser().parse_args(["diff", *m.group(1).split(), "--quiet"])
        title = path.read_text(encoding="utf-8").splitlines()[0][2:]
        fresh = render.to_markdown(run_diff(args), title=title)  # type: ignore[arg-type]
        assert _tables(fresh) == _tables(path.read_text(encoding="utf-8")), path.name


def _tables(md: str) -> list[str]:
    rows = []
    for line in md.splitlines():
        if line.startswith("| ") and not line.startswith("| #"):
            cells = line.split(" | ")
            rows.append(" | ".join(cells[:5] + cells[6:]))  # without the witness column
        elif line.startswith(("## ", "Proof:")):
            rows.append(line)
    return rows


@pytest.mark.parametrize(
    ("changes", "kinds", "code"),
    [
        ("one", {"intended_change": 1, "unintended_change": 1}, 1),
        ("all", {"intended_change": 2}, 0),
        ("stale", {"intended_change": 2, "stale_change": 1}, 1),
    ],
)
def test_check_against_gates_undeclared_and_stale_changes(changes: str, kinds: dict[str, int], code: int) -> None:
    """base -> boundary makes two changes (group and fee of 16-17 year olds): changes.yaml declaring
    one leaves the other unintended; declaring a third that does not happen is stale."""
    from collections import Counter

    from solver.cli import main
    from solver.diff.gate import check_against

    old, new, path = str(DATA / "base"), str(DATA / "boundary"), str(DATA / "changes" / f"{changes}.yaml")
    _, findings = check_against(old, new, path, {}, 20_000)
    assert Counter(f.kind for f in findings) == kinds
    unintended = [f for f in findings if f.kind == "unintended_change"]
    assert all(f.subject.startswith("fee:") and f.rules == ("fee.table",) and f.witness for f in unintended)
    assert main(["check", new, "--against", old, "--changes", path]) == code


def test_changes_yaml_is_strict() -> None:
    from solver.errors import EligError
    from solver.language.changes import load_changes

    with pytest.raises(EligError, match="unknown key 'rulez'"):
        load_changes(DATA / "changes" / "bad.yaml")


def _eval_counts(rep: DiffReport, old: Version, new: Version, path: Path) -> dict[tuple[object, ...], int]:
    """The oracle: each person of the file decided by eval under both versions, counted by the
    deciders of its result on each side wherever the results differ."""
    import duckdb

    from solver.backends.eval_backend import EvalBackend

    con = duckdb.connect()
    cur = con.execute("SELECT * FROM read_parquet(?)", [str(path)])
    cols = [d[0] for d in cur.description]
    eo, en = EvalBackend(old.rs), EvalBackend(new.rs)
    counts: dict[tuple[object, ...], int] = {}
    for values in cur.fetchall():
        p = {c: v for c, v in zip(cols, values, strict=True) if v is not None}
        a_all, b_all = eo.decide({**p, **old.pinned}), en.decide({**p, **new.pinned})
        for od in rep.outputs:
            a, b = a_all[od.output], b_all[od.output]
            keys = []
            if old.rs.outputs[od.output].cardinality == "set" and a.status == b.status == "ok":
                for m in set(a.values) ^ set(b.values):  # per member, the rules giving it
                    ra, rb = ([r for r in x.rules if _gives(v.rs, r, od.output) == m] for x, v in ((a, old), (b, new)))
                    keys.append((od.output, str(m), "ok", tuple(ra), "ok", tuple(rb)))
            elif (a.status, a.values) != (b.status, b.values):
                keys.append((od.output, "", *_decider(a.status, a.rules), *_decider(b.status, b.rules)))
            for k in keys:
                counts[k] = counts.get(k, 0) + 1
    return counts


def _gives(rs: ir.RuleSet, rule: str, output: str) -> object:
    value = dict(rs.rule(rule).then)[output]
    assert isinstance(value, ir.Const)
    return value.value


def test_population_counts_through_sql_match_eval(tmp_path: Path) -> None:
    """`diff --population` counts in SQL (DuckDB); eval on the same persons gives the same count
    per region, and every differing person lies in a region."""
    from solver.backends.sql_backend import connect
    from solver.batch import sample_population
    from solver.diff.engine import count_population

    rs = resolve(load_ruleset(ROOT / "rules" / "shanghai"))
    old, new = Version(rs, "2023", {"insurance_year": 2023}), Version(rs, "2025", {"insurance_year": 2025})
    outputs = ["standard_individual_contribution", "mutual_aid_circle", "contribution_bracket", "individual_payment"]
    rep = diff(old, new, outputs=outputs)
    path = tmp_path / "persons.parquet"
    sample_population(rs, 1500, 3, path, con=connect())
    counted = count_population(rep, old, new, str(path))
    assert counted.population_size == 1500
    got = {(r.output, r.member, *_decider(r.old.status, r.old.rules), *_decider(r.new.status, r.new.rules)): r.count
           for r in counted.regions}
    want = _eval_counts(rep, old, new, path)
    assert sum(want.values()) > 0
    assert set(want) <= set(got), set(want) - set(got)
    assert got == {k: want.get(k, 0) for k in got}


def test_population_with_a_bad_row_is_an_error(tmp_path: Path) -> None:
    from solver.diff.engine import count_population
    from solver.errors import InputError

    path = tmp_path / "bad.csv"
    path.write_text("age,student\n16,false\n200,maybe\n", encoding="utf-8")
    rep = _diff("base", "boundary")
    with pytest.raises(InputError, match="row 2"):
        count_population(rep, Version(_rs("base"), "base"), Version(_rs("boundary"), "boundary"), str(path))


def test_gate_text_report_has_no_empty_lines_of_intervals(capsys: pytest.CaptureFixture[str]) -> None:
    """Gate findings compare two versions: the text report names no timeline intervals for them."""
    from solver.cli import main

    old, new = str(DATA / "base"), str(DATA / "boundary")
    main(["check", new, "--against", old, "--changes", str(DATA / "changes" / "one.yaml")])
    text = capsys.readouterr().out
    assert "unintended_change" in text and "rules: fee.table" in text
    assert not [line for line in text.splitlines() if line.strip() in ("in:", "intervals:")]

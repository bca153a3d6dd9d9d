"""Explanations: derivation trees, minimal why-not, counterfactuals, the consultant, renderers.

Golden files under tests/golden/explain/ hold `elig explain` output for Shanghai cases (every
programme, zh and en, every format) and for the mini rule set. Regenerate them after a deliberate
change with

    ELIG_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_explain.py -q

and review the diff: a golden file is an explanation a person would read. Example values chosen
by the solver (a counterfactual's tie-breaks, the consultant's example completions) follow z3's
models, so a z3 upgrade may change them.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explain import render
from explain.consult import Consultant
from explain.counterfactual import counterfactual
from explain.counterfactual import steps as cf_steps
from explain.derivation import Explainer, Step, cited_clauses, explain
from explain.symbolic import Symbolic
from explain.why_not import lit_holds, minimal_failure, rule_literals, why_not
from solver import ir
from solver.backends.eval_backend import EvalBackend
from solver.cases import collect
from solver.cli import main
from solver.errors import InputError
from solver.language import loader
from solver.passes.options import resolve
from solver.person import parse_person
from solver.testing.strategies import persons

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "data" / "mini"
SH = ROOT / "rules" / "shanghai"
CASES = SH / "cases"
DATA = ROOT / "tests" / "data" / "explain"
GOLDEN = ROOT / "tests" / "golden" / "explain"
UPDATE = os.environ.get("ELIG_UPDATE_GOLDEN") == "1"


_LOAD = loader.load_ruleset


@cache
def _load(root: str) -> ir.RuleSet:
    return _LOAD(root)


MINI_RS = resolve(_load(str(MINI)))


@pytest.fixture(scope="module")
def mini() -> ir.RuleSet:
    return MINI_RS


@pytest.fixture(scope="module")
def mini_sym(mini: ir.RuleSet) -> Symbolic:
    return Symbolic(mini)


@pytest.fixture(scope="module")
def shanghai() -> ir.RuleSet:
    return resolve(_load(str(SH)))


_TOOLS: dict[int, tuple[EvalBackend, Symbolic]] = {}


def _shanghai_tools(rs: ir.RuleSet) -> tuple[EvalBackend, Symbolic]:
    """One eval backend and one z3 encoding of the Shanghai set for the tests that need them."""
    if id(rs) not in _TOOLS:
        _TOOLS[id(rs)] = (EvalBackend(rs), Symbolic(rs))
    return _TOOLS[id(rs)]


def mini_person(**over: Any) -> dict[str, Any]:
    p: dict[str, Any] = {
        "year": 2025,
        "birth": dt.date(2015, 5, 1),
        "paid": dt.date(2025, 1, 10),
        "hukou": "local",
        "student": False,
        "poor": False,
        "level": "l1",
        "gap_years": 0,
        "backpaid": 0,
        "income": 0,
    }
    p.update(over)
    return p


# ---------------------------------------------------------------- golden files

# name -> arguments of `elig explain` (the rule set and person file first). Shanghai cases are
# explained for the outputs their `expect` lists, so each golden file stays about one question.
GOLDENS: dict[str, list[str]] = {
    # resident scheme: categories (000 一（二）, 一（三）)
    "sh_resident_category_pupil_zh.txt": [
        str(SH), str(CASES / "resident_eligibility.yaml"), "--case", "r_elig_1_2_1_age_18_at_year_end",
        "--output", "resident_category", "--output", "pupil_infant_grounds", "--lang", "zh",
    ],
    "sh_resident_category_whynot_en.txt": [
        str(SH), str(CASES / "resident_eligibility.yaml"), "--case", "r_elig_1_3_2_spouse",
        "--why-not", "resident_category=pupil_infant", "--lang", "en",
    ],
    "sh_resident_category_cf_zh.txt": [
        str(SH), str(CASES / "resident_eligibility.yaml"), "--case", "r_elig_1_3_2_spouse",
        "--counterfactual", "resident_category=other_resident", "--lang", "zh",
    ],
    # resident scheme: contributions (000 二（一）, 二（二）, 002 / 004 tables)
    "sh_contrib_60_zh.txt": [
        str(SH), str(CASES / "resident_contributions.yaml"), "--case", "contrib_age_60_at_year_end",
        "--output", "contribution_bracket", "--output", "contribution_relief", "--output", "individual_payment",
        "--lang", "zh",
    ],
    "sh_contrib_cf_en.txt": [
        str(SH), str(CASES / "resident_contributions.yaml"), "--case", "contrib_age_60_at_year_end",
        "--counterfactual", "contribution_bracket=age_70_plus", "--lang", "en",
    ],
    "sh_contrib_cf_fixed_zh.txt": [
        str(SH), str(CASES / "resident_contributions.yaml"), "--case", "contrib_age_60_at_year_end",
        "--counterfactual", "contribution_bracket=age_70_plus", "--fix", "birth_date", "--fix", "insurance_year",
        "--lang", "zh",
    ],
    "sh_contrib_consult_en.txt": [
        str(SH), str(DATA / "sh_resident_no_birth.yaml"), "--consult", "--output", "contribution_bracket",
        "--output", "resident_category", "--output", "contribution_relief", "--output", "individual_payment",
        "--lang", "en",
    ],
    # resident scheme: waiting period and benefits (000 三, 五; 002 tables)
    "sh_waiting_en.md": [
        str(SH), str(CASES / "resident_benefits_waiting.yaml"), "--case", "r_ben_central_1",
        "--output", "waiting_months", "--output", "benefit_start_date", "--format", "md", "--lang", "en",
    ],
    "sh_benefit_table_zh.txt": [
        str(SH), str(CASES / "resident_benefits_table.yaml"), "--case", "r_ben_t2_outpatient_19_59",
        "--output", "deductible_amount", "--output", "fund_share_percent", "--lang", "zh",
    ],
    # college students (003)
    "sh_college_en.txt": [
        str(SH), str(CASES / "college_benefits.yaml"), "--case", "college_annual_paid",
        "--output", "college_benefits", "--output", "college_benefit_start_date", "--lang", "en",
    ],
    "sh_college_whynot_zh.txt": [
        str(SH), str(CASES / "college_benefits.yaml"), "--case", "college_annual_not_paid",
        "--why-not", "college_benefits=true", "--lang", "zh",
    ],
    # employee scheme (001)
    "sh_employee_membership_zh.txt": [
        str(SH), str(CASES / "employee_membership.yaml"), "--case", "emp_membership_6",
        "--output", "employee_is_employee", "--lang", "zh",
    ],
    "sh_employee_whynot_en.txt": [
        str(SH), str(CASES / "employee_membership.yaml"), "--case", "emp_membership_7",
        "--why-not", "employee_is_employee=true", "--lang", "en",
    ],
    "sh_employee_cf_zh.txt": [
        str(SH), str(CASES / "employee_membership.yaml"), "--case", "emp_membership_7",
        "--counterfactual", "employee_is_employee=true", "--lang", "zh",
    ],
    "sh_employee_benefits_en.json": [
        str(SH), str(CASES / "employee_benefits.yaml"), "--case", "emp_paid_1",
        "--output", "employee_benefit_start_date", "--output", "employee_benefits_active", "--format", "json",
        "--lang", "en",
    ],
    "sh_employee_care_zh.html": [
        str(SH), str(CASES / "employee_care.yaml"), "--case", "emp_mi_1",
        "--output", "employee_mi_registration_valid", "--format", "html", "--lang", "zh",
    ],
    # the mini rule set: every construct
    "mini_all_en.txt": [str(MINI), str(MINI / "cases" / "mini.yaml"), "--case", "adult_2024_no_table", "--lang", "en"],
    "mini_whynot_zh.txt": [
        str(MINI), str(MINI / "cases" / "mini.yaml"), "--case", "child_local", "--why-not", "flags=priority",
    ],
    "mini_cf_en.txt": [
        str(MINI), str(MINI / "cases" / "mini.yaml"), "--case", "child_local", "--counterfactual", "fee=0",
        "--lang", "en",
    ],
    "mini_consult_zh.txt": [str(MINI), str(DATA / "mini_partial.yaml"), "--consult"],
}  # fmt: skip


@pytest.fixture
def cached_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Load each rule set once for the whole module (the CLI loads it per call)."""
    monkeypatch.setattr(loader, "load_ruleset", lambda root: _load(str(root)))


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_golden(name: str) -> None:
    """Each golden file is `elig explain` run in a fresh process: z3's choices among equally good
    answers (ties, example completions) depend on every term created before in the process, so
    only a fresh process gives the same text whatever other tests ran first."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "COLUMNS": "160"}
    proc = subprocess.run(
        [sys.executable, "-m", "solver.cli", "explain", *GOLDENS[name]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.replace(str(ROOT) + "/", "")
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(out, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{path} did not exist and was written; review it and run again")
    assert out == path.read_text(encoding="utf-8"), f"{name} differs; ELIG_UPDATE_GOLDEN=1 rewrites it"


def test_goldens_cover_every_programme_language_and_question() -> None:
    names = " ".join(GOLDENS)
    files = {Path(a).name for args in GOLDENS.values() for a in args if a.endswith(".yaml")}
    assert {"resident_eligibility.yaml", "resident_contributions.yaml", "resident_benefits_waiting.yaml"} <= files
    assert {"college_benefits.yaml", "employee_membership.yaml", "employee_benefits.yaml"} <= files
    assert sum(n.startswith("sh_") for n in GOLDENS) >= 10
    for word in ("whynot", "cf", "consult", "_zh", "_en", ".md", ".json", ".html"):
        assert word in names


def test_no_stray_golden_files() -> None:
    assert {p.name for p in GOLDEN.iterdir()} <= set(GOLDENS)


# ---------------------------------------------------------------- clause ids


def _shanghai_cases() -> Iterator[Any]:
    for _, case in collect([CASES]):
        yield case


def test_every_cited_clause_exists(shanghai: ir.RuleSet) -> None:
    """Explanations of every worked case (its expected outputs; every output for the first case
    of each file) and each golden file cite real clauses."""
    known = set(shanghai.clauses)
    backends: dict[tuple[tuple[str, str], ...], EvalBackend] = {}
    cited: set[str] = set()
    seen_files: set[str] = set()
    for _, case in collect([CASES]):
        key = tuple(sorted(case.options.items()))
        if key not in backends:
            backends[key] = EvalBackend(resolve(_load(str(SH)), dict(case.options)))
        ev = backends[key]
        decision, trace = ev.decide_traced(parse_person(ev.rs, case.person))
        first = case.loc.file not in seen_files
        seen_files.add(case.loc.file)
        steps = explain(ev.rs, decision, trace, None if first else list(case.expect), lang="zh")
        cited |= cited_clauses(steps)
    assert cited, "explanations cite no clause at all"
    assert cited <= known, f"unknown clause ids: {sorted(cited - known)}"
    golden_ids: set[str] = set()
    for path in GOLDEN.glob("sh_*"):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            golden_ids |= {c for s in json.loads(text) for n in _json_walk(s) for c in n.get("clauses", [])}
        else:
            golden_ids |= {c.strip() for part in text.split("[")[1:] for c in part.split("]")[0].split(",")}
    golden_ids = {c for c in golden_ids if ":" in c and " " not in c}
    assert golden_ids, "golden files cite no clause"
    assert golden_ids <= known, f"golden files cite unknown clause ids: {sorted(golden_ids - known)}"


def _json_walk(d: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield d
    for c in d.get("children", []):
        yield from _json_walk(c)


def test_counterfactual_core_clauses_exist(shanghai: ir.RuleSet) -> None:
    ev, sym = _shanghai_tools(shanghai)
    case = next(c for c in _shanghai_cases() if c.id == "contrib_age_60_at_year_end")
    p = parse_person(shanghai, case.person)
    cf = counterfactual(sym, ev, p, "contribution_bracket", "age_70_plus", ["birth_date", "insurance_year"], 20000)
    assert cf.status == "impossible"
    assert cf.blockers and {b.kind for b in cf.blockers} >= {"rule", "fixed"}
    assert {c for b in cf.blockers for c in b.clauses} <= set(shanghai.clauses)


# ---------------------------------------------------------------- derivations


def _explainer(rs: ir.RuleSet, person: dict[str, Any], lang: str = "en") -> Explainer:
    decision, trace = EvalBackend(rs).decide_traced(parse_person(rs, person))
    return Explainer(rs, decision, trace, lang)  # type: ignore[arg-type]


def test_conditions_are_instantiated_and_short_circuits_filled(mini: ir.RuleSet) -> None:
    ex = _explainer(mini, mini_person())
    text = render.text([ex.output("covered"), ex.output("fee")])
    assert "year = 2025 ≥ 2024 ✓" in text
    assert "paid = 2025-01-10 ≤ 2023-06-30 ✗" in text  # never evaluated by eval's `or`: computed here
    assert "fee_table[2025, child] = 355 yuan  [M:2]" in text  # the parameter row and its clause
    assert "gives fee = fee_table[year, group] = 355 yuan" in text


def test_definitions_show_their_computation(mini: ir.RuleSet) -> None:
    ex = _explainer(mini, mini_person(gap_years=2, backpaid=1))
    text = render.text([ex.output("start_date")])
    assert "waiting = if gap_years >= 4 then max(6, 3 + variable) else 3 + variable = 4" in text
    assert "[gap_years = 2; backpaid = 1]" in text


def test_zh_uses_vocabulary_labels(shanghai: ir.RuleSet) -> None:
    case = next(c for c in _shanghai_cases() if c.id == "contrib_age_60_at_year_end")
    zh = render.text([_explainer(shanghai, case.person, "zh").output("contribution_bracket")])
    en = render.text([_explainer(shanghai, case.person, "en").output("contribution_bracket")])
    assert "集中参保期次年末的实际年龄 = year_end_age(birth_date, insurance_year) = 60" in zh
    assert shanghai.inputs["birth_date"].labels.zh in zh and "60—69周岁" in zh  # input and enum labels
    assert "contribution_age = year_end_age(birth_date, insurance_year) = 60" in en


def test_unknown_conditions_are_marked(mini: ir.RuleSet) -> None:
    p = mini_person()
    del p["hukou"]
    text = render.text([_explainer(mini, p).output("covered")])
    assert "hukou = ? (missing hukou) = local ?" in text


def test_renderers_show_the_same_facts(mini: ir.RuleSet) -> None:
    ex = _explainer(mini, mini_person())
    steps = [ex.output("group")]
    plain, rich = render.text(steps), render.rich_text(steps)
    for fact in ("g.child ✓", "[M:2]", "「未满18周岁」", "age = 10 < 18 ✓"):
        assert fact in plain and fact in rich and fact in render.markdown(steps)
        assert html.escape(fact.replace("「", "").replace("」", ""), quote=False) in render.to_html(steps)
    assert json.loads(render.to_json(steps))[0]["children"][0]["clauses"] == ["M:2"]


# ---------------------------------------------------------------- why not


def _skeleton_true(sk: Any, truth: dict[int, bool]) -> bool:
    op, kids, i = sk
    if op == "lit":
        return truth[i]
    vals = [_skeleton_true(k, truth) for k in kids]
    return all(vals) if op == "and" else any(vals)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_why_not_is_minimal_and_sufficient(mini: ir.RuleSet, mini_sym: Symbolic, data: st.DataObject) -> None:
    """For every rule that does not apply: making the chosen failed literals hold (keeping the
    others) makes the skeleton true, and no smaller set of failed literals does (brute force)."""
    person = data.draw(persons(mini))
    decision, trace = EvalBackend(mini).decide_traced(person)
    ex = Explainer(mini, decision, trace)
    for r in mini.rules:
        if trace.applies[r.id] is True:
            continue
        lits, sk = rule_literals(ex, r)
        now = [lit_holds(ex, lit) for lit in lits]
        mf = minimal_failure(mini_sym, r, lits, sk, now, None, None, 10000)
        assert mf.proven and not mf.contradictory
        failed = [i for i, h in enumerate(now) if h is not True]
        assert set(mf.literals) <= set(failed)
        truth = {i: now[i] is True or i in mf.literals for i in range(len(lits))}
        assert _skeleton_true(sk, truth), r.id
        for k in range(len(mf.literals)):
            for subset in itertools.combinations(failed, k):
                t = {i: now[i] is True or i in subset for i in range(len(lits))}
                assert not _skeleton_true(sk, t), f"{r.id}: {subset} is smaller"


def test_why_not_lists_only_the_needed_failures(mini: ir.RuleSet, mini_sym: Symbolic) -> None:
    decision, trace = EvalBackend(mini).decide_traced(mini_person())
    step = why_not(mini, decision, trace, "flags", "priority", "en", symbolic=mini_sym)
    text = render.text([step])
    assert "smallest set of failed conditions that must hold: 1 of 2" in text
    assert text.count("✗") == 3  # the head, the rule and one condition (not both branches of the or)


def test_why_not_explains_a_blocking_exception_and_the_default(mini: ir.RuleSet, mini_sym: Symbolic) -> None:
    p = mini_person(student=True)
    decision, trace = EvalBackend(mini).decide_traced(p)
    text = render.text([why_not(mini, decision, trace, "group", "child", "en", symbolic=mini_sym)])
    assert "g.student: applies ✗  [M:2]" in text
    text = render.text([why_not(mini, decision, trace, "covered", False, "en", symbolic=mini_sym)])
    assert "the default applies only when no rule applies; these apply: covered.yes" in text


# ---------------------------------------------------------------- counterfactuals


def test_counterfactual_is_smallest_and_rechecked(mini: ir.RuleSet, mini_sym: Symbolic) -> None:
    ev = EvalBackend(mini)
    p = mini_person()
    cf = counterfactual(mini_sym, ev, p, "group", "elder", (), 10000)
    assert cf.status == "found" and [c.field for c in cf.changed] == ["birth"]
    # elder needs age >= 60, and adult (18..69) would conflict: age 70, the latest such birth date
    assert cf.person["birth"] == dt.date(1955, 12, 31)
    assert ev.decide({**p, "birth": dt.date(1956, 1, 1)})["group"].values != ("elder",)
    assert cf.result is not None and cf.result.values == ("elder",)


def test_counterfactual_counts_fields_before_distance(mini: ir.RuleSet, mini_sym: Symbolic) -> None:
    ev = EvalBackend(mini)
    cf = counterfactual(mini_sym, ev, mini_person(), "fee", 0, (), 10000)
    assert cf.status == "found"
    assert {c.field for c in cf.changed} == {"birth", "hukou", "poor"}
    # no two-field change gives fee 0 (checked by eval over every pair of the changed fields' new values)
    for a, b in itertools.combinations(cf.changed, 2):
        assert ev.decide({**mini_person(), a.field: a.new, b.field: b.new})["fee"].values != (0,)


def test_counterfactual_set_output_and_already(mini: ir.RuleSet, mini_sym: Symbolic) -> None:
    ev = EvalBackend(mini)
    cf = counterfactual(mini_sym, ev, mini_person(), "flags", "priority", (), 10000)
    assert cf.status == "found" and cf.result is not None and "priority" in cf.result.values
    assert counterfactual(mini_sym, ev, mini_person(), "covered", True).status == "already"


def test_counterfactual_impossible_names_the_core(mini: ir.RuleSet, mini_sym: Symbolic) -> None:
    cf = counterfactual(mini_sym, EvalBackend(mini), mini_person(), "group", "adult", ["birth"], 10000)
    assert cf.status == "impossible"
    assert {(b.kind, b.id) for b in cf.blockers} == {("rule", "g.child"), ("fixed", "birth")}
    text = render.text([cf_steps(cf, mini, lang="en")])
    assert "rule g.child  [M:2]" in text and "fixed field birth" in text


@pytest.mark.parametrize(
    ("case_id", "output", "value"),
    [
        ("emp_paid_3", "employee_benefits_active", False),
        ("contrib_age_60_at_year_end", "contribution_bracket", "age_70_plus"),
        ("r_elig_1_3_2_spouse", "resident_category", "pupil_infant"),
    ],
)
def test_search_and_optimize_find_the_same_optimum(shanghai: ir.RuleSet, case_id: str, output: str, value: Any) -> None:
    ev, sym = _shanghai_tools(shanghai)
    case = next(c for c in _shanghai_cases() if c.id == case_id)
    p = parse_person(shanghai, case.person)
    a = counterfactual(sym, ev, p, output, value, (), 60000, engine="search")
    b = counterfactual(sym, ev, p, output, value, (), 60000, engine="optimize")
    assert a.status == b.status == "found"
    assert (len(a.changed), a.distance) == (len(b.changed), b.distance)


def test_search_and_optimize_agree_on_mini(mini: ir.RuleSet, mini_sym: Symbolic) -> None:
    ev = EvalBackend(mini)
    for output, value in [("group", "elder"), ("fee", 0), ("flags", "priority"), ("start_date", dt.date(2025, 6, 1))]:
        a = counterfactual(mini_sym, ev, mini_person(), output, value, (), 20000, engine="search")
        b = counterfactual(mini_sym, ev, mini_person(), output, value, (), 20000, engine="optimize")
        assert (a.status, len(a.changed), a.distance) == (b.status, len(b.changed), b.distance), output


def test_counterfactual_no_rule_gives_the_value(mini: ir.RuleSet, mini_sym: Symbolic) -> None:
    cf = counterfactual(mini_sym, EvalBackend(mini), mini_person(), "fee", 1, (), 10000)
    assert cf.status == "impossible"  # the fee table has no 1, fee.poor gives 0
    assert {b.id for b in cf.blockers} == {"fee.table", "fee.poor"}


def test_counterfactual_timeout_is_unknown_not_impossible(shanghai: ir.RuleSet) -> None:
    ev, sym = _shanghai_tools(shanghai)
    case = next(c for c in _shanghai_cases() if c.id == "emp_paid_3")
    p = parse_person(shanghai, case.person)
    cf = counterfactual(sym, ev, p, "employee_benefits_active", False, (), timeout_ms=1)
    assert cf.status == "unknown" and "1 ms limit" in cf.reason  # this slice needs ~0.5 s
    text = render.text([cf_steps(cf, shanghai, lang="en")])
    assert "unknown: the solver gave up" in text and "no change" not in text
    assert counterfactual(sym, ev, p, "employee_benefits_active", False, (), 60000).status == "found"


def test_counterfactual_rejects_bad_fix(mini: ir.RuleSet, mini_sym: Symbolic) -> None:
    with pytest.raises(InputError, match="unknown field"):
        counterfactual(mini_sym, EvalBackend(mini), mini_person(), "group", "elder", ["birthday"])


# ---------------------------------------------------------------- consultant


def test_consult_proves_more_than_kleene_and_ranks_fields(mini: ir.RuleSet, mini_sym: Symbolic) -> None:
    p = {k: v for k, v in mini_person().items() if k != "birth"}
    c = Consultant(mini, EvalBackend(mini), mini_sym, verify=True).consult(p, timeout_ms=10000)
    by = {o.output: o for o in c.outputs}
    # priority needs 'exempt' not in flags, but income 0 puts it there: false whatever the birth
    assert by["priority"].status == "determined" and not by["priority"].by_eval
    assert by["priority"].result.values == (False,)
    assert by["covered"].status == "determined" and by["covered"].by_eval
    assert by["group"].status == "open" and by["group"].deciders == ("birth",)
    assert c.ask[0].field == "birth" and set(c.ask[0].outputs) == {"group", "fee", "flags", "start_date"}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(person=persons(MINI_RS, partial=True))
def test_consult_agrees_with_eval(person: dict[str, Any]) -> None:
    """verify=True makes z3 re-prove what eval already knows: any disagreement raises."""
    c = Consultant(MINI_RS, EvalBackend(MINI_RS), verify=True).consult(person, timeout_ms=10000)
    for o in c.outputs:
        assert o.status in ("determined", "open")
        if o.status == "open":
            assert o.deciders, o.output  # an open output depends on some missing field


def test_consult_cli_text_and_json(cached_rules: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(MINI), str(DATA / "mini_partial.yaml"), "--consult", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["consultation"]["ask"][0]["field"] == "birth"
    assert data["steps"][0]["kind"] == "output"


# ---------------------------------------------------------------- command line


def test_cli_counterfactual_json(cached_rules: None, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["explain", str(MINI), str(MINI / "cases" / "mini.yaml"), "--case", "child_local"]
    assert main([*args, "--counterfactual", "group=elder", "--fix", "hukou", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counterfactual"]["status"] == "found"
    assert data["counterfactual"]["changes"] == [
        {"field": "birth", "old": "2015-05-01", "new": "1955-12-31", "distance": 21671}
    ]


def test_cli_errors_name_what_is_allowed(cached_rules: None, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["explain", str(MINI), str(MINI / "cases" / "mini.yaml"), "--case", "child_local"]
    assert main([*args, "--counterfactual", "grup=elder"]) == 2
    assert "unknown output 'grup'" in capsys.readouterr().err
    assert main([*args, "--why-not", "group"]) == 2
    assert "is not OUTPUT=VALUE" in capsys.readouterr().err
    assert main([*args, "--counterfactual", "group=elderly"]) == 2
    assert "allowed: child, adult, elder, student" in capsys.readouterr().err


def test_step_json_round_trip() -> None:
    s = Step("rule", "r", True, ("M:1",), "q", (Step("condition", "c", None, unknown=True),))
    assert s.to_json() == {
        "kind": "rule",
        "title": "r",
        "holds": True,
        "clauses": ["M:1"],
        "quote": "q",
        "children": [{"kind": "condition", "title": "c", "unknown": True}],
    }


# ---------------------------------------------------------------- readable `decide` of the shipped samples

SAMPLES = ROOT / "rules" / "shanghai" / "samples"


@cache
def _decide_samples(lang: str) -> dict[str, str]:
    """`elig decide rules/shanghai samples/ --lang LANG`, in process, split into one text per sample."""
    import contextlib
    import io

    from solver.cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["decide", str(ROOT / "rules" / "shanghai"), str(SAMPLES), "--lang", lang]) == 0
    text = buf.getvalue().replace(str(ROOT) + "/", "")
    blocks = ["== " + b for b in text.split("\n== ") if b]
    blocks[0] = blocks[0].removeprefix("== ")
    return {b.split()[1]: b.rstrip("\n") + "\n" for b in blocks}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("sample", sorted(p.stem for p in SAMPLES.glob("*.yaml")))
def test_decide_golden(sample: str, lang: str) -> None:
    out = _decide_samples(lang)[sample]
    path = GOLDEN.parent / "decide" / f"{sample}_{lang}.txt"
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(out, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{path} did not exist and was written; review it and run again")
    assert out == path.read_text(encoding="utf-8"), f"{path.name} differs; ELIG_UPDATE_GOLDEN=1 rewrites it"


def test_decide_shows_other_readings_and_collapses_what_does_not_concern() -> None:
    out = _decide_samples("en")["spouse_other_province_2026"]
    # the variable waiting period is 1 month by default and 0 under the other reading (002 问答5)
    assert "variable waiting period in months: 1  [002:Q5]" in out
    assert "depends on the reading: variable_waiting_reading=beyond_first -> 0" in out
    assert "university students: 4 answers not decided" in out
    assert "more answers do not concern this person" in out
    # an amount without a published figure names the missing table and key
    assert "unknown (no parameter resident_individual_contribution for (2026, age_19_59))" in out

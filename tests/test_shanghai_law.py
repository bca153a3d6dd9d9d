"""The Shanghai rule set against the law it encodes: every clause of our checklist is encoded,
every rule cites the law, every quote and clause text is the seed's own words. Skipped where the
sources (../shared) are not beside the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from solver.backends.base import OutputResult
from solver.cases import collect
from solver.coverage import cases_of, coverage
from solver.language.loader import load_ruleset

ROOT = Path(__file__).resolve().parents[1]
SHANGHAI = ROOT / "rules" / "shanghai"
SHARED = ROOT.parent / "shared"
needs_sources = pytest.mark.skipif(not (SHARED / "law" / "clauses.yaml").exists(), reason="../shared is absent")


def _checklist() -> list[str]:
    data = yaml.safe_load((SHARED / "law" / "clauses.yaml").read_text(encoding="utf-8"))
    return [str(c["id"]) for c in data["clauses"]]


def _seed(file: str) -> str:
    return (SHARED / "seeds" / file).read_text(encoding="utf-8")


@needs_sources
def test_every_checklist_clause_is_cited_by_a_rule() -> None:
    rs = load_ruleset(SHANGHAI)
    cited = {c for r in rs.rules for c in r.cites}
    missing = [c for c in _checklist() if c not in cited]
    assert not missing, f"clauses with no rule: {missing}"
    assert len(_checklist()) == 73


def test_every_rule_cites_and_quotes_a_clause() -> None:
    rs = load_ruleset(SHANGHAI)
    for r in rs.rules:
        assert r.cites, r.id
        assert r.quote and any(r.quote in rs.clauses[c].text for c in r.cites), r.id


@needs_sources
def test_every_clause_text_and_quote_is_in_its_seed() -> None:
    rs = load_ruleset(SHANGHAI)
    seeds = {sid: _seed(src.file) for sid, src in rs.sources.items()}
    for cid, clause in rs.clauses.items():
        assert clause.text in seeds[clause.source], f"{cid}: clause text is not the seed's own words"
    for r in rs.rules:
        assert any(r.quote in seeds[rs.clauses[c].source] for c in r.cites), r.id


@needs_sources
def test_coverage_of_the_checklist_by_rules_and_cases() -> None:
    rs = load_ruleset(SHANGHAI)
    cov = coverage(rs, cases_of(SHANGHAI))
    incomplete = [c for c in _checklist() if not cov.clauses[c].complete]
    assert not incomplete, f"clauses without rules and cases: {incomplete}"
    # at least two worked cases per checklist clause
    thin = [c for c in _checklist() if len(cov.clauses[c].cases) < 2]
    assert not thin, f"clauses with fewer than two cases: {thin}"


def test_worked_cases_say_how_they_were_worked() -> None:
    for path, case in collect([SHANGHAI / "cases"]):
        assert case.worked.strip(), f"{path}: {case.id} has no worked reasoning"
        assert case.expect, f"{path}: {case.id} expects nothing"


# ---------------------------------------------------------------- deadlines with an hour (002 问答2, 002/004 共济缴费)


def _decide_2025_payment(**extra: object) -> OutputResult:
    from solver.backends import make
    from solver.passes.options import resolve
    from solver.person import parse_person

    rs = load_ruleset(SHANGHAI)
    person = {
        "insurance_year": 2025,
        "birth_date": "1980-05-10",
        "paid_for_year": True,
        "insured_previous_year": True,
        "gap_years": 0,
        "consecutive_gap_years": 0,
        "backpaid_years": 0,
        "switched_scheme_for_status_change": False,
        **extra,
    }
    return make("eval", resolve(rs)).decide(parse_person(rs, person))["enrolment_in_central_period"]


def test_closing_day_without_a_time_is_unknown_and_names_the_time() -> None:
    r = _decide_2025_payment(payment_date="2024-12-25")
    assert r.status == "unknown" and r.missing == ("payment_time",)
    assert _decide_2025_payment(payment_date="2024-12-25", payment_time="17:29").value is True
    assert _decide_2025_payment(payment_date="2024-12-25", payment_time="17:31").value is False
    assert _decide_2025_payment(payment_date="2024-12-24").value is True


def test_a_time_of_day_is_hh_mm_and_a_bad_one_names_the_field() -> None:
    from solver import ir
    from solver.errors import InputError
    from solver.person import parse_value

    assert parse_value("payment_time", ir.TIME_OF_DAY, "17:30") == 17 * 60 + 30
    for bad in ("24:00", "17:60", "5pm", True):
        with pytest.raises(InputError, match="payment_time"):
            parse_value("payment_time", ir.TIME_OF_DAY, bad)

"""The property language (properties.yaml): every output kind can be named, the file is read by a
strict model with positioned errors, and the Shanghai drafter properties hold on the committed set."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from solver import ir
from solver.backends.eval_backend import EvalBackend
from solver.checks.engine import Checker, with_definitions
from solver.checks.findings import Finding
from solver.checks.properties import Property, check_properties, load_properties
from solver.errors import RuleError, RuleErrors
from solver.language.loader import load_ruleset
from solver.passes.options import resolve

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "data" / "mini"
SHANGHAI = ROOT / "rules" / "shanghai"


def _mini_with(tmp_path: Path, text: str) -> tuple[ir.RuleSet, Path]:
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    (folder / "properties.yaml").write_text(text, encoding="utf-8")
    return resolve(load_ruleset(folder)), folder


def _prove(rs: ir.RuleSet, props: list[Property]) -> list[Finding]:
    ch = Checker(rs)
    step = check_properties(props)
    return [f for span in ch.spans() for f in step(ch, span, ch.span_term(span))]


MINI_PROPERTIES = """\
properties:
  - id: no_hukou_no_fee_unless_poor
    cites: ["M:1"]
    quote: "本市户籍人员可以参保"
    assume: "hukou == 'none' and not poor"
    prove: "is_none(fee)"
  - id: no_hukou_no_fee
    cites: ["M:1"]
    quote: "本市户籍人员可以参保"
    assume: "hukou == 'none'"
    prove: "is_none(fee)"
  - id: poor_adult_pays_nothing
    cites: ["M:2"]
    quote: "按少儿标准缴费"
    assume: "poor and group == 'adult' and year >= 2025 and hukou == 'none'"
    prove: "fee == 0 and not is_none(fee)"
  - id: benefits_start_after_payment
    cites: ["M:3"]
    quote: "待遇起始日期为缴费到账日加等待期月数"
    assume: "gap_years > 0"
    prove: "start_date > paid and start_date <= 2028-09-30"
  - id: no_income_is_exempt
    cites: ["M:2"]
    quote: "在校学生除外"
    assume: "income == 0"
    prove: "'exempt' in flags and not is_none(flags)"
  - id: share_follows_its_table
    cites: ["M:1"]
    quote: "可以参保"
    assume: "covered and level == 'l2'"
    prove: "share == share_table[level] and share == 75"
  - id: dates_as_keys
    cites: ["M:3"]
    quote: "缴费到账日"
    for: {d: date, y: int}
    prove: "fee_table[y, 'child'] < fee_table[y, 'adult']"
"""


def test_every_output_kind_can_be_named(tmp_path: Path) -> None:
    rs, folder = _mini_with(tmp_path, MINI_PROPERTIES)
    props = load_properties(rs, folder)
    found = {f.subject: f for f in _prove(rs, props)}
    # Exactly one fails: a poor adult without hukou gets fee 0 from fee.poor (from 2025).
    assert set(found) == {"no_hukou_no_fee"}, found
    w = found["no_hukou_no_fee"].witness
    assert w is not None and w["hukou"] == "none" and w["poor"] is True and int(str(w["year"])) >= 2025


def test_is_none_means_no_value_in_both_backends(tmp_path: Path) -> None:
    """is_none(fee) by eval: false where fee has a value, true where its status is none."""

    rs, folder = _mini_with(tmp_path, MINI_PROPERTIES)
    none_fee = next(p for p in load_properties(rs, folder) if p.id == "no_hukou_no_fee").prove
    ev = EvalBackend(with_definitions(rs, {"__none": none_fee}))
    person = {
        "year": 2025, "birth": dt.date(1990, 5, 1), "paid": dt.date(2024, 12, 1), "hukou": "none",
        "student": False, "poor": True, "level": "l1", "gap_years": 0, "backpaid": 0, "income": 5000,
    }
    _, trace = ev.decide_traced(person)
    assert ev.decide(person)["fee"].status == "ok" and trace.env["__none"] is False
    _, trace = ev.decide_traced({**person, "poor": False})
    assert ev.decide({**person, "poor": False})["fee"].status == "none" and trace.env["__none"] is True


@pytest.mark.parametrize(
    ("entry", "message", "line", "col"),
    [
        ("    prove: 'true'\n    proove: 'x'\n", "unknown key 'proove'", 8, 5),
        ("    prove: 'is_none(covered)'\n", "has a default", 7, 21),
        ("    prove: 'is_none(age)'\n", "needs an output", 7, 21),
        ("    prove: 'is_none(fee, flags)'\n", "takes one name", 7, 13),
        ("    prove: 'fee == 0'\n    for: {k: colour}\n", "unknown key type 'colour'", 8, 14),
        ("    prove: \"group == 'adults'\"\n", "'adults' is not a value of group", 7, 22),
    ],
)
def test_errors_have_positions(tmp_path: Path, entry: str, message: str, line: int, col: int) -> None:
    text = (
        "# drafter properties\nproperties:\n  - id: p\n    cites: [\"M:1\"]\n    quote: \"可以参保\"\n"
        "    doc: a property\n" + entry
    )
    rs, folder = _mini_with(tmp_path, text)
    with pytest.raises((RuleError, RuleErrors)) as e:
        load_properties(rs, folder)
    err = e.value.errors[0] if isinstance(e.value, RuleErrors) else e.value
    assert message in str(err), str(err)
    assert (err.loc.file.endswith("properties.yaml"), err.loc.line, err.loc.col) == (True, line, col), str(err)


def test_a_quote_must_be_the_cited_clause_s_words(tmp_path: Path) -> None:
    text = "properties:\n  - id: p\n    cites: [\"M:1\"]\n    quote: \"在校学生除外\"\n    prove: 'true'\n"
    rs, folder = _mini_with(tmp_path, text)
    with pytest.raises(RuleError, match="quote is not in the text") as e:
        load_properties(rs, folder)
    assert (e.value.loc.line, e.value.loc.col) == (4, 13)


def test_a_property_id_is_declared_once(tmp_path: Path) -> None:
    one = "  - id: p\n    cites: [\"M:1\"]\n    quote: \"可以参保\"\n    prove: 'true'\n"
    rs, folder = _mini_with(tmp_path, "properties:\n" + one + one)
    with pytest.raises(RuleError, match="declared twice") as e:
        load_properties(rs, folder)
    assert e.value.loc.line == 6


def test_shanghai_properties_cover_every_programme_and_hold() -> None:
    rs = resolve(load_ruleset(SHANGHAI))
    props = load_properties(rs, SHANGHAI)
    programmes = {"000": "resident", "002": "resident", "004": "resident", "001": "employee", "003": "college"}
    covered = {programmes[c.split(":")[0]] for p in props for c in p.cites}
    assert covered == {"resident", "employee", "college"}
    assert all(p.quote and any(p.quote in rs.clauses[c].text for c in p.cites) for p in props)
    failing = _prove(rs, props)
    assert failing == [], [(f.subject, f.explanation, f.witness) for f in failing]

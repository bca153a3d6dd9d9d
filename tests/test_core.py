"""Unit and property tests of the core: parsing round-trips, three-valued evaluation, person
input errors, option resolution and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solver import dates, ir
from solver.backends.eval_backend import EvalBackend
from solver.cli import main
from solver.errors import InputError
from solver.language.expressions import NameInfo, ParamInfo, Scope, parse
from solver.language.loader import load_ruleset
from solver.passes.options import resolve
from solver.person import parse_person
from solver.printer import to_text
from solver.semantics.reasons import no_parameter

MINI = Path(__file__).parent / "data" / "mini"
LOC = ir.Loc("<test>", 1, 1)


@pytest.fixture(scope="module")
def mini() -> ir.RuleSet:
    return resolve(load_ruleset(MINI))


def base_person(**over: Any) -> dict[str, Any]:
    p: dict[str, Any] = {
        "year": 2025,
        "birth": dt.date(1990, 5, 1),
        "paid": dt.date(2025, 1, 10),
        "hukou": "local",
        "student": False,
        "poor": False,
        "level": "l1",
        "gap_years": 0,
        "backpaid": 0,
        "income": 20000,
    }
    p.update(over)
    return p


# ---------------------------------------------------------------- printer round trip

SCOPE_TYPES: dict[str, ir.Type] = {
    "a": ir.BOOL,
    "b": ir.BOOL,
    "n": ir.IntT(0, 100),
    "m": ir.IntT(0, 100),
    "d": ir.ANY_DATE,
    "h": ir.EnumT("h", ("x", "y", "z")),
}
SCOPE = Scope(
    lambda name, loc: NameInfo("input", SCOPE_TYPES[name]) if name in SCOPE_TYPES else None,
    {"t": ParamInfo((ir.IntT(0, 9),), ir.IntT(0, 9))},
    lambda: list(SCOPE_TYPES),
)


def _bool_exprs() -> st.SearchStrategy[str]:
    ints = st.recursive(
        st.sampled_from(["n", "m", "3", "year(d)", "t[n]", "days_between(d, 2024-02-29)"]),
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda x: f"{x} * 2"),
            inner.map(lambda x: f"-{x}"),
            inner.map(lambda x: f"{x} // 3"),
            st.tuples(st.sampled_from(["a", "b"]), inner, inner).map(lambda t: f"(if {t[0]} then {t[1]} else {t[2]})"),
        ),
        max_leaves=6,
    )
    atoms = st.one_of(
        st.sampled_from(["a", "b", "true", "h == 'x'", "h in ['x', 'z']", "h not in ['y']"]),
        st.tuples(ints, st.sampled_from(["<", "<=", "==", "!=", ">", ">="]), ints).map(" ".join),
    )
    return st.recursive(
        atoms,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda x: f"not {x}"),
        ),
        max_leaves=6,
    )


@settings(max_examples=300, deadline=None)
@given(_bool_exprs())
def test_printed_expressions_parse_back_to_the_same_ir(text: str) -> None:
    e = parse(text, LOC, SCOPE, ir.BOOL)
    again = parse(to_text(e), LOC, SCOPE, ir.BOOL)
    assert again == e
    assert to_text(again) == to_text(e)


# ---------------------------------------------------------------- evaluation


def test_kleene_false_and_unknown_is_false(mini: ir.RuleSet) -> None:
    ev = EvalBackend(mini)
    p = base_person(hukou="none")
    del p["level"]
    d = ev.decide(p)
    assert d["share"].status == "none"  # covered is false whatever the level
    del p["income"]
    assert ev.decide(p)["flags"].status == "unknown"
    assert ev.decide(p)["flags"].missing == ("income",)


def test_unknown_names_missing_inputs(mini: ir.RuleSet) -> None:
    d = EvalBackend(mini).decide({"hukou": "local"})
    assert d["group"].status == "unknown"
    assert d["group"].missing == ("birth", "student", "year")


def test_lookup_miss_is_unknown_with_reason(mini: ir.RuleSet) -> None:
    d = EvalBackend(mini).decide(base_person(year=2024))
    assert d["fee"].status == "unknown"
    assert d["fee"].reasons == (no_parameter("fee_table", (2024, "adult")),)
    assert str(d["fee"].reasons[0]) == "no parameter fee_table for (2024, adult)"
    assert d["fee"].reasons[0].text("zh") == "参数表 fee_table 没有 (2024, adult) 这一行"


def test_exception_and_conflict(mini: ir.RuleSet) -> None:
    ev = EvalBackend(mini)
    assert ev.decide(base_person(birth=dt.date(2012, 1, 1), student=True))["group"].value == "student"
    conflict = ev.decide(base_person(birth=dt.date(1960, 1, 1)))["group"]
    assert conflict.status == "conflict" and conflict.values == ("adult", "elder")


def test_gap_when_no_rule_applies(mini: ir.RuleSet) -> None:
    d = EvalBackend(mini).decide(base_person(birth=dt.date(1990, 1, 1), student=True))
    assert d["group"].status == "gap"


def test_options_change_the_result() -> None:
    rs = load_ruleset(MINI)
    p = base_person(paid=dt.date(2025, 10, 31), gap_years=1, year=2026)
    clamp = EvalBackend(resolve(rs, {"month_end": "clamp"})).decide(p)["start_date"].value
    roll = EvalBackend(resolve(rs, {"month_end": "roll"})).decide(p)["start_date"].value
    assert (clamp, roll) == (dt.date(2026, 2, 28), dt.date(2026, 3, 1))


def test_unknown_option_is_an_error() -> None:
    with pytest.raises(InputError, match="no such option"):
        resolve(load_ruleset(MINI), {"month_edn": "clamp"})
    with pytest.raises(InputError, match="allowed: clamp, roll"):
        resolve(load_ruleset(MINI), {"month_end": "clip"})


@settings(max_examples=500, deadline=None)
@given(st.dates(dt.date(1901, 3, 1), dt.date(2099, 10, 1)), st.integers(-30, 30))
def test_add_months_stays_in_target_month(d: dt.date, n: int) -> None:
    for rule in ("clamp", "roll"):
        if not dates.FIRST_YEAR <= (dates.month_index(d) + n) // 12 <= dates.LAST_YEAR:
            with pytest.raises(dates.OffCalendar):  # off the calendar: unknown in every backend
                dates.add_months(d, n, rule)
            continue
        r = dates.add_months(d, n, rule)
        assert dates.month_index(r) in (dates.month_index(d) + n, dates.month_index(d) + n + (rule == "roll"))
        assert r.day == d.day or r.day in (1, dates.month_length(r.year, r.month))


# ---------------------------------------------------------------- person input


def test_person_errors_name_field_and_domain(mini: ir.RuleSet) -> None:
    with pytest.raises(InputError) as e:
        parse_person(mini, {"hukuo": "local"})
    assert "field 'hukuo'" in str(e.value) and "did you mean 'hukou'" in str(e.value)
    with pytest.raises(InputError, match="from 2023 to 2027"):
        parse_person(mini, {"year": 2031})
    with pytest.raises(InputError, match="allowed: local, other, none"):
        parse_person(mini, {"hukou": "Shanghai"})
    with pytest.raises(InputError, match="not a date"):
        parse_person(mini, {"birth": "1990-02-30"})
    with pytest.raises(InputError, match="not a boolean"):
        parse_person(mini, {"student": "yes"})
    assert parse_person(mini, {"birth": "1990-02-28", "level": None}) == {"birth": dt.date(1990, 2, 28)}


# ---------------------------------------------------------------- CLI


def test_decide_json_and_bad_rows_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "people.yaml"
    f.write_text(
        "- id: ok\n  person: {hukou: local, year: 2025, birth: 2015-01-01, student: false}\n"
        "- id: bad\n  person: {hukou: mars}\n",
        encoding="utf-8",
    )
    code = main(["decide", str(MINI), str(f), "--format", "json"])
    out, err = capsys.readouterr()
    rows = json.loads(out)
    assert code == 2  # one row had an error; it is reported, not dropped
    assert [r["id"] for r in rows] == ["ok", "bad"]
    assert rows[0]["outputs"]["group"]["values"] == ["child"]
    assert rows[0]["outputs"]["group"]["clauses"] == ["M:2"]
    assert "error" in rows[1] and "mars" in err


def test_schema_is_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["additionalProperties"] is False
    assert "rules" in schema["properties"]


def test_explain_cites_clauses(capsys: pytest.CaptureFixture[str]) -> None:
    case = MINI / "cases" / "mini.yaml"
    assert main(["explain", str(MINI), str(case), "--output", "group", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "g.child ✓  [M:2]  「未满18周岁」" in out
    assert "age = 10 < 18 ✓" in out

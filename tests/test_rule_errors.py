"""Golden tests: each broken rule file gives exactly the recorded error message, with position.

To record a new golden file: ELIG_UPDATE_GOLDEN=1 pytest tests/test_rule_errors.py, then read it."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from solver.errors import RuleError, RuleErrors
from solver.language.loader import load_ruleset

GOLDEN = Path(__file__).parent / "golden" / "errors"

BASE = """\
ruleset: {name: t, time: year}
sources:
  "S": {title: a source, status: draft}
clauses:
  "S:1": {source: "S", text: "本市户籍的18周岁及以下人员。"}
types:
  hukou: {values: [shanghai, other]}
  cat: {values: [child, adult]}
inputs:
  year: {type: int, range: [2020, 2030]}
  birth: {type: date}
  hukou: {type: hukou}
outputs:
  category: {type: cat, cardinality: exactly_one}
  note: {type: cat, cardinality: at_most_one}
"""

RULE = """\
rules:
  - id: r.child
    cites: ["S:1"]
    quote: "18周岁及以下"
    when: {when}
    then: {{category: child}}
"""

BROKEN = {
    "bad_yaml": "rules:\n  - id: r\n   cites: [x]\n",
    "unknown_key": RULE.format(when="hukou == 'shanghai'").replace("    when:", "    wen:"),
    "duplicate_key": RULE.format(when="true").replace("    then:", "    when: false\n    then:"),
    "parse_error": RULE.format(when="hukou = 'shanghai'"),
    "parse_error_eof": RULE.format(when="'(year - 2000 <= 18 and'"),
    "undefined_name": RULE.format(when="hukuo == 'shanghai'"),
    "unknown_enum_value": RULE.format(when="hukou == 'shanghia'"),
    "type_error_compare": RULE.format(when="year <= birth"),
    "type_error_and": RULE.format(when="year and hukou == 'shanghai'"),
    "ordering_enum": RULE.format(when="hukou < 'shanghai'"),
    "nonlinear": RULE.format(when="year * year > 10"),
    "unknown_function": RULE.format(when="age(birth, year) <= 18"),
    "wrong_arity": RULE.format(when="year_end_age(birth) <= 18"),
    "unknown_clause": RULE.format(when="true").replace('["S:1"]', '["S:9"]'),
    "quote_not_in_clause": RULE.format(when="true").replace("18周岁及以下", "18周岁以下"),
    "cites_not_a_list": RULE.format(when="true").replace('["S:1"]', '"S:1"'),
    "missing_when": RULE.format(when="true").replace("    when: true\n", ""),
    "unknown_output": RULE.format(when="true").replace("{category: child}", "{categroy: child}"),
    "bad_output_value": RULE.format(when="true").replace("{category: child}", "{category: kid}"),
    "unknown_exception": RULE.format(when="true") + "    unless: [r.adlut]\n",
    "at_most_one_reference": RULE.format(when="note == 'child'"),
    "definition_cycle": 'definitions:\n  a: {expr: "b + 1"}\n  b: {expr: "a - 1"}\n',
    "int_input_without_range": "inputs:\n  months: {type: int}\n",
    "unknown_type": "inputs:\n  level: {type: hospital_level}\n",
    "duplicate_across_files": "inputs:\n  year: {type: int, range: [2020, 2030]}\n",
    "rule_exception_cycle": RULE.format(when="true").replace("    then:", "    unless: [r.child]\n    then:"),
    # a broken definition is reported once, at the definition, not again at every use
    "broken_definition_reused": 'definitions:\n  local: {expr: "hukuo == \'shanghai\'", type: bool}\n'
    + RULE.format(when="local")
    + RULE.format(when="local and year > 2020").replace("rules:\n", "").replace("r.child", "r.child2"),
}


def _error_text(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> str:
    root = tmp_path / "rs"
    root.mkdir()
    (root / "a_base.yaml").write_text(BASE, encoding="utf-8")
    (root / "b_broken.yaml").write_text(BROKEN[name], encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises((RuleError, RuleErrors)) as info:
        load_ruleset(root)
    return str(info.value).strip() + "\n"


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_golden_error(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _error_text(tmp_path, name, monkeypatch)
    golden = GOLDEN / f"{name}.txt"
    if os.environ.get("ELIG_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file for {name}; record it with ELIG_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")
    assert "rs/b_broken.yaml:" in text or "rs/a_base.yaml:" in text  # every message has a position


def test_every_error_names_line_and_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i, name in enumerate(sorted(BROKEN)):
        sub = tmp_path / str(i)
        sub.mkdir()
        text = _error_text(sub, name, monkeypatch)
        first = text.splitlines()[0]
        file, line, col = first.split(":")[:3]
        assert file.endswith(".yaml") and int(line) > 0 and int(col) > 0, (name, first)


def test_base_loads(tmp_path: Path) -> None:
    root = tmp_path / "rs"
    root.mkdir()
    (root / "a.yaml").write_text(BASE + textwrap.dedent(RULE.format(when="hukou == 'shanghai'")), encoding="utf-8")
    rs = load_ruleset(root)
    assert [r.id for r in rs.rules] == ["r.child"]

"""`decide`'s what-to-ask line: the missing fields ranked by how many of the open answers each
decides (whatever the reply, then for some reply, then how many lack it, then the name), on a
rule set small enough to work the ranking out by hand."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from explain.decision import AskNext, decision_text, open_answers, tried_values
from solver.backends.eval_backend import EvalBackend
from solver.cli import main
from solver.language.loader import load_ruleset

RULES = """\
ruleset: {name: ask}
sources:
  "A": {title: a made-up notice for tests, status: draft}
clauses:
  "A:1": {source: "A", where: "1", text: "符合条件的可以参保。"}
types:
  kind: {values: [x, y, z]}
inputs:
  a: {type: bool, zh: 甲项}
  b: {type: bool}
  c: {type: kind}
  n: {type: int, range: [0, 100]}
outputs:
  p: {type: bool, cardinality: exactly_one, default: false}
  q: {type: bool, cardinality: exactly_one, default: false}
  r: {type: bool, cardinality: exactly_one, default: false}
  s: {type: bool, cardinality: exactly_one, default: false}
  t: {type: bool, cardinality: exactly_one, default: false}
  known: {type: bool, cardinality: exactly_one, default: false}
rules:
  - {id: p.yes, cites: ["A:1"], quote: "可以参保", when: "a", then: {p: true}}
  - {id: q.yes, cites: ["A:1"], quote: "可以参保", when: "a and b", then: {q: true}}
  - {id: r.yes, cites: ["A:1"], quote: "可以参保", when: "b or c == 'x'", then: {r: true}}
  - {id: s.yes, cites: ["A:1"], quote: "可以参保", when: "c == 'y'", then: {s: true}}
  - {id: t.yes, cites: ["A:1"], quote: "可以参保", when: "n >= 50", then: {t: true}}
  - {id: known.yes, cites: ["A:1"], quote: "符合条件", when: "true", then: {known: true}}
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    rules, cases = tmp_path / "rules", tmp_path / "cases"
    rules.mkdir()
    cases.mkdir()
    (rules / "ask.yaml").write_text(RULES, encoding="utf-8")
    (cases / "nobody.yaml").write_text("id: nobody\nperson: {}\n", encoding="utf-8")
    return rules, cases / "nobody.yaml"


def _decide(*args: str) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["decide", *args]) == 0
    return buf.getvalue()


def test_ranking_worked_by_hand(files: tuple[Path, Path]) -> None:
    """With nothing known: a decides p whatever it is and q when false (a and b); c decides s
    whatever it is and r when x (b or c == 'x'); n decides t; b decides q when false and r when
    true but nothing whatever it is. a and c tie (1, 2, 2 lacking) and go by name."""
    rs = load_ruleset(files[0])
    ev = EvalBackend(rs)
    d = ev.decide({})
    names = open_answers(rs, d)
    assert names == ["p", "q", "r", "s", "t"]
    ranking = AskNext(rs)({}, d, names, ev.decide)
    assert [(a.field, a.always, a.sometimes, a.lacking) for a in ranking] == [
        ("a", 1, 2, 2),
        ("c", 1, 2, 2),
        ("n", 1, 1, 1),
        ("b", 0, 2, 2),
    ]
    text = decision_text(rs, "nobody", d, lang="en", ask=ranking)
    assert text.splitlines()[-1] == (
        " what to ask next (answers each decides whatever the reply + more for some replies / answers lacking it):"
        " a (1+1/2), c (1+1/2), n (1/1), and 1 more"
    )
    zh = decision_text(rs, "nobody", d, lang="zh", ask=ranking)
    assert zh.splitlines()[-1].endswith(": 甲项 (1+1/2)、c (1+1/2)、n (1/1)、另有 1 项信息")


def test_a_known_field_leaves_the_ranking(files: tuple[Path, Path]) -> None:
    """Once a is false, p and q are decided; b now decides nothing more than r when true."""
    rs = load_ruleset(files[0])
    ev = EvalBackend(rs)
    d = ev.decide({"a": False})
    names = open_answers(rs, d)
    assert names == ["r", "s", "t"]
    ranking = AskNext(rs)({"a": False}, d, names, lambda p: ev.decide({"a": False, **p}))
    assert [(a.field, a.always, a.sometimes) for a in ranking] == [("c", 1, 2), ("n", 1, 1), ("b", 0, 1)]


def test_a_reply_the_constraints_forbid_is_not_tried(tmp_path: Path) -> None:
    """With a true, the constraint leaves c only x: c then decides r (b or true) and s (false)
    whatever the reply. Were y and z tried, c would tie with b at (1, 2) and come second by name."""
    rules = RULES.replace("outputs:", "constraints:\n  - {id: x_when_a, expr: \"not a or c == 'x'\"}\noutputs:")
    (tmp_path / "ask.yaml").write_text(rules, encoding="utf-8")
    rs = load_ruleset(tmp_path)
    ev = EvalBackend(rs)
    d = ev.decide({"a": True})
    names = open_answers(rs, d)
    assert names == ["q", "r", "s", "t"]
    ranking = AskNext(rs)({"a": True}, d, names, ev.decide)
    assert [(a.field, a.always, a.sometimes) for a in ranking] == [("c", 2, 2), ("b", 1, 2), ("n", 1, 1)]


def test_tried_values_are_the_domain_and_the_compared_edges(files: tuple[Path, Path]) -> None:
    values = tried_values(load_ruleset(files[0]))
    assert values["n"] == (0, 49, 50, 51, 100)
    assert values["c"] == ("x", "y", "z")
    assert values["a"] == (False, True)


def test_decide_text_is_the_same_twice_and_json_carries_the_ranking(files: tuple[Path, Path]) -> None:
    rules, person = files
    first = _decide(str(rules), str(person), "--lang", "en")
    assert first == _decide(str(rules), str(person), "--lang", "en")
    assert "a (1+1/2), c (1+1/2), n (1/1), and 1 more" in first
    [case] = json.loads(_decide(str(rules), str(person), "--format", "json"))
    assert case["ask"][0] == {"field": "a", "decides_always": 1, "decides_sometimes": 2, "lacking": 2}
    assert [a["field"] for a in case["ask"]] == ["a", "c", "n", "b"]

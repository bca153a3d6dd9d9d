"""Bad input never crashes elig, never hangs it and never runs as code: one regression test per
reproducer class of the robustness report (reading, names, expressions, dates, CLI)."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import pytest

from solver.errors import EligError, RuleError, RuleErrors, excerpt
from solver.language.strict_yaml import MAX_DIGITS, load

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)

BAD_FILES: dict[str, tuple[bytes, str]] = {
    "feb29.yaml": (b"a: 2025-02-29\n", "not a calendar date"),
    "month13.yaml": (b"a: 2025-13-01\n", "not a calendar date"),
    "long_int.yaml": (b"a: " + b"9" * 5000 + b"\n", f"at most {MAX_DIGITS}"),
    "long_int.json": (b'{"a": ' + b"1" * 5000 + b"}", f"at most {MAX_DIGITS}"),
    "merge.yaml": (b"a: &x {b: 1}\nc:\n  <<: *x\n", "merge keys"),
    "python_name.yaml": (b"a: !!python/name:os.system\n", "not allowed"),
    "python_object.yaml": (b"a: !!python/object:os.system {}\n", "not allowed"),
    "unknown_tag.yaml": (b"a: !foo x\n", "not allowed"),
    "nul.yaml": (b"a: b\x00\n", "NUL"),
    "control.yaml": (b"a: b\x08c\n", "control character U+0008"),
    "deep.yaml": (b"[" * 5000 + b"]" * 5000, "nesting deeper"),
    "deep_block.yaml": ("".join(" " * i + "a:\n" for i in range(500)).encode(), "nesting deeper"),
    "huge.yaml": (b"a: " + b"x" * (9 * 1024 * 1024), "too large"),
    "deep.json": (b"[" * 100_000 + b"]" * 100_000, "nesting deeper"),
    "recursive.yaml": (b"a: &a [*a]\n", "recursive alias"),
    "laughs.yaml": (LAUGHS.encode(), "values"),
    "dup.json": (b'{"a": 1,\n "a": 2}', "duplicate key"),
    "dup.yaml": (b"a: 1\na: 2\n", "duplicate key"),
    "latin1.yaml": (b"a: \xe9t\xe9\n", "not UTF-8"),
    "cut.yaml": ("a: 中".encode()[:-1], "not UTF-8"),
    "utf16_no_bom.yaml": ("a: b\n".encode("utf-16-le"), "NUL"),
    "nan.json": (b'{"a": NaN}', "not a JSON number"),
    "bad.json": (b'{"a": ', "not valid JSON"),
    "bad.yaml": (b"- a\n - b: [\n", "not valid YAML"),
    "binary.yaml": (b"a: !!binary aGk=\n", "not allowed"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_give_positioned_rule_errors(tmp_path: Path, name: str) -> None:
    data, words = BAD_FILES[name]
    (tmp_path / name).write_bytes(data)
    with pytest.raises(RuleError) as e:
        load(tmp_path / name)
    assert words in str(e.value)
    assert e.value.loc.line >= (0 if name == "huge.yaml" else 1)  # a whole-file problem has no line
    assert str(e.value).startswith(str(tmp_path / name) + ":")


def test_utf16_with_bom_and_utf8_bom_are_read(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes("a: 中\n".encode("utf-16"))
    (tmp_path / "b.yaml").write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert load(tmp_path / "a.yaml").data == {"a": "中"}
    assert load(tmp_path / "b.yaml").data == {"a": 1}


def test_yaml_guesses_stay_text() -> None:
    from solver.language.strict_yaml import parse_yaml

    data = parse_yaml("a: 0x7E9\nb: 2_025\nc: on\nd: 2025-01-02\ne: 12\nf: 1:30\ng: 2025-01-02 10:00:00\n", "x").data
    assert data == {
        "a": "0x7E9",
        "b": "2_025",
        "c": "on",
        "d": dt.date(2025, 1, 2),
        "e": 12,
        "f": "1:30",
        "g": "2025-01-02 10:00:00",
    }


def test_paths_that_are_not_files(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "nothing")
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    expected = {
        "dir.yaml": "folder",
        "dangling.yaml": "symbolic link to nothing",
        "loop.yaml": "loop of symbolic links",
        "missing.yaml": "no such file",
        "x" * 300 + ".yaml": "cannot read",
    }
    for name, words in expected.items():
        with pytest.raises(RuleError, match=words):
            load(tmp_path / name)


def test_a_rule_set_with_a_folder_named_yaml(tmp_path: Path) -> None:
    from solver.language.loader import load_ruleset

    (tmp_path / "vocabulary.yaml").write_text("ruleset: {name: x}\n", encoding="utf-8")
    (tmp_path / "odd.yaml").mkdir()
    with pytest.raises(EligError, match="folder"):
        load_ruleset(tmp_path)


def test_excerpt_cuts_long_values() -> None:
    assert excerpt("x" * 10_000).endswith("…") and len(excerpt("x" * 10_000)) == 81
    assert excerpt("short") == "'short'"


# ------------------------------------------------------------------ names never become code

MINI = Path(__file__).parent / "data" / "mini"

# (what, text in vocabulary.yaml, replacement with the payload P in it)
NAME_PLANTS = [  # each adds a well-formed entry whose only fault is its name
    ("input", "inputs:\n", 'inputs:\n  "P": {type: bool}\n'),
    ("definition", "definitions:\n", 'definitions:\n  "P": {expr: "poor and student"}\n'),
    ("output", "outputs:\n", 'outputs:\n  "P": {type: bool, cardinality: exactly_one, default: false}\n'),
    ("parameter", "parameters:\n", 'parameters:\n  "P": {keys: [{name: k, type: int}], type: int, rows: []}\n'),
    ("option", "options:\n", 'options:\n  "P": {values: {a: x, b: y}, default: a, note: n}\n'),
    ("type", "types:\n", 'types:\n  "P": {values: [a, b]}\n'),
    ("enum value", "[l1, l2, l3]", '[l1, l2, l3, "P"]'),
    ("option value", "{clamp: last day of month", '{"P": other, clamp: last day of month'),
    ("parameter key", "{name: level, type: level}", '{name: "P", type: level}'),
    ("input type", "  level: {type: level}", '  level: {type: "P"}'),
    (
        "rule id",
        "rules:\n",
        'rules:\n  - {id: "P", cites: ["M:1"], quote: "可以参保", when: "poor", then: {covered: true}}\n',
    ),
    ("unless", "unless: [g.student]", 'unless: [g.student, "P"]'),
    ("constraint id", "constraints:\n", 'constraints:\n  - {id: "P", expr: "year >= 2023"}\n'),
    ("then key", "then: {covered: true}", 'then: {covered: true, "P": true}'),
    ("valid on", "valid: {on: paid,", 'valid: {on: "P",'),
    ("ruleset time", "time: year", 'time: "P"'),
]
# Texts that may be anything: the rule set loads (or is refused) and decides without running them.
STRING_PLANTS = [
    ("ruleset name", "name: mini", 'name: "P"'),
    ("doc", "  student: {type: bool}", '  student: {type: bool, doc: "P", zh: "P"}'),
    ("expression string", "hukou != 'none'", "hukou != 'Q'"),
    ("then value", "then: {group: child}", 'then: {group: "P"}'),
    ("note text", "note: test}", 'note: "P"}'),
]


def _payloads(marker: Path) -> list[str]:
    m = str(marker)
    return [
        f"x = open({m!r}, 'w') or 1; i_y",
        f"__import__('os').system('touch {m}')",
        f"a\nimport os; os.system('touch {m}')\nb",
        f"a) or open({m!r}, 'w') or (b",
        "a b",
        "a-b",
        "ä",
        "😀",
        "1abc",
        "",
    ]


def _plant(tmp_path: Path, old: str, new: str, payload: str) -> Path:
    import json
    import shutil

    root = tmp_path / "rules"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(MINI, root)
    vocab = root / "vocabulary.yaml"
    text = vocab.read_text(encoding="utf-8")
    assert old in text, old
    quoted = json.dumps(payload, ensure_ascii=False)
    vocab.write_text(text.replace(old, new.replace('"P"', quoted).replace("Q", payload.replace("'", ""))), "utf-8")
    return root


def _decide_all(root: Path) -> None:
    from solver.backends.eval_backend import EvalBackend
    from solver.cases import collect
    from solver.language.loader import load_ruleset
    from solver.passes.options import resolve
    from solver.person import parse_person

    rs = resolve(load_ruleset(root), {})
    backend = EvalBackend(rs)
    for _, case in collect([root / "cases"]):
        person = parse_person(rs, case.person)
        backend.decide(person)
        backend.decide_traced(person)
        backend.decide_traced({k: v for k, v in list(person.items())[:3]})
    for compiled in (backend._full, backend._partial, *backend._traced.values()):
        if compiled is not None:
            for name in [*rs.inputs, *rs.definitions, *rs.outputs]:
                assert f"_{name} " not in compiled.source  # names appear only inside repr'd strings


@pytest.mark.parametrize(("what", "old", "new"), NAME_PLANTS, ids=[p[0] for p in NAME_PLANTS])
def test_injected_names_are_refused(tmp_path: Path, what: str, old: str, new: str) -> None:
    marker = tmp_path / "MARK"
    for payload in _payloads(marker):
        root = _plant(tmp_path, old, new, payload)
        with pytest.raises((RuleError, RuleErrors)) as e:
            _decide_all(root)
        assert not marker.exists(), f"{what}: {payload!r} ran"
        assert "not a name" in str(e.value) or "not an id" in str(e.value) or "unknown" in str(e.value), str(e.value)


@pytest.mark.parametrize(("what", "old", "new"), STRING_PLANTS, ids=[p[0] for p in STRING_PLANTS])
def test_injected_texts_never_run(tmp_path: Path, what: str, old: str, new: str) -> None:
    marker = tmp_path / "MARK"
    for payload in _payloads(marker):
        root = _plant(tmp_path, old, new, payload)
        with contextlib.suppress(EligError):
            _decide_all(root)
        assert not marker.exists(), f"{what}: {payload!r} ran"


def test_injected_person_values_never_run(tmp_path: Path) -> None:
    from solver.errors import InputError
    from solver.language.loader import load_ruleset
    from solver.person import parse_person

    rs = load_ruleset(MINI)
    marker = tmp_path / "MARK"
    for payload in _payloads(marker):
        for field in ("hukou", "year", "birth", "student", payload):
            with pytest.raises(InputError):
                parse_person(rs, {field: payload})
    assert not marker.exists()


# ------------------------------------------------------------------ expressions


def _with_definition(tmp_path: Path, expr: str) -> Path:
    """mini plus a definition `probe` and an output that depends on it."""
    import json
    import shutil

    root = tmp_path / "rules"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(MINI, root)
    vocab = root / "vocabulary.yaml"
    text = vocab.read_text(encoding="utf-8")
    text = text.replace("definitions:\n", f"definitions:\n  probe: {{expr: {json.dumps(expr)}}}\n", 1)
    text = text.replace("outputs:\n", "outputs:\n  probed: {type: bool, cardinality: exactly_one, default: false}\n", 1)
    text += '  - {id: probe.rule, cites: ["M:1"], quote: "可以参保", when: "probe == probe", then: {probed: true}}\n'
    vocab.write_text(text, encoding="utf-8")
    return root


def _decide_everywhere(root: Path) -> set[str]:
    """The `probed` status by every backend (plain, partial and traced for eval) on every mini case."""
    from solver.backends import BACKENDS, make
    from solver.backends.eval_backend import EvalBackend
    from solver.cases import collect
    from solver.language.loader import load_ruleset
    from solver.passes.options import resolve
    from solver.person import parse_person

    rs = resolve(load_ruleset(root), {})
    statuses = set()
    persons = [parse_person(rs, c.person) for _, c in collect([root / "cases"])][:3]
    for name in BACKENDS:
        backend = make(name, rs)
        for person in persons:
            statuses.add(f"{name}:{backend.decide(person).results['probed'].status}")
    ev = EvalBackend(rs)
    for person in persons:
        ev.decide_traced(person)
        ev.decide_traced(dict(list(person.items())[:2]))
    return statuses


@pytest.mark.parametrize("n", [250, 400])
@pytest.mark.parametrize("op", ["and", "or", "+"])
def test_long_flat_chains_compile_everywhere(tmp_path: Path, n: int, op: str) -> None:
    term = "year > 2000" if op != "+" else "gap_years"
    expr = f" {op} ".join([term] * n)
    statuses = _decide_everywhere(_with_definition(tmp_path, expr))
    assert statuses == {"eval:ok", "z3:ok", "clingo:ok"}


@pytest.mark.parametrize(
    ("expr", "words"),
    [
        ("(" * 250 + "year" + ")" * 250, "nested more than"),
        ("not " * 3000 + "poor", "nested more than"),
        ("- " * 3000 + "year", "nested more than"),
        (" - ".join(["year"] * 400), "nested more than"),
        ("year + " + "9" * 5000, "digits"),
        ("year + " + "9" * 16, "digits"),
        ("year + 1" * 3000, "characters"),
        ("if poor then " * 300 + "1" + " else 2" * 300, "nested more than"),
    ],
    ids=["parens", "nots", "negs", "minus_chain", "int_5000", "int_16", "long_text", "ites"],
)
def test_deep_or_huge_expressions_are_refused(tmp_path: Path, expr: str, words: str) -> None:
    from solver.language.loader import load_ruleset

    with pytest.raises((RuleError, RuleErrors), match=words):
        load_ruleset(_with_definition(tmp_path, expr))


@pytest.mark.parametrize(
    "expr",
    [
        "- " * 38 + "gap_years",
        "if poor then " * 19 + "1" + " else 2" * 19,
        "(" * 40 + "gap_years + 1" + ")" * 40,
        " - ".join(["gap_years"] * 39),
    ],
    ids=["negs", "ites", "parens", "minus_chain"],
)
def test_nesting_just_inside_the_limit_runs_everywhere(tmp_path: Path, expr: str) -> None:
    assert _decide_everywhere(_with_definition(tmp_path, expr)) == {"eval:ok", "z3:ok", "clingo:ok"}


# ------------------------------------------------------------------ CLI


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "rules/shanghai", "--timeout", "-1"],
        ["fixtures", "rules/shanghai", "--timeout", "-5"],
        ["fixtures", "rules/shanghai", "--cover-seconds", "-2"],
        ["check", "rules/shanghai", "--timeout", "x" * 10_000],
    ],
)
def test_negative_or_bad_limits_are_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from solver.cli import main

    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "negative" in err or "not a number" in err
    assert len(err) < 1000


def test_empty_person_inputs_are_errors(tmp_path: Path) -> None:
    from solver.cli import main

    (tmp_path / "empty").mkdir()
    (tmp_path / "none.yaml").write_text("[]\n", encoding="utf-8")
    for cmd in ("decide", "explain"):
        for target in ("empty", "none.yaml"):
            assert main([cmd, str(MINI), str(tmp_path / target)]) == 2


# ------------------------------------------------------------------ dates off the calendar

OFF_CALENDAR = {  # expression -> changes to a mini person that take it off the calendar
    "date(if year == 2023 then 1 else year, 1, 1)": {"year": 2023},
    "first_of_next_month(add_months(paid, gap_years * 144, month_end))": {
        "gap_years": 6,
        "paid": dt.date(2027, 12, 31),
    },
    "add_months(paid, gap_years * 1000000000, month_end)": {"gap_years": 6},
    "add_months(paid, 0 - gap_years * 360, month_end)": {"gap_years": 6},
    "add_months(date(2099, 10, 31), gap_years - 3, 'roll')": {"gap_years": 6},  # 2100-01-31
}


@pytest.mark.parametrize("expr", sorted(OFF_CALENDAR))
def test_dates_off_the_calendar_are_unknown_everywhere(tmp_path: Path, expr: str) -> None:
    from explain.derivation import explain
    from solver.backends import BACKENDS, make
    from solver.backends.eval_backend import EvalBackend
    from solver.backends.sql_backend import SqlBackend
    from solver.cases import collect
    from solver.language.loader import load_ruleset
    from solver.passes.options import resolve
    from solver.person import parse_person

    root = _with_definition(tmp_path, f"{expr} == {expr}")
    rs = resolve(load_ruleset(root), {})
    base = parse_person(rs, collect([root / "cases"])[0][1].person)
    off = {**base, **OFF_CALENDAR[expr], "backpaid": 0}
    on = {**base, "year": 2025, "gap_years": 0, "backpaid": 0, "paid": dt.date(2025, 3, 31)}
    backends = [*(make(n, rs) for n in BACKENDS), SqlBackend(rs)]
    for person, status in ((off, "unknown"), (on, "ok")):
        results = [b.decide(person).results["probed"] for b in backends]
        assert [r.status for r in results] == [status] * len(results), (person, results)
        if status == "unknown":  # z3 reads statuses only; the others name the cause
            said = {b.name: r.reasons for b, r in zip(backends, results, strict=True)}
            # the same typed reasons (call and place); clingo shares equal sub-terms, so it may name
            # one of two equal calls where eval names both, and its year is a 32-bit integer (wraps)
            calls = {n: {(r.kind, r.call) for r in said[n]} for n in ("eval", "clingo")}
            assert calls["clingo"] and calls["clingo"] <= calls["eval"], said
            assert said["sql"] and all(r.kind == "off_calendar" for n in ("eval", "sql") for r in said[n]), said
    eval_reason = backends[0].decide(off).results["probed"].reasons[0]
    assert str(root / "vocabulary.yaml") in eval_reason.call and len(str(eval_reason)) < 400  # names where
    decision, trace = EvalBackend(rs).decide_traced(off)
    assert explain(rs, decision, trace, ["probed"])  # explanations evaluate it too, without raising


def test_the_date_functions_raise_only_their_own_error() -> None:
    from solver import dates
    from solver.semantics.values import BUILTINS, Unknown

    for fn, args in [
        (dates.first_of_next_month, (dt.date(2099, 12, 31),)),
        (dates.add_months, (dt.date(2025, 1, 31), 10**12, "clamp")),
        (dates.add_months, (dt.date(2099, 10, 31), 3, "roll")),
        (dates.make_date, (-(10**20), 1, 1)),
    ]:
        with pytest.raises(dates.OffCalendar, match="outside the calendar"):
            fn(*args)  # type: ignore[operator]
    assert dates.add_months(dt.date(2099, 11, 30), 1, "roll") == dt.date(2099, 12, 30)
    assert dates.add_months(dt.date(2099, 10, 31), 1, "roll") == dt.date(2099, 12, 1)
    assert isinstance(BUILTINS["date"](0, 1, 1), Unknown)
    assert BUILTINS["first_of_next_month"](dt.date(2099, 11, 5)) == dt.date(2099, 12, 1)


@pytest.mark.parametrize(
    ("expr", "words"),
    [
        ("date(year - 2025, 1, 1)", "never gives a date: its year lies in -2..2"),
        ("add_months(paid, 100000 + gap_years, month_end)", "never gives a date"),
        ("paid < 2100-01-01", "off the calendar"),
        ("paid > 1900-12-31", "off the calendar"),
    ],
)
def test_dates_that_can_never_be_are_refused(tmp_path: Path, expr: str, words: str) -> None:
    from solver.language.loader import load_ruleset

    with pytest.raises((RuleError, RuleErrors), match=words) as e:
        load_ruleset(_with_definition(tmp_path, expr if "<" in expr or ">" in expr else f"{expr} == {expr}"))
    assert str(tmp_path) in str(e.value)


def test_a_timeout_never_makes_acceptances_stale(tmp_path: Path) -> None:
    import shutil

    from solver.checks import run_checks
    from solver.checks.engine import Settings
    from solver.language.loader import load_ruleset

    root = tmp_path / "rules"
    shutil.copytree(MINI, root)
    (root / "accepted.yaml").write_text('- {id: "gap:0123456789", reason: "a reviewed finding"}\n', encoding="utf-8")
    rs = load_ruleset(root)
    decided = run_checks(rs, settings=Settings(timeout_ms=20_000), cases=False)
    assert decided.stale_accepted == ("gap:0123456789",) and not decided.unconfirmed
    starved = run_checks(rs, settings=Settings(rlimit=1), cases=False)  # z3 gives up on every question
    assert any(f.kind == "undecided" for f in starved.findings)
    assert starved.stale_accepted == () and starved.unconfirmed == ("gap:0123456789",)
    assert starved.exit_code() == 1  # undecided is never ok


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["check", "RULES", "--output", "T/folder"], "is a folder"),
        (["check", "RULES", "--output", "T/file/report.md"], "is a file, so"),
        (["check", "RULES", "--output", "T/" + "a" * 300], "longer than 255 bytes"),
        (["fixtures", "RULES", "--out", "T/file"], "is a file"),
        (["fixtures", "RULES", "--out", "T/file/sub"], "is a file, so"),
        (["diff", "RULES", "RULES", "--out", "T/folder"], "is a folder"),
        (["diff", "RULES", "RULES", "--population", "T/missing.csv"], "no such readable file"),
        (["batch", "RULES", "--input", "T/missing.csv", "--output", "T/o.parquet"], "no such readable file"),
        (["batch", "RULES", "--input", "T/file", "--output", "T/folder"], "is a folder"),
        (["sample", "RULES", "-n", "3", "--output", "T/folder"], "is a folder"),
        (["decide", "RULES", "T/" + "x" * 300 + ".yaml"], "File name too long"),
        (["decide", "RULES", "T/loop.yaml"], "loop of symbolic links"),
        (["decide", "RULES", "T/dangling.yaml"], "symbolic link to nothing"),
        (["decide", "RULES", "T/folder"], "no persons or cases"),
        (["decide", "T/missing", "T/file"], "not a rule-set folder"),
        (["decide", "T/" + "r" * 300, "T/file"], "cannot read this folder"),
        (["check", "RULES", "--output", "/dev/full", "--timeout", "50"], "No space left on device"),
        (["coverage", "RULES", "--checklist", "T/missing.yaml"], "no such file"),
        (["coverage", "RULES", "--checklist", "T/folder"], "folder, not a file"),
        (["coverage", "RULES", "--checklist", "T/bad.yaml"], "not valid YAML"),
        (["coverage", "RULES", "--checklist", "T/other.yaml"], "needs a list `clauses`"),
        (["decide", "RULES", "T/huge_value.yaml"], "is not a whole number"),
    ],
)
def test_cli_paths_and_values_are_checked_first(
    tmp_path: Path, argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from solver.cli import main

    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x", encoding="utf-8")
    (tmp_path / "bad.yaml").write_text("a: [\n", encoding="utf-8")
    (tmp_path / "other.yaml").write_text("x: 1\n", encoding="utf-8")
    (tmp_path / "huge_value.yaml").write_text("year: " + "x" * 1_000_000 + "\n", encoding="utf-8")
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "nothing")
    real = [a.replace("RULES", str(MINI)).replace("T/", f"{tmp_path}/") for a in argv]
    assert main(real) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert len(err) < 1000  # a long value or path is quoted as a short excerpt

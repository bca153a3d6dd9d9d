"""Fuzz elig with bad input: person files, mutated rule sets, expressions and CLI arguments.

    python tests/fuzz/run.py --count 10000 [--seed 1] [--subprocess-every 100] [--save DIR]

Inputs come from a seeded random generator (the same seed gives the same inputs), each a small
JSON-able case. Each runs in-process (every Nth also in a fresh `python` process, where a crash
of the interpreter itself would show) and is classified:

  ok        an answer (exit 0 or 1 for the CLI)
  typed     an EligError with its message (exit 2 and a message for the CLI)
  crash     any other exception: a traceback
  hang      past the time limit
  mismatch  eval, z3 and clingo decide a person differently (sampled for rule sets and expressions)
  injected  a rule or person file made elig run code of its own (a marker file appeared)

Exit 1 on any crash, hang, mismatch or injection, after printing each reproducer (the case as
JSON, replayable with --replay). tests/test_fuzz.py runs a small count in the suite."""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import io
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
MINI = REPO / "tests" / "data" / "mini"
sys.path.insert(0, str(REPO))

from solver.errors import EligError  # noqa: E402

KINDS = ("person", "rules", "expr", "cli")
WEIGHTS = (40, 20, 25, 15)
Case = dict[str, Any]


class Hang(BaseException):
    """The time limit passed (a BaseException, so that no `except Exception` swallows it)."""


class Mismatch(Exception):
    """Backends disagree."""


# ---------------------------------------------------------------- the workspace


@dataclass
class Work:
    """A scratch folder with the fixtures the generated cases name, and the injection marker."""

    root: Path
    marker: Path = field(init=False)

    def __post_init__(self) -> None:
        self.marker = self.root / "INJECTED"
        t = self.root / "t"
        shutil.rmtree(t, ignore_errors=True)
        t.mkdir(parents=True)
        (t / "folder").mkdir()
        (t / "folder.yaml").mkdir()
        (t / "empty").mkdir()
        (t / "norules").mkdir()
        (t / "norules" / "x.yaml").write_text("a: 1\n", encoding="utf-8")
        (t / "file").write_text("x", encoding="utf-8")
        (t / "bad.yaml").write_text("a: [\n", encoding="utf-8")
        (t / "list.yaml").write_text("[]\n", encoding="utf-8")
        (t / "other.yaml").write_text("x: 1\n", encoding="utf-8")
        (t / "checklist.yaml").write_text("clauses:\n  - {id: 'M:1'}\n  - {id: 'X:9'}\n", encoding="utf-8")
        (t / "latin1.yaml").write_bytes(b"year: \xe9\n")
        (t / "loop.yaml").symlink_to(t / "loop.yaml")
        (t / "dangling.yaml").symlink_to(t / "nothing")
        (t / "persons.csv").write_text("year,hukou\n2025,local\nx,\n", encoding="utf-8")
        shutil.copy(MINI / "cases" / "mini.yaml", t / "cases.yaml")
        (t / "person.json").write_text(json.dumps(_mini_persons()[0]), encoding="utf-8")

    def path(self, text: str) -> str:
        return text.replace("{T}", str(self.root / "t")).replace("{MINI}", str(MINI)).replace("{M}", str(self.marker))


def _mini_persons() -> list[dict[str, Any]]:
    from solver.cases import collect

    return [
        {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in c.person.items()}
        for _, c in collect([MINI / "cases"])
    ]


# ---------------------------------------------------------------- generators

PAYLOADS = [
    "x = open('{M}', 'w') or 1; i_y",
    "__import__('os').system('touch {M}')",
    "a) or open('{M}', 'w') or (b",
    "a\nimport os; os.system('touch {M}')\nb",
    "'); open('{M}', 'w'); ('",
    "{{ open('{M}','w') }}",
    "a b",
    "a-b",
    "😀",
    "",
]
TOKENS = [
    "year", "birth", "paid", "hukou", "student", "poor", "level", "gap_years", "backpaid", "income",
    "age", "waiting", "start", "next_first", "days_old", "months", "half", "group", "fee", "flags",
    "covered", "share", "priority", "fee_table", "share_table", "month_end", "gap_rule", "local",
    "true", "false", "null", "~", "[]", "{}", "-", ":", "'", '"', "&a", "*a", "!!python/object:os.system",
    "<<", "0", "-1", "2025", "99999999999999999", "9" * 5000, "1e9", "0x7E9", "2_025", "2025-02-29",
    "2025-13-01", "1900-01-01", "2100-01-01", "9999-12-31", "2025-W01-1", "NaN", "date", "add_months",
    "first_of_next_month", "and", "or", "not", "if", "then", "else", "in", "(", ")", "//", "%", "*",
    "==", "<=", "exactly_one", "set", "at_most_one", "int", "money", "bool", "ä", "\t", "\x00", "\u2028",
]  # fmt: skip
VALUES: list[Any] = [
    0, 1, -1, 2023, 2025, 2027, 10**18, -(10**18), 2**64, 1.5, -0.0, True, False, None, "", "x", "local",
    "other", "none", "l1", "2025-01-01", "2025-02-29", "2025-13-01", "2025-W01-1", "0x7E9", "2_025", "1e5",
    "9" * 5000, "a" * 100_000, "ä😀", "\x00", [], [1, 2], {}, {"a": 1}, "1900-01-01", "2100-01-01",
    "2099-12-31", "1901-01-01", " 2025", "true", "yes", "on",
]  # fmt: skip
NASTY_TEXTS = [
    b"a: &a [*a]\n",
    b"a: &a [lol, lol]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c]\n",
    b"[" * 3000 + b"]" * 3000,
    b'{"year": 2025, "year": 2026}',
    b"year: !!python/name:os.system\n",
    b"year: !foo 1\n",
    b"<<: {year: 1}\n",
    b"\xff\xfe" + "year: 2025\n".encode("utf-16-le"),
    "year: 2025\n".encode("utf-16-le"),
    "hukou: 中".encode()[:-1],
    b"\xef\xbb\xbfyear: 2025\n",
    b"- - - - - - - - - -\n",
    b"year: 2025\n---\nyear: 2026\n",
    b'{"a": NaN}',
    b"year: 2025-02-29\n",
    b"",
    b"\n\n\n",
]


def gen_person(r: random.Random, persons: list[dict[str, Any]]) -> Case:
    """A person or case file: a real mini person with some fields changed, dropped or added,
    written as YAML or JSON, sometimes damaged at the byte level, or a nasty document."""
    if r.random() < 0.1:
        return {"kind": "person", "b64": base64.b64encode(r.choice(NASTY_TEXTS)).decode(), "suffix": ".yaml"}
    person = dict(r.choice(persons))
    for _ in range(r.randint(1, 3)):
        op = r.random()
        if op < 0.5 and person:
            person[r.choice(list(person))] = r.choice(VALUES)
        elif op < 0.7 and person:
            person.pop(r.choice(list(person)))
        else:
            person[r.choice([*TOKENS[:20], "as_of", "x" * 300, "__class__", r.choice(PAYLOADS)])] = r.choice(VALUES)
    shape = r.random()
    doc: Any = person
    if shape < 0.3:
        doc = [
            {"id": r.choice(["a", "b c", "", "1"]), "person": person, "expect": {r.choice(TOKENS): r.choice(VALUES)}}
        ]
    elif shape < 0.4:
        doc = {"id": "one", "person": person, "options": {r.choice(["month_end", "nope"]): r.choice(VALUES)}}
    if r.random() < 0.5:
        import yaml

        text = yaml.safe_dump(doc, allow_unicode=True, width=10**9).encode()
        suffix = ".yaml"
    else:
        text, suffix = json.dumps(doc, ensure_ascii=False).encode(), ".json"
    if r.random() < 0.15:
        text = _damage(r, text)
    return {"kind": "person", "b64": base64.b64encode(text).decode(), "suffix": suffix}


def _damage(r: random.Random, data: bytes) -> bytes:
    i = r.randrange(len(data) + 1)
    op = r.randrange(5)
    if op == 0:
        return data[:i]
    if op == 1:
        return data[:i] + bytes([r.randrange(256)]) + data[i:]
    if op == 2:
        return data.decode("utf-8", "replace").encode("utf-16-le")
    if op == 3:
        return data[:i] + b"\x00" + data[i:]
    return data.replace(b":", b"", 1)


def gen_rules(r: random.Random, vocab: str) -> Case:
    """The mini rule set with one to three mutations of its text."""
    lines = vocab.splitlines(keepends=True)
    for _ in range(r.randint(1, 3)):
        op = r.randrange(9)
        i = r.randrange(len(lines))
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[r.randrange(len(lines))])
        elif op == 2:
            j = r.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op in (3, 4, 5):
            lines[i] = _replace_token(r, lines[i])
        elif op == 6:
            k = r.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:k] + r.choice(TOKENS) + lines[i][k:]
        elif op == 7:
            lines[i] = lines[i].replace('"', '"' + r.choice(PAYLOADS).replace('"', "'") + " ", 1)
        else:
            lines = lines[: r.randrange(len(lines))]
            if not lines:
                lines = ["\n"]
    return {"kind": "rules", "vocab": "".join(lines)}


def _replace_token(r: random.Random, line: str) -> str:
    import re

    spans = [m.span() for m in re.finditer(r"[A-Za-z_][A-Za-z0-9_.]*|\d[\d-]*|'[^']*'", line)]
    if not spans:
        return line
    a, b = r.choice(spans)
    return line[:a] + r.choice(TOKENS + PAYLOADS) + line[b:]


INTS = ["year", "gap_years", "backpaid", "income", "age", "waiting", "days_old", "months", "half", "exact_age"]
DATES = ["birth", "paid", "start", "next_first", "start_date"]
BOOLS = ["poor", "student", "covered", "priority", "hukou == 'local'", "'exempt' in flags", "level != 'l2'"]
NUMBERS = [0, 1, 2, 6, 12, 18, 31, 100, 1901, 2025, 2099, 2100, 10**6, 10**9, 10**15, -1, -2025]


def gen_expr(r: random.Random) -> Case:
    """A random expression over mini's names: mostly well typed (dates built by arithmetic that may
    leave the calendar), sometimes token soup, very deep or very long."""
    roll = r.random()
    if roll < 0.1:
        return {"kind": "expr", "expr": " ".join(r.choice(TOKENS) for _ in range(r.randint(1, 12)))}
    if roll < 0.15:
        n = r.choice([30, 41, 45, 120, 300])
        return {"kind": "expr", "expr": "(" * n + "gap_years" + ")" * n}
    if roll < 0.2:
        return {
            "kind": "expr",
            "expr": f" {r.choice(['and', 'or', '+', '-'])} ".join(["year > 2024"] * r.randint(2, 500)),
        }
    kind = r.choice(["int", "date", "bool"])
    return {"kind": "expr", "expr": _typed(r, kind, r.randint(1, 6))}


def _typed(r: random.Random, kind: str, depth: int) -> str:
    if depth <= 0 or r.random() < 0.25:
        if kind == "int":
            return str(r.choice(NUMBERS)) if r.random() < 0.4 else r.choice(INTS)
        if kind == "date":
            return r.choice([*DATES, "2025-01-31", "2099-12-31", "1901-01-01"])
        return r.choice(BOOLS)
    d = depth - 1
    if kind == "int":
        op = r.randrange(6)
        if op == 0:
            return f"({_typed(r, 'int', d)} {r.choice(['+', '-'])} {_typed(r, 'int', d)})"
        if op == 1:
            return f"({_typed(r, 'int', d)} {r.choice(['*', '//', '%'])} {r.choice(NUMBERS[1:])})"
        if op == 2:
            return f"{r.choice(['year', 'month', 'day', 'month_index'])}({_typed(r, 'date', d)})"
        if op == 3:
            return f"{r.choice(['age_at', 'days_between'])}({_typed(r, 'date', d)}, {_typed(r, 'date', d)})"
        if op == 4:
            return f"{r.choice(['min', 'max'])}({_typed(r, 'int', d)}, {_typed(r, 'int', d)})"
        return f"if {_typed(r, 'bool', d)} then {_typed(r, 'int', d)} else {_typed(r, 'int', d)}"
    if kind == "date":
        op = r.randrange(5)
        if op == 0:
            return f"date({_typed(r, 'int', d)}, {_typed(r, 'int', d)}, {_typed(r, 'int', d)})"
        if op == 1:
            return f"first_of_next_month({_typed(r, 'date', d)})"
        if op == 2:
            rule = r.choice(["month_end", "'clamp'", "'roll'"])
            return f"add_months({_typed(r, 'date', d)}, {_typed(r, 'int', d)}, {rule})"
        if op == 3:
            return f"{r.choice(['min', 'max'])}({_typed(r, 'date', d)}, {_typed(r, 'date', d)})"
        return f"if {_typed(r, 'bool', d)} then {_typed(r, 'date', d)} else {_typed(r, 'date', d)}"
    op = r.randrange(4)
    if op == 0:
        return f"({_typed(r, 'bool', d)} {r.choice(['and', 'or'])} {_typed(r, 'bool', d)})"
    if op == 1:
        return f"not {_typed(r, 'bool', d)}"
    if op == 2:
        t = r.choice(["int", "date"])
        return f"{_typed(r, t, d)} {r.choice(['<', '<=', '==', '!=', '>', '>='])} {_typed(r, t, d)}"
    return f"{_typed(r, 'int', d)} in [{_typed(r, 'int', d)}, {r.choice(NUMBERS)}]"


SUBCOMMANDS = ["decide", "explain", "coverage", "check", "fixtures", "diff", "schema", "batch", "sample", "nope", ""]
RULE_ARGS = ["{MINI}", "{MINI}", "{MINI}", "{T}/missing", "{T}/file", "{T}/empty", "{T}/norules", "{T}/loop.yaml",
             "{T}/" + "r" * 300, "", "-", "{T}"]  # fmt: skip
PATH_ARGS = ["{T}/cases.yaml", "{T}/person.json", "{T}/folder", "{T}/folder.yaml", "{T}/empty", "{T}/bad.yaml",
             "{T}/list.yaml", "{T}/other.yaml", "{T}/loop.yaml", "{T}/dangling.yaml", "{T}/latin1.yaml",
             "{T}/missing.yaml", "{T}/file", "{T}/file/x", "{T}/" + "p" * 300, "{T}/checklist.yaml",
             "{T}/persons.csv", "{T}/out/new.md", "/dev/full", "/dev/null", ""]  # fmt: skip
FLAG_VALUES = ["-1", "0", "1", "200", "x", "9" * 400, "1e3", "", "month_end=roll", "month_end=zz", "=", "nope",
               "group=adult", "fee=1", "covered=maybe", "year=2025", "2025-01-01", "2025-02-30", "text",
               "json"]  # fmt: skip
FLAGS = {
    "decide": ["--as-of", "--option", "--format", "--backend"],
    "explain": [
        "--case",
        "--output",
        "--why-not",
        "--counterfactual",
        "--fix",
        "--engine",
        "--consult",
        "--timeout",
        "--lang",
        "--format",
        "--as-of",
        "--option",
    ],
    "coverage": ["--cases", "--obligations", "--list", "--checklist"],
    "check": ["--option", "--format", "--output", "--timeout", "--quiet", "--against", "--changes"],
    "fixtures": ["--out", "--format", "--option", "--set", "--timeout", "--cover-seconds", "--list"],
    "diff": [
        "--year",
        "--vs-year",
        "--option",
        "--vs-option",
        "--as-of",
        "--fix",
        "--max-regions",
        "--timeout",
        "--output",
        "--population",
        "--format",
        "--out",
        "--quiet",
    ],
    "schema": [],
    "batch": ["--input", "--output", "--errors", "--engine", "--option", "--outputs", "--quiet"],
    "sample": ["-n", "--seed", "--output", "--pool", "--marginals", "--quiet"],
}
SLOW = {"check", "fixtures", "diff", "sample", "batch"}
BOOL_FLAGS = {"--consult", "--obligations", "--quiet"}
PATH_FLAGS = {"--output", "--out", "--checklist", "--cases", "--population", "--input", "--errors", "--marginals",
              "--against", "--changes"}  # fmt: skip


def gen_cli(r: random.Random) -> Case:
    sub = r.choice(SUBCOMMANDS)
    if sub in SLOW and r.random() < 0.7:  # most slow runs stop at a bad argument, before any work
        sub = r.choice(["decide", "explain", "coverage", "schema"])
    argv = [sub] if sub else []
    if sub not in ("schema", "", "nope"):
        argv.append(r.choice(RULE_ARGS))
    if sub in ("decide", "explain"):
        argv.append(r.choice(PATH_ARGS))
    if sub == "diff" and r.random() < 0.5:
        argv.append(r.choice(RULE_ARGS))
    for _ in range(r.randint(0, 3)):
        flag = r.choice([*FLAGS.get(sub, []), "--help", "--nope"] if r.random() < 0.95 else ["--help"])
        if flag == "--help" and r.random() < 0.8:
            continue
        argv.append(flag)
        if flag not in BOOL_FLAGS and flag not in ("--help",):
            argv.append(r.choice(PATH_ARGS) if flag in PATH_FLAGS else r.choice(FLAG_VALUES))
    if sub in SLOW:
        argv += ["--timeout", "300"] if sub in ("check", "fixtures", "diff") else []
        if sub == "fixtures":
            argv += ["--cover-seconds", "1"]
        if sub in ("fixtures", "check", "sample", "batch") and "--out" not in argv and "--output" not in argv:
            argv += ["--out" if sub == "fixtures" else "--output", "{T}/out/" + sub + r.choice([".md", ".csv", ""])]
    return {"kind": "cli", "argv": argv}


def generate(seed: int) -> Iterator[Case]:
    r = random.Random(seed)
    vocab = (MINI / "vocabulary.yaml").read_text(encoding="utf-8")
    persons = _mini_persons()
    for n in itertools.count():
        kind = KINDS[n] if n < len(KINDS) else r.choices(KINDS, WEIGHTS)[0]  # each class at least once
        if kind == "person":
            yield gen_person(r, persons)
        elif kind == "rules":
            yield gen_rules(r, vocab)
        elif kind == "expr":
            yield gen_expr(r)
        else:
            yield gen_cli(r)


# ---------------------------------------------------------------- running one case


class Runner:
    def __init__(self, work: Work) -> None:
        self.work = work
        self.count = 0

    def run(self, case: Case, compare: bool) -> None:
        """Run one case; raise what elig raised (EligError is a typed outcome)."""
        self.count += 1
        getattr(self, f"run_{case['kind']}")(case, compare)

    def _folder(self) -> Path:
        d = self.work.root / "case"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir()
        return d

    def run_person(self, case: Case, compare: bool) -> None:
        from solver.backends.eval_backend import EvalBackend
        from solver.cases import collect, mismatches
        from solver.passes.options import resolve
        from solver.person import parse_person

        path = self._folder() / ("person" + case["suffix"])
        path.write_bytes(self.work.path(base64.b64decode(case["b64"]).decode("latin-1")).encode("latin-1"))
        rs = _mini()
        for _, c in collect([path]):
            backend = EvalBackend(resolve(rs, c.options))
            person = parse_person(rs, c.person)
            decision = backend.decide(person)
            mismatches(backend.rs, c, decision.results)
            backend.decide_traced(person)

    def run_rules(self, case: Case, compare: bool) -> None:
        root = self._folder() / "rules"
        root.mkdir()
        (root / "vocabulary.yaml").write_text(self.work.path(case["vocab"]), encoding="utf-8")
        self._decide_all(root, compare)

    def run_expr(self, case: Case, compare: bool) -> None:
        root = self._folder() / "rules"
        shutil.copytree(MINI, root)
        vocab = root / "vocabulary.yaml"
        text = vocab.read_text(encoding="utf-8")
        text = text.replace("definitions:\n", f"definitions:\n  probe: {{expr: {json.dumps(case['expr'])}}}\n", 1)
        text = text.replace(
            "outputs:\n", "outputs:\n  probed: {type: bool, cardinality: exactly_one, default: false}\n"
        )
        text += (
            '  - {id: probe.rule, cites: ["M:1"], quote: "可以参保", when: "probe == probe", then: {probed: true}}\n'
        )
        vocab.write_text(text, encoding="utf-8")
        self._decide_all(root, compare, random_persons=8)

    def _decide_all(self, root: Path, compare: bool, random_persons: int = 0) -> None:
        from solver.backends.eval_backend import EvalBackend
        from solver.errors import InputError
        from solver.language.loader import load_ruleset
        from solver.passes.options import resolve
        from solver.person import parse_person

        rs = resolve(load_ruleset(root), {})
        backend = EvalBackend(rs)
        persons = []
        for raw in _mini_persons() + _random_persons(rs, random_persons, self.count):
            with contextlib.suppress(InputError):
                persons.append(parse_person(rs, raw))
        for p in persons:
            backend.decide(p)
            backend.decide_traced(p)
            backend.decide_traced(dict(list(p.items())[: len(p) // 2]))
        if compare:
            from solver.backends import make

            others = [make("z3", rs), make("clingo", rs)]
            for p in persons:
                want = {o: r.key() for o, r in backend.decide(p).results.items()}
                for b in others:
                    got = {o: r.key() for o, r in b.decide(p).results.items()}
                    if got != want:
                        diff = {o: (want[o], got[o]) for o in want if want[o] != got.get(o)}
                        raise Mismatch(f"eval vs {b.name} on {p}: {diff}")

    def run_cli(self, case: Case, compare: bool) -> None:
        from solver.cli import main

        argv = [self.work.path(a) for a in case["argv"]]
        err = io.StringIO()
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                rc = main(argv)
        except SystemExit as e:  # argparse: 0 for --help, 2 for a bad argument
            rc = e.code if isinstance(e.code, int) else 2
        _cli_outcome(rc, err.getvalue())


def _cli_outcome(rc: int, err: str) -> None:
    if "Traceback" in err:
        raise RuntimeError(f"a traceback on stderr:\n{err[-2000:]}")
    if rc == 2:
        if not err.strip():  # `error: ...`, or per person `FILE: CASE: field ...` from decide
            raise RuntimeError("exit 2 without a message")
        if len(err) > 20_000:
            raise RuntimeError(f"an error message of {len(err)} characters (a value echoed in full?)")
        raise EligError(err.strip().splitlines()[-1][:300])
    if rc not in (0, 1):
        raise RuntimeError(f"exit code {rc}: {err[-500:]!r}")


_MINI_RS: list[Any] = []


def _mini() -> Any:
    if not _MINI_RS:
        from solver.language.loader import load_ruleset

        _MINI_RS.append(load_ruleset(MINI))
    return _MINI_RS[0]


def _random_persons(rs: Any, n: int, seed: int) -> list[dict[str, Any]]:
    """Persons inside the declared input ranges (values at and near the range ends)."""
    from solver import ir

    r = random.Random(seed)
    out = []
    for _ in range(n):
        p: dict[str, Any] = {}
        for name, inp in rs.inputs.items():
            t = inp.type
            if isinstance(t, ir.BoolT):
                p[name] = r.random() < 0.5
            elif isinstance(t, ir.IntT):
                p[name] = r.choice([t.lo, t.hi, r.randint(t.lo, t.hi)])
            elif isinstance(t, ir.DateT):
                span = (t.hi - t.lo).days
                p[name] = r.choice([t.lo, t.hi, t.lo + dt.timedelta(days=r.randint(0, span))])
            elif isinstance(t, ir.EnumT):
                p[name] = r.choice(t.values)
        out.append(p)
    return out


# ---------------------------------------------------------------- classifying


def _alarm(signum: int, frame: object) -> None:
    raise Hang()


def classify(runner: Runner, case: Case, limit: float, compare: bool) -> tuple[str, str]:
    """(outcome, detail) of one in-process run."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        runner.run(case, compare)
        outcome, detail = "ok", ""
    except Hang:
        outcome, detail = "hang", f"no answer within {limit} s"
    except EligError as e:
        outcome, detail = "typed", str(e)[:200]
    except Mismatch as e:
        outcome, detail = "mismatch", str(e)[:3000]
    except BaseException:  # a crash, whatever it is (RecursionError, MemoryError, SystemExit, ...)
        outcome, detail = "crash", traceback.format_exc()[-3000:]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if runner.work.marker.exists():
        runner.work.marker.unlink()
        outcome, detail = "injected", "the case made elig create the marker file: code ran"
    return outcome, detail


def in_subprocess(work: Work, case: Case, limit: float) -> tuple[str, str]:
    """The same case in a fresh interpreter: the CLI itself, or --replay for the others."""
    if case["kind"] == "cli":
        cmd = [sys.executable, "-m", "solver.cli", *(work.path(a) for a in case["argv"])]
    else:
        cmd = [sys.executable, __file__, "--replay", "-", "--work", str(work.root)]
    feed = "" if case["kind"] == "cli" else json.dumps(case)
    try:
        proc = subprocess.run(
            cmd, input=feed, capture_output=True, text=True, timeout=limit + 30, cwd=work.root, check=False
        )
    except subprocess.TimeoutExpired:
        return "hang", f"no answer within {limit + 30} s"
    if work.marker.exists():
        work.marker.unlink()
        return "injected", "the case made elig create the marker file: code ran"
    if case["kind"] == "cli":
        try:
            _cli_outcome(proc.returncode, proc.stderr)
            return "ok", ""
        except EligError as e:
            return "typed", str(e)
        except RuntimeError as e:
            return "crash", str(e)
    if proc.returncode != 0:
        return "crash", f"exit {proc.returncode}: {proc.stderr[-2000:]}"
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    return got["outcome"], got["detail"]


# ---------------------------------------------------------------- the driver


@dataclass
class Tally:
    by_kind: dict[str, Counter[str]] = field(default_factory=dict)
    failures: list[tuple[str, Case, str]] = field(default_factory=list)
    subprocess_runs: int = 0
    seconds: Counter[str] = field(default_factory=Counter)

    def add(self, case: Case, outcome: str, detail: str, seconds: float = 0.0) -> None:
        self.by_kind.setdefault(case["kind"], Counter())[outcome] += 1
        self.seconds[case["kind"]] += seconds
        if outcome in FAILURES:
            self.failures.append((outcome, case, detail))

    def total(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for c in self.by_kind.values():
            out.update(c)
        return out


FAILURES = ("crash", "hang", "mismatch", "injected")
OUTCOMES = ("ok", "typed", *FAILURES)


def fuzz(
    count: int,
    seed: int = 1,
    subprocess_every: int = 100,
    compare_every: int = 10,
    limit: float = 60.0,
    progress: Callable[[str], None] | None = None,
) -> Tally:
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="elig-fuzz-") as tmp:
        work = Work(Path(tmp))
        runner = Runner(work)
        cwd = Path.cwd()
        os.chdir(tmp)  # the CLI writes relative outputs (fixtures/) here, never into the repository
        try:
            for i, case in zip(range(count), generate(seed), strict=False):
                t0 = time.perf_counter()
                outcome, detail = classify(runner, case, limit, compare=i % compare_every == 0)
                tally.add(case, outcome, detail, time.perf_counter() - t0)
                if subprocess_every and i % subprocess_every == 0:
                    tally.subprocess_runs += 1
                    tally.add({**case, "via": "subprocess"}, *in_subprocess(work, case, limit))
                if progress and (i + 1) % 500 == 0:
                    progress(f"{i + 1} runs: {dict(tally.total())}")
        finally:
            os.chdir(cwd)
    return tally


def report(tally: Tally, seconds: float) -> str:
    lines = [f"{'kind':<8}" + "".join(f"{o:>10}" for o in OUTCOMES) + f"{'seconds':>10}"]
    for kind in KINDS:
        c = tally.by_kind.get(kind, Counter())
        lines.append(f"{kind:<8}" + "".join(f"{c[o]:>10}" for o in OUTCOMES) + f"{tally.seconds[kind]:>10.0f}")
    t = tally.total()
    lines.append(f"{'all':<8}" + "".join(f"{t[o]:>10}" for o in OUTCOMES))
    lines.append(f"{sum(t.values())} runs ({tally.subprocess_runs} of them also in a subprocess) in {seconds:.0f} s")
    for outcome, case, detail in tally.failures:
        shown = json.dumps(case, ensure_ascii=False)
        lines += ["", f"== {outcome}: {shown[:2000]}", detail]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=1000, help="how many inputs")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--subprocess-every", type=int, default=100, help="also run every Nth input in a subprocess (0: none)"
    )
    p.add_argument("--compare-every", type=int, default=10, help="compare eval, z3 and clingo on every Nth rule set")
    p.add_argument("--limit", type=float, default=60.0, help="seconds per input before it counts as a hang")
    p.add_argument("--save", type=Path, help="write each failing case as JSON into this folder")
    p.add_argument("--replay", help="run one case (JSON, or - to read it from stdin) and print its outcome as JSON")
    p.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.replay:
        case = json.loads(sys.stdin.read() if args.replay == "-" else args.replay)
        work_root = args.work or Path(tempfile.mkdtemp(prefix="elig-fuzz-"))
        work = Work.__new__(Work)  # reuse the parent's fixtures: same paths in the case
        work.root, work.marker = work_root, work_root / "INJECTED"
        outcome, detail = classify(Runner(work), case, args.limit, compare=True)
        print(json.dumps({"outcome": outcome, "detail": detail}))
        return 0
    start = time.perf_counter()
    tally = fuzz(
        args.count,
        args.seed,
        args.subprocess_every,
        args.compare_every,
        args.limit,
        lambda s: print(s, file=sys.stderr, flush=True),
    )
    print(report(tally, time.perf_counter() - start))
    if args.save and tally.failures:
        args.save.mkdir(parents=True, exist_ok=True)
        for n, (outcome, case, detail) in enumerate(tally.failures):
            (args.save / f"{n:04d}-{outcome}.json").write_text(json.dumps({**case, "detail": detail}), "utf-8")
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())

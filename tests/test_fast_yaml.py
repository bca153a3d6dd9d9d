"""libyaml's parser (where installed) reads every file as the pure-Python reader does: the same data,
the same position of every value and key, and on broken text the same error."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from solver.errors import RuleError
from solver.language import strict_yaml

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted([*ROOT.glob("rules/**/*.yaml"), *ROOT.glob("tests/data/**/*.yaml")])

pytestmark = pytest.mark.skipif(not strict_yaml._FAST, reason="PyYAML built without libyaml")


def _read(text: str, fast: bool, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setattr(strict_yaml, "_FAST", fast)
    try:
        got = strict_yaml.parse_yaml(text, "f.yaml")
    except RuleError as e:
        return ("error", str(e))
    return (got.data, got.value_locs, got.key_locs)


def test_every_rule_file_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(FILES) > 20
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        assert _read(text, True, monkeypatch) == _read(text, False, monkeypatch), path


def test_broken_text_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Characters deleted, doubled or replaced by YAML punctuation at random places."""
    rng = random.Random(17)
    texts = [p.read_text(encoding="utf-8") for p in FILES[:12]]
    outcomes = set()
    for _ in range(150):
        text = rng.choice(texts)[:3000]
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(text))
            text = rng.choice(
                [
                    text[:i] + text[i + 1 :],
                    text[:i] + text[i] + text[i:],
                    text[:i] + rng.choice(":-[]{}'\"&*!#|>\t\n ") + text[i + 1 :],
                ]
            )
        fast, pure = _read(text, True, monkeypatch), _read(text, False, monkeypatch)
        assert fast == pure, text
        outcomes.add(isinstance(pure, tuple) and pure[0] == "error")
    assert outcomes == {True, False}, "the mutations should give both errors and readable files"


TRICKY = [
    "a: {b:1}\n",  # libyaml alone would read the key `b:1`
    "<<: {a: 1}\n",  # a merge key: refused
    "a: {<<: {b: 1}}\n",
    "'<<': 1\n",  # a quoted `<<` is a plain key
    "a: !!python/object:os.system x\n",
    "a: !custom x\n",
    "a: &x [1, 2]\nb: *x\n",
    "a: 1\n---\nb: 2\n",
    "a: 1\n...\n",
    "\ufeffa: 1\n",
    "a: 'x\n",
    "a: 0o17\nb: 0x1F\nc: 1e3\nd: 1_000\n",
    "a: 2024-01-01\nb: 2024-1-1\nc: 17:30\n",
    "a: yes\nb: no\nc: on\nd: ~\ne: null\nf: True\n",
    "a:\n  - b: 1\n    c: 2\n  - [x, {y: 3}]\n",
    "a: |\n  line\n  两行\nb: >-\n  folded\n  文本\n",
    'a: "\\u4e2d\\t"\n',
    "a: [" * 80 + "]" * 80 + "\n",
    "a: 1\na: 2\n",
    "- 1\n- 2\n",
    "",
    "# only a comment\n",
    "名称: {中文: 值, 英文: x}\n",
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_text_reads_the_same(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _read(text, True, monkeypatch) == _read(text, False, monkeypatch)


def test_a_merge_key_is_refused_by_the_fast_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    got = _read("<<: {a: 1}\n", True, monkeypatch)
    assert isinstance(got, tuple) and got[0] == "error" and "merge keys" in str(got[1])

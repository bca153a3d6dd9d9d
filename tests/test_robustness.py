"""Bad input never crashes elig, never hangs it and never runs as code: one regression test per
reproducer class of the robustness report (reading, names, expressions, dates, CLI)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from solver.errors import EligError, RuleError
from solver.language.strict_yaml import MAX_DIGITS, excerpt, load

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

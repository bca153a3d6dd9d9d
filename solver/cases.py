"""Worked cases and sample persons: YAML/JSON files holding one person or a list of cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from solver import ir
from solver.backends.base import STATUSES
from solver.errors import EligError, RuleError, RuleErrors, shorten
from solver.language import model as m
from solver.language.strict_yaml import Located, load
from solver.language.validate import validate
from solver.semantics.reasons import joined


@dataclass(frozen=True)
class Case:
    id: str
    person: dict[str, Any]
    options: dict[str, str] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)
    cites: tuple[str, ...] = ()
    worked: str = ""
    loc: ir.Loc = ir.NOWHERE


def load_cases(path: Path) -> list[Case]:
    """A file with a list of cases, a single case, or a bare person mapping (YAML or JSON)."""
    located = load(path)
    data = located.data
    if isinstance(data, dict) and "person" not in data:
        return [Case(path.stem, data, loc=located.loc(()))]
    entries = data if isinstance(data, list) else [data]
    out: list[Case] = []
    errors: list[RuleError] = []
    for i, entry in enumerate(entries):
        sub = (
            Located(
                entry,
                located.file,
                {k[1:]: v for k, v in located.value_locs.items() if k[:1] == (i,)},
                {k[1:]: v for k, v in located.key_locs.items() if k[:1] == (i,)},
            )
            if isinstance(data, list)
            else located
        )
        try:
            c = cast(m.CaseM, validate(sub, m.CaseM))
        except RuleErrors as e:
            errors.extend(e.errors)
            continue
        out.append(Case(c.id, c.person, c.options, c.expect, tuple(c.cites), c.worked, sub.loc(())))
    if errors:
        raise RuleErrors(errors)
    return out


def collect(paths: list[Path]) -> list[tuple[Path, Case]]:
    """Cases from files and folders (folders: every *.yaml / *.json inside, sorted)."""
    out: list[tuple[Path, Case]] = []
    for p in paths:
        try:
            if not p.exists() and not p.is_symlink():  # a broken link: the reader says how
                raise EligError(f"{shorten(str(p))}: no such file or folder")
            files = sorted([*p.rglob("*.yaml"), *p.rglob("*.json")]) if p.is_dir() else [p]
        except OSError as e:  # a name too long, no permission
            raise EligError(f"{shorten(str(p))}: cannot read: {e.strerror or e}") from None
        found = [(f, c) for f in files for c in load_cases(f)]
        if not found:
            raise EligError(f"{p}: no persons or cases in it (an empty folder, or an empty list)")
        out.extend(found)
    return out




def expected_result(out: ir.Output, raw: Any) -> tuple[str, tuple[Any, ...] | None]:
    """An `expect` entry -> (status, values or None when any values will do).

    A scalar means status ok with that one value; a list, a set output's exact values; a status
    word (unknown, none, gap, conflict) that is not a value of the output's type, that status;
    `{status: S, values: [...]}` says both explicitly."""
    if isinstance(raw, dict):
        status = str(raw.get("status", "ok"))
        values = raw.get("values")
        return status, tuple(values) if values is not None else None
    is_value = isinstance(out.type, ir.EnumT) and raw in out.type.values
    if isinstance(raw, str) and raw in STATUSES and not is_value:
        return raw, None if raw in ("unknown", "conflict") else ()
    if isinstance(raw, list):
        return "ok", tuple(_value(out.type, v) for v in raw)
    return "ok", (_value(out.type, raw),)


def _value(t: ir.Type, raw: Any) -> Any:
    """A time of day is written HH:MM in a case and held as minutes after midnight."""
    if isinstance(t, ir.IntT) and t.unit == "minute" and isinstance(raw, str):
        minutes = ir.parse_time(raw)
        return raw if minutes is None else minutes
    return raw


def mismatches(rs: ir.RuleSet, case: Case, results: Any) -> list[str]:
    """What differs between a case's expectations and a decision's results (empty = pass)."""
    problems = []
    for name, raw in case.expect.items():
        if name not in rs.outputs:
            problems.append(f"expects unknown output '{name}'")
            continue
        status, values = expected_result(rs.outputs[name], raw)
        got = results[name]

        def norm(vs: tuple[Any, ...]) -> set[tuple[str, Any]]:
            return {(type(v).__name__, v) for v in vs}

        if got.status != status or (values is not None and norm(got.values) != norm(values)):
            shown = list(got.values) if got.status in ("ok", "conflict") else ""
            problems.append(
                f"{name}: expected {raw!r}, got {got.status} {shown}".rstrip()
                + (f" (missing {', '.join(got.missing)})" if got.missing else "")
                + (f" ({joined(got.reasons)})" if got.reasons else "")
            )
    return problems

"""The rule files of a folder, their sections merged into one table per kind, each entry with where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from solver import ir
from solver.errors import RuleError, RuleErrors
from solver.language import model as m
from solver.language.strict_yaml import Located

SKIP_DIRS = {"cases", "samples", "reports"}
SKIP_FILES = {"accepted.yaml", "properties.yaml"}

T = TypeVar("T")


@dataclass
class Item(Generic[T]):
    """A section entry with where it came from."""

    name: str
    value: T
    loc: ir.Loc
    src: Located
    path: tuple[str | int, ...]

    def at(self, *sub: str | int, key: bool = False) -> ir.Loc:
        return self.src.loc((*self.path, *sub), key=key)


@dataclass
class Sections:
    meta: list[Item[m.RuleSetMeta]] = field(default_factory=list)
    sources: dict[str, Item[m.SourceM]] = field(default_factory=dict)
    clauses: dict[str, Item[m.ClauseM]] = field(default_factory=dict)
    notes: dict[str, Item[m.NoteM]] = field(default_factory=dict)
    types: dict[str, Item[m.TypeM]] = field(default_factory=dict)
    inputs: dict[str, Item[m.InputM]] = field(default_factory=dict)
    constraints: dict[str, Item[m.ConstraintM]] = field(default_factory=dict)
    definitions: dict[str, Item[m.DefinitionM]] = field(default_factory=dict)
    outputs: dict[str, Item[m.OutputM]] = field(default_factory=dict)
    parameters: dict[str, Item[m.ParamM]] = field(default_factory=dict)
    options: dict[str, Item[m.OptionM]] = field(default_factory=dict)
    rules: dict[str, Item[m.RuleM]] = field(default_factory=dict)


def rule_files(root: Path) -> list[Path]:
    def skipped(p: Path) -> bool:
        rel = p.relative_to(root)
        return p.name in SKIP_FILES or any(part in SKIP_DIRS for part in rel.parts[:-1])

    return sorted(p for p in root.rglob("*.yaml") if not skipped(p))


def merge(s: Sections, f: m.RuleFile, src: Located) -> None:
    errors: list[RuleError] = []

    def put(table: dict[str, Item[Any]], section: str, name: str, value: Any, path: tuple[str | int, ...]) -> None:
        loc = src.loc(path, key=not isinstance(path[-1], int))
        if name in table:
            first = table[name].loc
            errors.append(
                RuleError(
                    loc, f"{section} '{name}' is defined twice (first at {first})", hint="remove one, or rename it"
                )
            )
        else:
            table[name] = Item(name, value, loc, src, path)

    if f.ruleset is not None:
        s.meta.append(Item("ruleset", f.ruleset, src.loc(("ruleset",), key=True), src, ("ruleset",)))
    for sec in ("sources", "clauses", "types", "inputs", "definitions", "outputs", "parameters", "options"):
        for name, v in getattr(f, sec).items():
            put(getattr(s, sec), sec[:-1], name, v, (sec, name))
    for i, note in enumerate(f.notes):
        put(s.notes, "note", note.id, note, ("notes", i))
    for i, c in enumerate(f.constraints):
        put(s.constraints, "constraint", c.id, c, ("constraints", i))
    for i, r in enumerate(f.rules):
        put(s.rules, "rule", r.id, r, ("rules", i))
    if errors:
        raise RuleErrors(errors)

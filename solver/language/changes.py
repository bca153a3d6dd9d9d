"""The shape of changes.yaml: the changes a new version of a rule set is meant to make, each with
its reason and clauses (what `elig check NEW --against OLD --changes FILE` holds the diff to)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from solver.language.model import Id, Name, StrictModel


class RulesM(StrictModel):
    """The rules deciding the region on each side (an empty list: no rule, the default)."""

    old: list[Id] | None = None
    new: list[Id] | None = None


class ValuesM(StrictModel):
    """The value on each side, as `elig diff` prints it (gap, conflict, unknown, none for no value)."""

    old: str | int | bool | None = None
    new: str | int | bool | None = None


class ChangeM(StrictModel):
    output: Name
    rules: RulesM | None = None
    values: ValuesM | None = None
    member: Name | None = Field(None, description="set outputs: the value whose membership changes")
    reason: str = Field(min_length=1)
    clauses: list[str] = Field(min_length=1)


class ChangesFile(StrictModel):
    changes: list[ChangeM]


def load_changes(path: Path) -> ChangesFile:
    """changes.yaml read through the safe reading layer; every problem a positioned RuleError."""
    from solver.language.loader import validate
    from solver.language.strict_yaml import load

    located = load(path)
    out = validate(located, ChangesFile)
    assert isinstance(out, ChangesFile)
    return out

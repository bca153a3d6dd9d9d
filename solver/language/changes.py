"""The shape of changes.yaml: the changes a new version of a rule set is meant to make, each with
its reason and clauses (what `elig check NEW --against OLD --changes FILE` holds the diff to):
`changes` for decisions, `vocabulary` for what one version names and the other does not (an input
value, a rule's citation), which no decision of a person valid in both versions shows."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

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


class SidesM(StrictModel):
    """What only one version names: `old` only the old version, `new` only the new one."""

    old: list[str] = Field(default_factory=list)
    new: list[str] = Field(default_factory=list)


class VocabularyM(StrictModel):
    """An input's values only one version has (`input` with `values`), or a rule's citations only
    one version gives (`rule` with `cites`)."""

    input: Name | None = None
    values: SidesM | None = None
    rule: Id | None = None
    cites: SidesM | None = None
    reason: str = Field(min_length=1)
    clauses: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_kind(self) -> VocabularyM:
        if (self.input is None) == (self.rule is None):
            raise ValueError("a vocabulary change names either an `input` (with `values`) or a `rule` (with `cites`)")
        sides = self.values if self.input is not None else self.cites
        other = self.cites if self.input is not None else self.values
        if sides is None or other is not None:
            raise ValueError("`input` goes with `values: {old/new: [...]}`, `rule` with `cites: {old/new: [...]}`")
        if not sides.old and not sides.new:
            raise ValueError("the change names nothing: list what only `old` or only `new` names")
        return self


class ChangesFile(StrictModel):
    changes: list[ChangeM] = Field(default_factory=list)
    vocabulary: list[VocabularyM] = Field(default_factory=list)


def load_changes(path: Path) -> ChangesFile:
    """changes.yaml read through the safe reading layer; every problem a positioned RuleError."""
    from solver.language.strict_yaml import load
    from solver.language.validate import validate

    located = load(path)
    out = validate(located, ChangesFile)
    assert isinstance(out, ChangesFile)
    return out

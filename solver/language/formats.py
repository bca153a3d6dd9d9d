"""The shapes of a rule set's side files that are not rule files (properties.yaml, accepted.yaml).
They are read through the same safe YAML layer and strict models as rule files, so every problem
is a RuleError with file:line:col, what was expected and a hint."""

from __future__ import annotations

from pydantic import Field

from solver.language.model import ExprSrc, Id, Name, StrictModel

# ---------------------------------------------------------------- properties.yaml

# Key types a parameter property may range over: int / money / date or an enum type's name.
KeyType = Name


class PropertyM(StrictModel):
    """A drafter's invariant. Over persons: every valid person meeting `assume` makes `prove` true
    (known and true). Over parameter keys (`for` given): wherever the tables it reads have rows."""

    id: Id
    cites: list[str] = Field(min_length=1, description="clause ids the invariant restates")
    quote: str = Field(min_length=1, description="the words of a cited clause it restates, verbatim")
    doc: str = ""
    assume: ExprSrc = True
    prove: ExprSrc
    for_: dict[Name, KeyType] = Field(default_factory=dict, alias="for", description="key name -> type")


class PropertiesFile(StrictModel):
    properties: list[PropertyM] = Field(max_length=10_000)
